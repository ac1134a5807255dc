package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

// emailClaim maps a normalised e-mail to its user. Its _id is the e-mail, so
// sign-in looks users up by _id (fast on every backend, see DESIGN.md) and
// the _id uniqueness makes e-mails unique without a transaction.
type emailClaim struct {
	Email     string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// orphanAge is how old an e-mail claim without a user must be before a new
// registration may take it over (a crash between the two inserts).
const orphanAge = time.Minute

// CreateUser inserts u, assigning its ID and timestamps. A taken e-mail
// returns models.ErrEmailTaken.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	now := s.now()
	u.ID = uuid.NewString()
	u.Email = models.NormalizeEmail(u.Email)
	u.CreatedAt, u.UpdatedAt = now, now
	claim := emailClaim{Email: u.Email, UserID: u.ID, CreatedAt: now}
	if _, err := s.emails.InsertOne(ctx, claim); err != nil {
		if !mongo.IsDuplicateKeyError(err) {
			return unavailable(fmt.Errorf("store: claim email: %w", err))
		}
		if err := s.takeOverOrphan(ctx, claim); err != nil {
			return err
		}
	}
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		// Release the claim so the address is not blocked by a failed insert.
		_, _ = s.emails.DeleteOne(ctx, bson.M{"_id": u.Email, "user_id": u.ID})
		if mongo.IsDuplicateKeyError(err) {
			return models.ErrEmailTaken
		}
		return unavailable(fmt.Errorf("store: insert user: %w", err))
	}
	return nil
}

// takeOverOrphan re-points an e-mail claim whose user was never written.
func (s *Store) takeOverOrphan(ctx context.Context, claim emailClaim) error {
	var old emailClaim
	if err := s.emails.FindOne(ctx, bson.M{"_id": claim.Email}).Decode(&old); err != nil {
		return unavailable(fmt.Errorf("store: read email claim: %w", notFound(err)))
	}
	n, err := s.users.CountDocuments(ctx, bson.M{"_id": old.UserID})
	if err != nil {
		return unavailable(fmt.Errorf("store: check claim owner: %w", err))
	}
	if n > 0 || s.now().Sub(old.CreatedAt) < orphanAge {
		return models.ErrEmailTaken
	}
	res, err := s.emails.UpdateOne(ctx, bson.M{"_id": claim.Email, "user_id": old.UserID},
		bson.M{"$set": bson.M{"user_id": claim.UserID, "created_at": claim.CreatedAt}})
	if err != nil {
		return unavailable(fmt.Errorf("store: take over email claim: %w", err))
	}
	if res.ModifiedCount == 0 {
		return models.ErrEmailTaken
	}
	return nil
}

// UserByID returns the user with id.
func (s *Store) UserByID(ctx context.Context, id string) (*models.User, error) {
	var u models.User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&u); err != nil {
		return nil, unavailable(fmt.Errorf("store: user %s: %w", id, notFound(err)))
	}
	return &u, nil
}

// UserByEmail returns the user registered with email (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	var c emailClaim
	if err := s.emails.FindOne(ctx, bson.M{"_id": models.NormalizeEmail(email)}).Decode(&c); err != nil {
		return nil, unavailable(fmt.Errorf("store: email claim: %w", notFound(err)))
	}
	return s.UserByID(ctx, c.UserID)
}

// ListUsers returns users newest first, at most limit.
func (s *Store) ListUsers(ctx context.Context, limit int64) ([]models.User, error) {
	cur, err := s.users.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list users: %w", err))
	}
	var out []models.User
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: list users: %w", err))
	}
	return out, nil
}

// SetUserDisabled disables or re-enables a user. Disabling moves the user's
// session epoch on and deletes their sessions and API tokens, so every old
// cookie and token is useless at once, even after the account is enabled
// again (SECURITY.md 14).
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	set := bson.M{"disabled": disabled, "updated_at": s.now()}
	update := bson.M{"$set": set}
	if disabled {
		set["disabled_at"] = s.now()
		update["$inc"] = bson.M{"session_epoch": 1}
	}
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": id}, update)
	if err != nil {
		return unavailable(fmt.Errorf("store: disable user %s: %w", id, err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("store: disable user %s: %w", id, models.ErrNotFound)
	}
	if disabled {
		return s.EndUserSessions(ctx, id)
	}
	return nil
}

// EndUserSessions deletes every session and API token of a user. The epoch
// bump that comes with it is what makes this hold against a session saved
// concurrently; the deletes keep the store from holding dead credentials.
func (s *Store) EndUserSessions(ctx context.Context, id string) error {
	if _, err := s.tokens.DeleteMany(ctx, bson.M{"user_id": id}); err != nil {
		return unavailable(fmt.Errorf("store: revoke tokens of %s: %w", id, err))
	}
	if _, err := s.sessions.DeleteMany(ctx, bson.M{"user_id": id}); err != nil {
		return unavailable(fmt.Errorf("store: end sessions of %s: %w", id, err))
	}
	return nil
}
