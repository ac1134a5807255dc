package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sprout-vn/sprout/models"
)

// Why claims exist: FerretDB v1 runs an update as a query, a change made in
// Go, and an unconditional write by _id (internal/handler/msg_update.go and
// backends/sqlite/collection.go UpdateAll). Two "conditional" updates sent
// at once can therefore both match and both write; a test sending two
// submits at once saw two confirmation e-mails. An insert, though, is
// atomic against the _id primary key on every backend. So before moving a
// document from version v, a writer inserts the claim "<collection>:<id>:<v>";
// only one writer can, the others get models.ErrStale. The update itself
// stays conditional on the version, so MongoDB is doubly safe.

type claimDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// staleClaim is how old a claim must be before it is presumed abandoned by
// a writer that died between its claim and its update.
const staleClaim = 30 * time.Second

func (s *Store) claims() *mongo.Collection { return s.db.Collection("write_claims") }

// claimVersion makes the caller the only writer allowed to move coll/id
// from version v, or returns models.ErrStale.
func (s *Store) claimVersion(ctx context.Context, coll, id string, v int, current func() (int, error)) error {
	return s.claimVersionStale(ctx, coll, id, v, current, staleClaim)
}

// claimVersionStale is claimVersion with the age after which a claim is
// presumed abandoned.
func (s *Store) claimVersionStale(ctx context.Context, coll, id string, v int, current func() (int, error), stale time.Duration) error {
	key := fmt.Sprintf("%s:%s:%d", coll, id, v)
	for attempt := 0; attempt < 2; attempt++ {
		_, err := s.claims().InsertOne(ctx, claimDoc{ID: key, At: s.now()})
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return unavailable(fmt.Errorf("store: claim %s: %w", key, err))
		}
		// Taken. If the claim is old and the document never moved on, its
		// writer died: release it and try once more.
		var c claimDoc
		if err := s.claims().FindOne(ctx, bson.M{"_id": key}).Decode(&c); err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue
			}
			return unavailable(fmt.Errorf("store: read claim %s: %w", key, err))
		}
		if s.now().Sub(c.At) < stale {
			return models.ErrStale
		}
		cur, err := current()
		if err != nil {
			return err
		}
		if cur != v {
			return models.ErrStale
		}
		if _, err := s.claims().DeleteOne(ctx, bson.M{"_id": key, "at": c.At}); err != nil {
			return unavailable(fmt.Errorf("store: release claim %s: %w", key, err))
		}
	}
	return models.ErrStale
}

// SweepClaims removes claims older than an hour: by then their documents
// have long moved past the claimed version.
func (s *Store) SweepClaims(ctx context.Context) (int64, error) {
	res, err := s.claims().DeleteMany(ctx, bson.M{"at": bson.M{"$lt": s.now().Add(-time.Hour)}})
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: sweep claims: %w", err))
	}
	return res.DeletedCount, nil
}
