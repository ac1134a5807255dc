package store

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

// Derived documents (docs/DATA.md).
//
// FerretDB v1 on SQLite reads and decodes the whole collection for any
// filter other than exactly {_id: …}, so no page may filter entries on
// another field. Pages read instead small documents derived from the
// entries, each found by an _id the app can compute:
//
//   - entry_lists "<competitionID>:<n>", n = fnv32(entryID) mod listBuckets:
//     one row per entry of the competition (what the staff list and the CSV
//     show); the staff list reads the listBuckets documents of a competition
//     by _id and nothing else.
//   - user_entries "<userID>": one row per entry the user leads (the
//     account page and "my entry in this competition").
//
// Every row carries the version of the entry it was made from. A write
// changes the entry first, then the rows (putRows): a row only ever moves
// to a higher version, under a claim on the derived document's own version
// (FerretDB's updates are not atomic; see claims.go), so concurrent writers
// and late writers cannot make a row go back. A crash between the two
// writes leaves a row behind; the entry write's claim in write_claims says
// which entry to look at, and RepairRecent (every repairInterval in every
// instance) and RebuildDerived (at start) bring the rows up to date.

// listBuckets is how many entry_lists documents a competition has: each
// list reads them all (a find costs ~1 ms of CPU in embedded FerretDB,
// whatever its size), each write rewrites one (so writes to one
// competition queue on listBuckets documents). A row takes ~100 bytes in
// the compact codec before deflating: 10,000 entries make ~500 KB per
// document, and 2 buckets reach MongoDB's 16 MB limit at ~300,000 entries
// even uncompressed.
const listBuckets = 2

// derivedDoc is the shape of both derived collections, in memory. In the
// database its rows are one binary value (BSON of the rows, sorted by
// entry id), not a sub-document per row: FerretDB v1 decodes every field
// of a document on each read, at a cost per field (sproutbench: a bucket of
// 62 rows stored as sub-documents took 5.7 ms to read by _id, one ~1 KB
// entry 0.7 ms), while one binary value costs it next to nothing.
type derivedDoc[R versioned] struct {
	ID      string
	Owner   string // competition or user id
	Version int
	Rows    map[string]R // by entry id
}

// derivedWire is derivedDoc as stored.
type derivedWire struct {
	ID      string        `bson:"_id"`
	Owner   string        `bson:"owner"`
	Version int           `bson:"version"`
	N       int           `bson:"n"` // rows, for people reading the database
	Rows    bson.RawValue `bson:"rows"`
}

type rowList[R any] struct {
	R []R `bson:"r"`
}

// encodeRows is the stored form of rows.
func encodeRows[R versioned](rows map[string]R) (bson.Binary, error) {
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	l := rowList[R]{R: make([]R, 0, len(rows))}
	for _, k := range keys {
		l.R = append(l.R, rows[k])
	}
	sub := byte(deflatedBSON)
	var b []byte
	if lr, ok := any(l.R).([]models.ListRow); ok {
		sub, b = deflatedListRows, appendListRows(nil, lr)
	} else {
		var err error
		if b, err = bson.Marshal(l); err != nil {
			return bson.Binary{}, err
		}
	}
	// Deflated: rows repeat their field names and much of their text, so
	// the value shrinks ~4×, and FerretDB's cost of a read follows the
	// size of the stored JSON (it scans the base64 text of the value).
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		return bson.Binary{}, err
	}
	if err := zw.Close(); err != nil {
		return bson.Binary{}, err
	}
	return bson.Binary{Subtype: sub, Data: buf.Bytes()}, nil
}

// Binary subtypes (the user-defined range) of stored rows: deflated BSON
// ({r: [rows]}), and deflated list rows in the compact codec of
// rowcodec.go.
const (
	deflatedBSON     = 0x80
	deflatedListRows = 0x81
)

