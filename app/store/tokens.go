package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/models"
)

// Only a token's SHA-256 is stored (as _id, so lookups are by _id): a copy of
// the database does not hand out working tokens.
type tokenDoc struct {
	Hash      string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Epoch     int64     `bson:"epoch"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// CreateToken issues an API token for userID valid for ttl and returns the
// raw token (shown once) and its expiry. epoch is the user's session epoch:
// the token stops working when the epoch moves on (account disabled,
// password changed).
func (s *Store) CreateToken(ctx context.Context, userID string, epoch int64, ttl time.Duration) (string, time.Time, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("store: token entropy: %w", err)
	}
	raw := "spr_" + base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	d := tokenDoc{Hash: hashToken(raw), UserID: userID, Epoch: epoch, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if _, err := s.tokens.InsertOne(ctx, d); err != nil {
		return "", time.Time{}, unavailable(fmt.Errorf("store: insert token: %w", err))
	}
	return raw, d.ExpiresAt, nil
}

// TokenUser returns the user ID a live token belongs to and the session
// epoch it was issued under.
func (s *Store) TokenUser(ctx context.Context, raw string) (string, int64, error) {
	var d tokenDoc
	if err := s.tokens.FindOne(ctx, bson.M{"_id": hashToken(raw)}).Decode(&d); err != nil {
		return "", 0, unavailable(fmt.Errorf("store: token: %w", notFound(err)))
	}
	if !s.now().Before(d.ExpiresAt) {
		return "", 0, fmt.Errorf("store: token expired: %w", models.ErrNotFound)
	}
	return d.UserID, d.Epoch, nil
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, raw string) error {
	_, err := s.tokens.DeleteOne(ctx, bson.M{"_id": hashToken(raw)})
	return unavailable(wrap("store: delete token", err))
}
