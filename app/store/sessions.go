package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SessionStorage adapts the sessions collection to fiber.Storage, so Fiber's
// session middleware keeps sessions in MongoDB: they survive restarts and
// are shared by every instance. Expiry is an expires_at field checked on
// read plus a sweeper, because FerretDB v1 has no TTL indexes.
type SessionStorage struct {
	s       *Store
	timeout time.Duration
}

type sessionDoc struct {
	ID        string    `bson:"_id"`
	Data      []byte    `bson:"data"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// Sessions returns the fiber.Storage over the sessions collection.
func (s *Store) Sessions() *SessionStorage { return &SessionStorage{s: s, timeout: 10 * time.Second} }

// fiber.Storage has no context parameter, so each call gets its own timeout.
func (ss *SessionStorage) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), ss.timeout)
}

// Get returns the session data, or nil, nil when absent or expired (the
// contract of fiber.Storage).
func (ss *SessionStorage) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	var d sessionDoc
	if err := ss.s.sessions.FindOne(ctx, bson.M{"_id": key}).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, nil
		}
		return nil, unavailable(fmt.Errorf("store: get session: %w", err))
	}
	if !d.ExpiresAt.IsZero() && !ss.s.now().Before(d.ExpiresAt) {
		return nil, nil
	}
	return d.Data, nil
}

// Set stores data under key for exp (0 = a day; sessions never live forever).
func (ss *SessionStorage) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	d := sessionDoc{ID: key, Data: val, ExpiresAt: ss.s.now().Add(exp)}
	_, err := ss.s.sessions.ReplaceOne(ctx, bson.M{"_id": key}, d, options.Replace().SetUpsert(true))
	return unavailable(wrap("store: set session", err))
}

// Delete removes the session key.
func (ss *SessionStorage) Delete(key string) error {
	ctx, cancel := ss.ctx()
	defer cancel()
	_, err := ss.s.sessions.DeleteOne(ctx, bson.M{"_id": key})
	return unavailable(wrap("store: delete session", err))
}

// Reset removes every session.
func (ss *SessionStorage) Reset() error {
	ctx, cancel := ss.ctx()
	defer cancel()
	_, err := ss.s.sessions.DeleteMany(ctx, bson.M{})
	return unavailable(wrap("store: reset sessions", err))
}

// Close is a no-op: the Store owns the connection.
func (ss *SessionStorage) Close() error { return nil }

// SweepExpired deletes expired sessions, tokens and throttle windows, and
// returns how many documents went.
func (s *Store) SweepExpired(ctx context.Context) (int64, error) {
	var total int64
	filter := bson.M{"expires_at": bson.M{"$lt": s.now()}}
	for _, c := range []string{"sessions", "tokens", "login_throttle"} {
		res, err := s.db.Collection(c).DeleteMany(ctx, filter)
		if err != nil {
			return total, unavailable(fmt.Errorf("store: sweep %s: %w", c, err))
		}
		total += res.DeletedCount
	}
	return total, nil
}

func wrap(msg string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", msg, err)
}
