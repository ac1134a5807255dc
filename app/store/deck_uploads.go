package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/uploads"
)

// Deck upload statuses. A record is made pending before the first byte goes
// to S3 and made ready once the entry names the key; uploads.Decks.Sweep
// removes pending records (and their objects) that stay pending too long.
const (
	deckPending = "pending"
	deckReady   = "ready"
)

// deckUploadDoc is one deck object's record. Its _id is the object key, so
// every per-deck lookup is by _id (fast on every backend, see DESIGN.md).
type deckUploadDoc struct {
	Key       string     `bson:"_id"`
	Owner     string     `bson:"owner"`
	Status    string     `bson:"status"`
	CreatedAt time.Time  `bson:"created_at"`
	ReadyAt   *time.Time `bson:"ready_at,omitempty"`
}

// deckUploads is the collection; Store has no field for it so that this file
// stays the only one that knows it.
func (s *Store) deckUploads() *mongo.Collection { return s.db.Collection("deck_uploads") }

// ensureDeckUploads creates the collection (so the embedded stack indexes
// its table at start) and the index the sweeper's query filters on.
func (s *Store) ensureDeckUploads(ctx context.Context) error {
	c := s.deckUploads()
	if err := s.db.CreateCollection(ctx, c.Name()); err != nil && !isNamespaceExists(err) {
		return fmt.Errorf("store: create collection %s: %w", c.Name(), err)
	}
	m := mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: 1}}}
	if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
		return fmt.Errorf("store: index on %s: %w", c.Name(), err)
	}
	return nil
}

// AddPending records key as an upload in progress by owner.
func (s *Store) AddPending(ctx context.Context, key, owner string) error {
	d := deckUploadDoc{Key: key, Owner: owner, Status: deckPending, CreatedAt: s.now()}
	if _, err := s.deckUploads().InsertOne(ctx, d); err != nil {
		return unavailable(fmt.Errorf("store: add pending deck %s: %w", key, err))
	}
	return nil
}

// MarkReady marks key's record ready. It is idempotent; a missing record
// (swept, or never made) is models.ErrNotFound. The filter is the bare _id,
// not {_id, status}: only an exact _id filter is fast on FerretDB/SQLite,
// and setting "ready" twice is harmless.
func (s *Store) MarkReady(ctx context.Context, key string) error {
	res, err := s.deckUploads().UpdateOne(ctx, bson.M{"_id": key},
		bson.M{"$set": bson.M{"status": deckReady, "ready_at": s.now()}})
	if err != nil {
		return unavailable(fmt.Errorf("store: mark deck %s ready: %w", key, err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("store: mark deck %s ready: %w", key, models.ErrNotFound)
	}
	return nil
}

// RemovePending deletes key's record whatever its status. Deleting a record
// that is not there is not an error: cleanup may run twice.
func (s *Store) RemovePending(ctx context.Context, key string) error {
	_, err := s.deckUploads().DeleteOne(ctx, bson.M{"_id": key})
	return unavailable(wrap("store: remove deck record "+key, err))
}

// StalePending returns the keys of records still pending that were created
// before the given time and that no entry names, oldest first, at most 1000
// per call (the sweeper takes the rest next time).
//
// A stale record whose key an entry does name is marked ready instead of
// returned: the process died, or MongoDB failed, between attaching the deck
// and confirming it, and sweeping it would leave the entry pointing at a
// deleted object (SECURITY.md 27). Neither filter is by _id, so on
// FerretDB/SQLite each reads its whole collection; they run from the sweeper
// only, and the entries query only when something is stale.
func (s *Store) StalePending(ctx context.Context, before time.Time) ([]string, error) {
	filter := bson.M{"status": deckPending, "created_at": bson.M{"$lt": before.UTC()}}
	opts := options.Find().
		SetProjection(bson.M{"_id": 1}).
		SetSort(bson.D{{Key: "created_at", Value: 1}}).
		SetLimit(1000)
	cur, err := s.deckUploads().Find(ctx, filter, opts)
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: stale deck uploads: %w", err))
	}
	var docs []struct {
		Key string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(fmt.Errorf("store: stale deck uploads: %w", err))
	}
	if len(docs) == 0 {
		return []string{}, nil
	}
	keys := make([]string, len(docs))
	for i, d := range docs {
		keys[i] = d.Key
	}
	named, err := s.decksNamedByEntries(ctx, keys)
	if err != nil {
		return nil, err
	}
	stale := keys[:0]
	for _, k := range keys {
		if !named[k] {
			stale = append(stale, k)
			continue
		}
		if err := s.MarkReady(ctx, k); err != nil {
			return nil, err
		}
	}
	return stale, nil
}

// decksNamedByEntries returns which of keys an entry names as its deck or in
// its deck history.
func (s *Store) decksNamedByEntries(ctx context.Context, keys []string) (map[string]bool, error) {
	filter := bson.M{"$or": bson.A{
		bson.M{"deck.key": bson.M{"$in": keys}},
		bson.M{"deck_history.key": bson.M{"$in": keys}},
	}}
	// Top-level projection only: the dossier text stays on the server.
	opts := options.Find().SetProjection(bson.M{"deck": 1, "deck_history": 1})
	cur, err := s.db.Collection("entries").Find(ctx, filter, opts)
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: entries naming decks: %w", err))
	}
	type deckRef struct {
		Key string `bson:"key"`
	}
	var docs []struct {
		Deck    *deckRef  `bson:"deck"`
		History []deckRef `bson:"deck_history"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(fmt.Errorf("store: entries naming decks: %w", err))
	}
	named := make(map[string]bool)
	for _, d := range docs {
		if d.Deck != nil {
			named[d.Deck.Key] = true
		}
		for _, h := range d.History {
			named[h.Key] = true
		}
	}
	return named, nil
}

// KnownKey reports whether a record, pending or ready, names key. A deck's
// blind copy ("decks/<uuid>.blind", uploads.BlindCopy) has no record of its
// own: it is known while its deck is, so Sweep keeps it as long as the deck
// and removes it once the deck is discarded.
func (s *Store) KnownKey(ctx context.Context, key string) (bool, error) {
	if orig, ok := uploads.OriginalKey(key); ok {
		key = orig
	}
	err := s.deckUploads().FindOne(ctx, bson.M{"_id": key}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	}
	return false, unavailable(fmt.Errorf("store: look up deck %s: %w", key, err))
}