// decodeRows reads what encodeRows made.
func decodeRows[R versioned](sub byte, data []byte) ([]R, error) {
	if sub != deflatedBSON && sub != deflatedListRows {
		return nil, fmt.Errorf("binary subtype %#x", sub)
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	if sub == deflatedListRows {
		lr, err := readListRows(b)
		if err != nil {
			return nil, err
		}
		rows, ok := any(lr).([]R)
		if !ok {
			return nil, fmt.Errorf("list rows in a document of another kind")
		}
		return rows, nil
	}
	var l rowList[R]
	if err := bson.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	return l.R, nil
}

// MarshalBSON stores the rows as one binary value.
func (d derivedDoc[R]) MarshalBSON() ([]byte, error) {
	blob, err := encodeRows(d.Rows)
	if err != nil {
		return nil, err
	}
	return bson.Marshal(bson.D{{Key: "_id", Value: d.ID}, {Key: "owner", Value: d.Owner}, {Key: "version", Value: d.Version},
		{Key: "n", Value: len(d.Rows)}, {Key: "rows", Value: blob}})
}

// UnmarshalBSON reads what MarshalBSON stored. Rows in any other form are
// taken as none, so that the next write or the rebuild replaces them.
func (d *derivedDoc[R]) UnmarshalBSON(b []byte) error {
	var w derivedWire
	if err := bson.Unmarshal(b, &w); err != nil {
		return err
	}
	d.ID, d.Owner, d.Version, d.Rows = w.ID, w.Owner, w.Version, map[string]R{}
	if sub, data, ok := w.Rows.BinaryOK(); ok {
		rows, err := decodeRows[R](sub, data)
		if err != nil {
			return fmt.Errorf("store: derived rows of %s: %w", w.ID, err)
		}
		for _, r := range rows {
			d.Rows[r.RowID()] = r
		}
	}
	return nil
}

func (s *Store) entryLists() *mongo.Collection  { return s.db.Collection("entry_lists") }
func (s *Store) userEntries() *mongo.Collection { return s.db.Collection("user_entries") }

// listBucketID names the entry_lists document that holds entryID's row.
func listBucketID(compID, entryID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(entryID))
	return fmt.Sprintf("%s:%d", compID, h.Sum32()%listBuckets)
}

func listRowOf(e *models.Entry) models.ListRow {
	parts := []string{e.Title, e.LeaderName, e.Commune}
	for _, m := range e.Team {
		parts = append(parts, m.Name)
	}
	r := models.ListRow{ID: e.ID, Version: e.Version, Title: e.Title, LeaderName: e.LeaderName, Status: e.Status,
		Track: e.Track, Sector: e.Sector, Stage: e.Stage, Commune: e.Commune, WomenLed: e.WomenLed,
		Search: models.Fold(strings.Join(parts, " ")), FundingNeed: e.FundingNeed, TeamSize: len(e.Team) + 1,
		SubmittedAt: e.SubmittedAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if e.Deck != nil {
		r.Deck = e.Deck.Filename
	}
	return r
}

func userRowOf(e *models.Entry) models.UserRow {
	return models.UserRow{ID: e.ID, Version: e.Version, CompetitionID: e.CompetitionID, Title: e.Title, Status: e.Status,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// versioned is a row with the entry version it was made from.
type versioned interface {
	RowVersion() int
	RowID() string
}

// afterEntryWrite brings the derived rows of entry id up to date after a
// write to it. The entry's write has happened, so a failure here is not
// the caller's: it is logged and left to RepairRecent (the entry's claim
// names it) and RebuildDerived.
func (s *Store) afterEntryWrite(ctx context.Context, id string) {
	e, err := s.EntryByID(ctx, id)
	if err != nil {
		s.logger().Warn("derived entry rows left for repair", "entry", id, "err", err)
		return
	}
	s.afterEntryWritten(ctx, e)
}

// afterEntryWritten is afterEntryWrite for an entry the caller holds.
func (s *Store) afterEntryWritten(ctx context.Context, e *models.Entry) {
	if f, ok := crashHooks.Load(s); ok && f.(func(*models.Entry) bool)(e) {
		return // a simulated crash between the two writes
	}
	if err := s.syncDerived(ctx, e); err != nil {
		s.logger().Warn("derived entry rows left for repair", "entry", e.ID, "err", err)
	}
}

// syncDerived writes e's rows into its list bucket and its leader's
// document, unless they already hold e's version or a later one.
func (s *Store) syncDerived(ctx context.Context, e *models.Entry) error {
	err1 := putRows(ctx, s, s.entryLists(), listBucketID(e.CompetitionID, e.ID), e.CompetitionID, map[string]models.ListRow{e.ID: listRowOf(e)})
	err2 := putRows(ctx, s, s.userEntries(), e.LeaderID, e.LeaderID, map[string]models.UserRow{e.ID: userRowOf(e)})
	return errors.Join(err1, err2)
}

// crashHooks holds, per store, the tests' SimulateCrashBeforeDerived.
var crashHooks sync.Map

// loggers holds, per store, where the derived-row warnings go.
var loggers sync.Map

// SetLogger sends s's warnings about derived rows left for repair to l
// (default: slog.Default()).
func SetLogger(s *Store, l *slog.Logger) { loggers.Store(s, l) }

func (s *Store) logger() *slog.Logger {
	if l, ok := loggers.Load(s); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}

// SimulateCrashBeforeDerived is for tests: while crash(e) answers true,
// the writes of s behave as if the process died right after writing entry
// e and before writing its derived rows (nil removes the hook).
func SimulateCrashBeforeDerived(s *Store, crash func(e *models.Entry) bool) {
	if crash == nil {
		crashHooks.Delete(s)
		return
	}
	crashHooks.Store(s, crash)
}

// putRows sets the given rows of document id of coll, each only if the
// stored row is older (lower version) or missing. unset lists rows to
// remove. It claims the document's version first, like every versioned
// write, and retries when another writer got there first.
func putRows[R versioned](ctx context.Context, s *Store, coll *mongo.Collection, id, owner string, rows map[string]R, unset ...string) error {
	for attempt := 0; attempt < 60; attempt++ {
		var d derivedDoc[R]
		err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			if len(rows) == 0 {
				return nil
			}
			_, err := coll.InsertOne(ctx, derivedDoc[R]{ID: id, Owner: owner, Version: 1, Rows: rows})
			if err == nil {
				return nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return unavailable(fmt.Errorf("store: insert %s %s: %w", coll.Name(), id, err))
			}
			continue
		}
		if err != nil {
			return unavailable(fmt.Errorf("store: read %s %s: %w", coll.Name(), id, err))
		}
		next := make(map[string]R, len(d.Rows)+len(rows))
		for k, r := range d.Rows {
			next[k] = r
		}
		changed := false
		for k, r := range rows {
			if old, ok := d.Rows[k]; !ok || old.RowVersion() < r.RowVersion() {
				next[k], changed = r, true
			}
		}
		for _, k := range unset {
			if _, ok := next[k]; ok {
				delete(next, k)
				changed = true
			}
		}
		if !changed {
			return nil
		}
		blob, err := encodeRows(next)
		if err != nil {
			return fmt.Errorf("store: encode %s %s: %w", coll.Name(), id, err)
		}
		current := func() (int, error) {
			var v derivedWire
			if err := coll.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"version": 1})).Decode(&v); err != nil {
				return 0, unavailable(fmt.Errorf("store: read %s %s: %w", coll.Name(), id, notFound(err)))
			}
			return v.Version, nil
		}
		if err := s.claimVersionStale(ctx, coll.Name(), id, d.Version, current, staleDerivedClaim); err != nil {
			if errors.Is(err, models.ErrStale) {
				backoff(ctx, attempt)
				continue
			}
			return err
		}
		upd := bson.M{"$set": bson.M{"rows": blob, "n": len(next)}, "$inc": bson.M{"version": 1}}
		matched, err := s.updateIf(ctx, coll, id, bson.M{"version": d.Version}, upd)
		if err != nil {
			return unavailable(fmt.Errorf("store: update %s %s: %w", coll.Name(), id, err))
		}
		if matched {
			return nil
		}
	}
	return fmt.Errorf("store: %s %s: %w", coll.Name(), id, models.ErrStale)
}

