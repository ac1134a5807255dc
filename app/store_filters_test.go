package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/models"
)

// TestVersionedWritesUseIDFilters: FerretDB v1 uses an index only for a
// filter that is exactly {_id: …}; any other filter reads and decodes the
// whole collection, so a conditional update such as {_id, version,
// status} got slower with every entry (sproutbench: an upload's database
// time doubled between 17 and 65 applicants). On FerretDB every command the
// versioned writes send to the entries and competitions collections must
// therefore filter on _id alone, while the writes still refuse a stale
// version or a wrong status.
func TestVersionedWritesUseIDFilters(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	type cmd struct {
		name, coll string
		filters    []bson.Raw
	}
	var seen []cmd
	observe := func(e *event.CommandStartedEvent) {
		c := cmd{name: e.CommandName}
		switch e.CommandName {
		case "find":
			c.coll, _ = e.Command.Lookup("find").StringValueOK()
			if f, ok := e.Command.Lookup("filter").DocumentOK(); ok {
				c.filters = append(c.filters, f)
			}
		case "update":
			c.coll, _ = e.Command.Lookup("update").StringValueOK()
			if ups, ok := e.Command.Lookup("updates").ArrayOK(); ok {
				vals, _ := ups.Values()
				for _, v := range vals {
					if d, ok := v.DocumentOK(); ok {
						if q, ok := d.Lookup("q").DocumentOK(); ok {
							c.filters = append(c.filters, q)
						}
					}
				}
			}
		default:
			return
		}
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	}
	st, err := store.Open(ctx, stack.MongoURI, apptest.RandomName("filters_"), store.Options{Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DB().Drop(ctx); _ = st.Close(ctx) })
	if err := st.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	var info bson.M
	if err := st.DB().RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	_, ferret := info["ferretdbVersion"]

	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	comp := &models.Competition{ID: "c-filters", Title: models.Text{VI: "Thi", EN: "Contest"}, Year: 2026,
		Status: models.CompDraft, Version: 1, OpensAt: now, ClosesAt: now.Add(30 * 24 * time.Hour),
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCompetition(ctx, comp); err != nil {
		t.Fatal(err)
	}
	if err := st.TransitionCompetition(ctx, comp.ID, models.CompDraft, models.CompOpen); err != nil {
		t.Fatal(err)
	}
	e := &models.Entry{ID: "e-filters", CompetitionID: comp.ID, LeaderID: "u-1", Dossier: models.Dossier{Title: "Trà"}, Status: models.EntryDraft,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	seen = nil
	mu.Unlock()

	deck := models.Deck{Key: "decks/x", Filename: "d.pdf", UploadedAt: now, UploadedBy: "u-1"}
	if err := st.AttachDeckAt(ctx, e.ID, e.Version, deck); err != nil {
		t.Fatal(err)
	}
	// A stale version is refused by the conditions, and nothing changes.
	got, _ := st.EntryByID(ctx, e.ID)
	if _, err := st.SetEntryStatus(ctx, e.ID, []models.EntryStatus{models.EntryDraft}, models.EntrySubmitted, "u-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.AttachDeckAt(ctx, e.ID, got.Version, deck); !errors.Is(err, models.ErrNotEditable) {
		t.Fatalf("attach to a submitted entry at an old version = %v, want ErrNotEditable", err)
	}
	after, _ := st.EntryByID(ctx, e.ID)
	if after.Status != models.EntrySubmitted || len(after.DeckHistory) != 1 || after.Version != got.Version+1 {
		t.Fatalf("entry after: status %s, %d decks, version %d (was %d)", after.Status, len(after.DeckHistory), after.Version, got.Version)
	}

	mu.Lock()
	defer mu.Unlock()
	checked := 0
	for _, c := range seen {
		if c.coll != "entries" && c.coll != "competitions" {
			continue
		}
		for _, f := range c.filters {
			checked++
			elems, _ := f.Elements()
			if ferret && (len(elems) != 1 || elems[0].Key() != "_id") {
				t.Errorf("%s on %s with filter %s: on FerretDB that reads the whole collection", c.name, c.coll, f)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no find or update on entries was observed")
	}
	t.Logf("FerretDB: %v; %d filters on entries and competitions checked", ferret, checked)
}
