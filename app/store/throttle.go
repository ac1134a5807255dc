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

// Login throttling lives in MongoDB so that every instance sees the same
// counts (SECURITY.md 11). One document per key ("acct:<email>" or
// "ip:<addr>"), read by _id.
type throttleDoc struct {
	Key       string    `bson:"_id"`
	Count     int       `bson:"count"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// Failures returns the failed attempts counted for key in its live window.
func (s *Store) Failures(ctx context.Context, key string) (int, error) {
	var d throttleDoc
	err := s.throttle.FindOne(ctx, bson.M{"_id": key}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: throttle %s: %w", key, err))
	}
	if !s.now().Before(d.ExpiresAt) {
		return 0, nil
	}
	return d.Count, nil
}

// AddFailure counts one failed attempt for key; a window opens at the first
// failure and lasts window.
func (s *Store) AddFailure(ctx context.Context, key string, window time.Duration) error {
	now := s.now()
	// Inside a live window: increment.
	res, err := s.throttle.UpdateOne(ctx,
		bson.M{"_id": key, "expires_at": bson.M{"$gt": now}},
		bson.M{"$inc": bson.M{"count": 1}})
	if err != nil {
		return unavailable(fmt.Errorf("store: throttle inc %s: %w", key, err))
	}
	if res.MatchedCount > 0 {
		return nil
	}
	// No window or an expired one: start a new window.
	_, err = s.throttle.ReplaceOne(ctx, bson.M{"_id": key},
		throttleDoc{Key: key, Count: 1, ExpiresAt: now.Add(window)}, options.Replace().SetUpsert(true))
	return unavailable(wrap("store: throttle start "+key, err))
}

// ClearFailures forgets key's failures (after a good login).
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	_, err := s.throttle.DeleteOne(ctx, bson.M{"_id": key})
	return unavailable(wrap("store: throttle clear "+key, err))
}
