package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sprout-vn/sprout/models"
)

// Password resets (SECURITY.md 12): the mailed token is shown once; only
// its SHA-256 is stored, as the _id. Redeeming inserts a claim named after
// it first, so two requests with one token cannot both succeed (the
// insert is atomic on every backend); the document is then deleted.

func (s *Store) resets() *mongo.Collection { return s.db.Collection("password_resets") }

type resetDoc struct {
	Hash      string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// CreatePasswordReset makes a single-use reset token for userID valid for
// ttl and returns it (to be mailed; it is not kept).
func (s *Store) CreatePasswordReset(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: reset entropy: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	if _, err := s.resets().InsertOne(ctx, resetDoc{Hash: hashToken(raw), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		return "", unavailable(fmt.Errorf("store: insert reset: %w", err))
	}
	return raw, nil
}

// PasswordResetUser returns the user a live reset token belongs to, or
// models.ErrResetGone.
func (s *Store) PasswordResetUser(ctx context.Context, raw string) (string, error) {
	var d resetDoc
	err := s.resets().FindOne(ctx, bson.M{"_id": hashToken(raw)}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", models.ErrResetGone
	}
	if err != nil {
		return "", unavailable(fmt.Errorf("store: read reset: %w", err))
	}
	if !s.now().Before(d.ExpiresAt) {
		return "", models.ErrResetGone
	}
	return d.UserID, nil
}

// RedeemPasswordReset uses a reset token up: it answers the user id once;
// every later (or concurrent) call gets models.ErrResetGone.
func (s *Store) RedeemPasswordReset(ctx context.Context, raw string) (string, error) {
	uid, err := s.PasswordResetUser(ctx, raw)
	if err != nil {
		return "", err
	}
	h := hashToken(raw)
	if _, err := s.claims().InsertOne(ctx, claimDoc{ID: "password_resets:" + h + ":used", At: s.now()}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return "", models.ErrResetGone
		}
		return "", unavailable(fmt.Errorf("store: claim reset: %w", err))
	}
	if _, err := s.resets().DeleteOne(ctx, bson.M{"_id": h}); err != nil {
		return "", unavailable(fmt.Errorf("store: delete reset: %w", err))
	}
	return uid, nil
}

// SetPassword stores a new password hash and ends every session, API token
// and pending reset of the user (the session epoch moves on).
func (s *Store) SetPassword(ctx context.Context, userID, hash string) error {
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": userID}, bson.M{
		"$set": bson.M{"password_hash": hash, "updated_at": s.now()},
		"$inc": bson.M{"session_epoch": 1},
	})
	if err != nil {
		return unavailable(fmt.Errorf("store: set password: %w", err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("store: set password %s: %w", userID, models.ErrNotFound)
	}
	if _, err := s.resets().DeleteMany(ctx, bson.M{"user_id": userID}); err != nil {
		return unavailable(fmt.Errorf("store: drop resets: %w", err))
	}
	return s.EndUserSessions(ctx, userID)
}

// UpdateProfile saves a person's corrected profile.
func (s *Store) UpdateProfile(ctx context.Context, userID string, p models.Profile) error {
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": userID}, bson.M{"$set": bson.M{
		"name": p.Name, "phone": p.Phone, "birth_year": p.BirthYear, "province": p.Province, "commune": p.Commune,
		"updated_at": s.now(),
	}})
	if err != nil {
		return unavailable(fmt.Errorf("store: update profile: %w", err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("store: update profile %s: %w", userID, models.ErrNotFound)
	}
	return nil
}
