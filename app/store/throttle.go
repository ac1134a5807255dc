package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Login throttling lives in MongoDB so that every instance sees the same
// counts (SECURITY.md 11). An attempt is counted before the password is
// hashed, by inserting one slot document: for a key ("acct:<email>" or
// "ip:<addr>") with a limit of n attempts per window there are n possible
// slot ids, "<key>|<window>|<i>". The unique _id makes each insert an atomic
// claim on every backend (FerretDB v1 has no atomic $inc or upsert), so n
// parallel attempts take the n slots and the rest find none: the limit can
// never be passed, however many requests arrive at once. Windows are fixed
// (aligned on the clock) so that every instance computes the same ids; every
// lookup is by _id.
type throttleSlot struct {
	ID        string    `bson:"_id"`
	Key       string    `bson:"key"`
	At        time.Time `bson:"at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func slotID(key string, window time.Duration, now time.Time, i int) string {
	w := now.UnixNano() / int64(window)
	return key + "|" + strconv.FormatInt(w, 10) + "|" + strconv.Itoa(i)
}

// ClaimAttempt counts one attempt for key in the current window and returns
// its slot id, or ok=false when the key's limit is used up in this window.
func (s *Store) ClaimAttempt(ctx context.Context, key string, limit int, window time.Duration) (string, bool, error) {
	now := s.now()
	wStart := time.Unix(0, now.UnixNano()/int64(window)*int64(window))
	expires := wStart.Add(window)
	for i := 0; i < limit; i++ {
		id := slotID(key, window, now, i)
		_, err := s.throttle.InsertOne(ctx, throttleSlot{ID: id, Key: key, At: now, ExpiresAt: expires})
		if err == nil {
			return id, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return "", false, unavailable(fmt.Errorf("store: throttle claim %s: %w", key, err))
		}
	}
	return "", false, nil
}

// ReleaseAttempt gives a slot back (the attempt succeeded and should not
// count against a shared client address).
func (s *Store) ReleaseAttempt(ctx context.Context, slot string) error {
	if slot == "" {
		return nil
	}
	_, err := s.throttle.DeleteOne(ctx, bson.M{"_id": slot})
	return unavailable(wrap("store: throttle release", err))
}

// ClearAttempts forgets every attempt counted for key in the current window
// (after a good sign-in to the account). Each slot is deleted by _id.
func (s *Store) ClearAttempts(ctx context.Context, key string, limit int, window time.Duration) error {
	now := s.now()
	for i := 0; i < limit; i++ {
		if _, err := s.throttle.DeleteOne(ctx, bson.M{"_id": slotID(key, window, now, i)}); err != nil {
			return unavailable(fmt.Errorf("store: throttle clear %s: %w", key, err))
		}
	}
	return nil
}

// Attempts counts the slots taken for key in the current window (tests and
// the admin view), reading each slot by _id.
func (s *Store) Attempts(ctx context.Context, key string, limit int, window time.Duration) (int, error) {
	now := s.now()
	n := 0
	for i := 0; i < limit; i++ {
		err := s.throttle.FindOne(ctx, bson.M{"_id": slotID(key, window, now, i)}).Err()
		switch {
		case err == nil:
			n++
		case errors.Is(err, mongo.ErrNoDocuments):
		default:
			return 0, unavailable(fmt.Errorf("store: throttle count %s: %w", key, err))
		}
	}
	return n, nil
}