// staleDerivedClaim is how old a claim on a derived document must be to be
// presumed abandoned. A writer holds it for a read and an update
// (milliseconds), so a short time keeps a crash from blocking a
// competition's list for long. Should a live writer be slower than that
// and overwrite a newer row, the repair of recent writes, which re-checks
// every entry written in the last pass, puts the row right.
const staleDerivedClaim = 5 * time.Second

// backoff waits a little, more after each failed attempt, with jitter so
// that writers that collided do not collide again.
func backoff(ctx context.Context, attempt int) {
	d := time.Duration(1+min(attempt, 10)) * time.Millisecond
	d += time.Duration(rand.Int64N(int64(d)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// repairLeader finds the entry leaderID leads in compID the slow way (a
// filter on two fields) and repairs its rows. It runs only when creating
// an entry found one already there, which after a crash may be missing
// from the derived documents.
func (s *Store) repairLeader(ctx context.Context, compID, leaderID string) {
	var e models.Entry
	err := s.entries().FindOne(ctx, bson.M{"competition_id": compID, "leader_id": leaderID}, options.FindOne().SetProjection(listProjection)).Decode(&e)
	if err == nil {
		err = s.syncDerived(ctx, &e)
	}
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		s.logger().Warn("repair derived rows of an existing entry", "competition", compID, "leader", leaderID, "err", err)
	}
}

// RepairRecent brings up to date the derived rows of every entry written
// since since: each entry write claims "entries:<id>:<version>" first, so
// the claims (kept an hour) name every entry a crash may have left behind
// its rows. It returns how many entries it checked. Run by every instance
// every repairInterval; the work is idempotent.
func (s *Store) RepairRecent(ctx context.Context, since time.Time) (int, error) {
	cur, err := s.claims().Find(ctx, bson.M{"at": bson.M{"$gte": since}})
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: recent claims: %w", err))
	}
	var claims []claimDoc
	if err := cur.All(ctx, &claims); err != nil {
		return 0, unavailable(fmt.Errorf("store: recent claims: %w", err))
	}
	seen := map[string]bool{}
	var errs []error
	for _, c := range claims {
		rest, ok := strings.CutPrefix(c.ID, "entries:")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, ':')
		if i < 0 || seen[rest[:i]] {
			continue
		}
		id := rest[:i]
		seen[id] = true
		e, err := s.EntryByID(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			continue // a creation that never happened (or was erased)
		}
		if err == nil {
			err = s.syncDerived(ctx, e)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return len(seen), errors.Join(errs...)
}

// RebuildDerived makes every derived row true from the entries: run at
// start, it builds them for a data directory made before they existed
// (the migration) and repairs whatever a crash left behind. It reads each
// collection once, then writes only the documents that differ, so a second
// run writes nothing. It returns how many documents it wrote.
func (s *Store) RebuildDerived(ctx context.Context) (int, error) {
	lists := map[string]map[string]models.ListRow{}
	listOwner := map[string]string{}
	users := map[string]map[string]models.UserRow{}
	cur, err := s.entries().Find(ctx, bson.M{}, options.Find().SetProjection(listProjection))
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: rebuild: read entries: %w", err))
	}
	for cur.Next(ctx) {
		var e models.Entry
		if err := cur.Decode(&e); err != nil {
			_ = cur.Close(ctx)
			return 0, fmt.Errorf("store: rebuild: decode entry: %w", err)
		}
		b := listBucketID(e.CompetitionID, e.ID)
		if lists[b] == nil {
			lists[b], listOwner[b] = map[string]models.ListRow{}, e.CompetitionID
		}
		lists[b][e.ID] = listRowOf(&e)
		if users[e.LeaderID] == nil {
			users[e.LeaderID] = map[string]models.UserRow{}
		}
		users[e.LeaderID][e.ID] = userRowOf(&e)
	}
	if err := cur.Err(); err != nil {
		return 0, unavailable(fmt.Errorf("store: rebuild: read entries: %w", err))
	}
	_ = cur.Close(ctx)
	n1, err1 := rebuildColl(ctx, s, s.entryLists(), lists, listOwner)
	n2, err2 := rebuildColl(ctx, s, s.userEntries(), users, nil)
	return n1 + n2, errors.Join(err1, err2)
}

// rebuildColl compares want (document id → rows) with what coll holds and
// fixes the documents that differ. A row whose entry was not seen is
// removed only if the entry is really gone (it may have been created after
// the scan).
func rebuildColl[R versioned](ctx context.Context, s *Store, coll *mongo.Collection, want map[string]map[string]R, owner map[string]string) (int, error) {
	have := map[string]derivedDoc[R]{}
	cur, err := coll.Find(ctx, bson.M{})
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: rebuild: read %s: %w", coll.Name(), err))
	}
	var docs []derivedDoc[R]
	if err := cur.All(ctx, &docs); err != nil {
		return 0, unavailable(fmt.Errorf("store: rebuild: read %s: %w", coll.Name(), err))
	}
	for _, d := range docs {
		have[d.ID] = d
		if want[d.ID] == nil {
			want[d.ID] = map[string]R{}
		}
	}
	n := 0
	var errs []error
	// A document whose claim a crashed writer still holds refuses writes
	// until the claim is stale (staleDerivedClaim): try those again for a
	// little longer than that.
	deadline := time.Now().Add(staleDerivedClaim + 3*time.Second)
	for id, rows := range want {
		d := have[id]
		put := map[string]R{}
		for k, r := range rows {
			if old, ok := d.Rows[k]; !ok || old.RowVersion() < r.RowVersion() {
				put[k] = r
			}
		}
		var gone []string
		for k := range d.Rows {
			if _, ok := rows[k]; !ok {
				if _, err := s.EntryByID(ctx, k); errors.Is(err, models.ErrNotFound) {
					gone = append(gone, k)
				}
			}
		}
		if len(put) == 0 && len(gone) == 0 {
			continue
		}
		o := owner[id]
		if o == "" {
			o = d.Owner
		}
		if o == "" {
			o = id
		}
		err := putRows(ctx, s, coll, id, o, put, gone...)
		for errors.Is(err, models.ErrStale) && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
			err = putRows(ctx, s, coll, id, o, put, gone...)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
