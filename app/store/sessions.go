package store

import (
	"bytes"
	"context"
	"encoding/gob"
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

// The _id is the SHA-256 of the session id, never the id itself: a copy of
// the store hands out no working cookie (as with API tokens). user_id lets
// disabling an account end every one of its sessions at once.
type sessionDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id,omitempty"`
	Data      []byte    `bson:"data"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// SessionUserKey is the session value that names the signed-in user; Set
// copies it into the document's user_id.
const SessionUserKey = "uid"

// sessionUser reads the signed-in user's id out of Fiber's gob-encoded
// session data ("" when none or undecodable: user_id is only an index for
// ending sessions early; the session's epoch check does not depend on it).
func sessionUser(data []byte) string {
	var m map[string]interface{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return ""
	}
	uid, _ := m[SessionUserKey].(string)
	return uid
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
	if err := ss.s.sessions.FindOne(ctx, bson.M{"_id": hashToken(key)}).Decode(&d); err != nil {
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
	d := sessionDoc{ID: hashToken(key), UserID: sessionUser(val), Data: val, ExpiresAt: ss.s.now().Add(exp)}
	_, err := ss.s.sessions.ReplaceOne(ctx, bson.M{"_id": d.ID}, d, options.Replace().SetUpsert(true))
	return unavailable(wrap("store: set session", err))
}

// Delete removes the session key.
func (ss *SessionStorage) Delete(key string) error {
	ctx, cancel := ss.ctx()
	defer cancel()
	_, err := ss.s.sessions.DeleteOne(ctx, bson.M{"_id": hashToken(key)})
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
	for _, c := range []string{"sessions", "tokens", "login_throttle", "password_resets"} {
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
