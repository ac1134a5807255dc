package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Conditional updates and FerretDB.
//
// FerretDB v1 runs a query on an index only when its filter is exactly
// {_id: value} (backends/sqlite/collection.go: the pushdown needs
// Filter.Len() == 1). Any other filter, such as the {_id, version, status}
// of a versioned update, reads and decodes every document of the
// collection. sproutbench found it: with 65 applicants instead of 17, the
// database time of a deck upload doubled, because attaching the deck
// scanned all entries (docs/BENCHMARKS.md).
//
// Every versioned write first claims its version (claimVersion), so on
// FerretDB updateIf reads the document by _id, checks the conditions
// itself and updates by _id: no other claimed writer can change the
// document in between (FerretDB's own update is not atomic either: it
// reads, changes the document in Go and writes it back). On MongoDB the
// conditions stay in the filter, where the server applies them atomically.

// onFerretDB reports whether the server is FerretDB, asking it once.
func (s *Store) onFerretDB(ctx context.Context) (bool, error) {
	s.serverMu.Lock()
	defer s.serverMu.Unlock()
	if s.serverKnown {
		return s.ferret, nil
	}
	var info bson.M
	if err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, unavailable(fmt.Errorf("store: buildInfo: %w", err))
	}
	_, s.ferret = info["ferretdbVersion"]
	s.serverKnown = true
	return s.ferret, nil
}

// serverKind caches what onFerretDB learnt.
type serverKind struct {
	serverMu    sync.Mutex
	serverKnown bool
	ferret      bool
}

// updateIf applies update to the document of coll with _id id if each
// field of cond has the given value (a scalar), and reports whether it
// did. The caller must hold the version claim named by cond's version.
func (s *Store) updateIf(ctx context.Context, coll *mongo.Collection, id string, cond bson.M, update bson.M) (bool, error) {
	ferret, err := s.onFerretDB(ctx)
	if err != nil {
		return false, err
	}
	if !ferret {
		filter := bson.M{"_id": id}
		for k, v := range cond {
			filter[k] = v
		}
		res, err := coll.UpdateOne(ctx, filter, update)
		if err != nil {
			return false, err
		}
		return res.MatchedCount > 0, nil
	}
	proj := bson.M{}
	for k := range cond {
		proj[k] = 1
	}
	var doc bson.M
	err = coll.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(proj)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for k, want := range cond {
		if !sameValue(doc[k], want) {
			return false, nil
		}
	}
	res, err := coll.UpdateOne(ctx, bson.M{"_id": id}, update)
	if err != nil {
		return false, err
	}
	return res.MatchedCount > 0, nil
}

// sameValue compares a decoded BSON scalar with a condition's value:
// numbers by value whatever their width, strings (and string types such as
// models.EntryStatus) by text.
func sameValue(got, want any) bool {
	if g, ok := asInt(got); ok {
		w, ok := asInt(want)
		return ok && g == w
	}
	if g, ok := got.(string); ok {
		return g == fmt.Sprint(want)
	}
	return false
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}
