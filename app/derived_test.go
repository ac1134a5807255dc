package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/models"
)

// checkDerived fails unless every derived row of the competition's entries
// (ids) is true: the staff list row and the leader's row hold the entry's
// current version and what the lists show of it.
func checkDerived(t *testing.T, a *app.App, compID string, ids []string) {
	t.Helper()
	ctx := context.Background()
	st := a.Store()
	rows, err := st.CompetitionRows(ctx, compID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]models.ListRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	if len(rows) != len(ids) {
		t.Errorf("list has %d rows, want %d", len(rows), len(ids))
	}
	for _, id := range ids {
		e, err := st.EntryByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := byID[id]
		deck := ""
		if e.Deck != nil {
			deck = e.Deck.Filename
		}
		if !ok || r.Version != e.Version || r.Title != e.Title || r.Status != e.Status || r.Deck != deck ||
			r.TeamSize != len(e.Team)+1 || r.LeaderName != e.LeaderName || r.Commune != e.Commune {
			t.Errorf("list row of %s = %+v (found %v), entry v%d %q %s deck %q team %d", id, r, ok, e.Version, e.Title, e.Status, deck, len(e.Team)+1)
		}
		mine, err := st.MyEntryIn(ctx, compID, e.LeaderID)
		if err != nil {
			t.Fatal(err)
		}
		if mine == nil || mine.ID != id || mine.Version != e.Version || mine.Title != e.Title || mine.Status != e.Status {
			t.Errorf("leader's row of %s = %+v, entry v%d %q %s", id, mine, e.Version, e.Title, e.Status)
		}
	}
}

// TestDerivedRowsUnderConcurrentWrites: applicants edit, attach decks and
// submit at once, in parallel real requests, while staff read the list;
// afterwards every derived row holds its entry's last version.
func TestDerivedRowsUnderConcurrentWrites(t *testing.T) {
	j := newJourney(t)
	const n = 8
	type appl struct {
		c       *client
		tok, id string
	}
	apps := make([]appl, n)
	var ids []string
	for i := range apps {
		c := newClient(t, j.a)
		email := fmt.Sprintf("song%d@example.vn", i)
		register(t, c, email)
		tok := token(t, c, email, goodPassword)
		eb := entryBody()
		eb["title"], eb["commune"] = fmt.Sprintf("Ý tưởng %d", i), fmt.Sprintf("Xã %d", i)
		r := c.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", eb, tok)
		expectStatus(t, r, http.StatusCreated)
		var e models.Entry
		r.json(t, &e)
		apps[i] = appl{c, tok, e.ID}
		ids = append(ids, e.ID)
	}
	pdf := apptest.Fixture(t, "valid-deck.pdf")
	staff := newClient(t, j.a)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // staff keep reading while the writes go on
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if r := staff.get("/staff/competitions/" + j.compID + "/entries"); r.StatusCode != http.StatusOK {
				t.Errorf("staff list during writes: %d", r.StatusCode)
				return
			}
		}
	}()
	var writers sync.WaitGroup
	for i, ap := range apps {
		writers.Add(2)
		go func() { // edits, each at the version just read; a 409 is retried
			defer writers.Done()
			for k := 0; k < 3; k++ {
				for try := 0; try < 20; try++ {
					var e models.Entry
					g := ap.c.jsonReq(http.MethodGet, "/api/v1/entries/"+ap.id, nil, ap.tok)
					g.json(t, &e)
					r := ap.c.jsonReq(http.MethodPatch, "/api/v1/entries/"+ap.id, map[string]any{
						"title": fmt.Sprintf("Ý tưởng %d, lần %d", i, k), "version": e.Version,
						"team": []map[string]any{{"name": fmt.Sprintf("Thành viên %d-%d", i, k), "role": "CTO"}}}, ap.tok)
					if r.StatusCode == http.StatusOK {
						break
					}
					if r.StatusCode != http.StatusConflict {
						t.Errorf("edit: %d %s", r.StatusCode, r.body)
						return
					}
				}
			}
		}()
		go func() { // a deck upload at the same time, then the submit
			defer writers.Done()
			dc := newClient(t, j.a)
			r := dc.upload(http.MethodPut, "/api/v1/entries/"+ap.id+"/deck", ap.tok, fmt.Sprintf("deck-%d.pdf", i), pdf)
			if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusConflict {
				t.Errorf("deck: %d %s", r.StatusCode, r.body)
			}
		}()
	}
	writers.Wait()
	// Submits at once (some twice), and staff reopen one.
	var subs sync.WaitGroup
	for i, ap := range apps {
		for k := 0; k < 1+i%2; k++ {
			subs.Add(1)
			go func() {
				defer subs.Done()
				dc := newClient(t, j.a)
				r := dc.jsonReq(http.MethodPost, "/api/v1/entries/"+ap.id+"/submit", nil, ap.tok)
				if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusUnprocessableEntity && r.StatusCode != http.StatusConflict {
					t.Errorf("submit: %d %s", r.StatusCode, r.body)
				}
			}()
		}
	}
	subs.Wait()
	close(stop)
	wg.Wait()
	checkDerived(t, j.a, j.compID, ids)
	// The list page shows what the entries say.
	r := staff.get("/staff/competitions/" + j.compID + "/entries")
	if !strings.Contains(r.text(), fmt.Sprintf("Tổng: <strong>%d</strong>", n+0)) || !strings.Contains(r.text(), "Ý tưởng 3, lần 2") {
		t.Fatalf("list after the writes: %.3000s", r.body)
	}
}

// TestDerivedRowsRepairedAfterCrash: the process "dies" between an entry's
// write and its derived rows' write (for an edit, a submit and a
// creation); the lists are stale until the repair of recent writes, which
// every instance runs, or the rebuild at start makes them true again.
func TestDerivedRowsRepairedAfterCrash(t *testing.T) {
	j := newJourney(t)
	ctx := context.Background()
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var e models.Entry
	r.json(t, &e)
	st := j.a.Store()
	crashing := atomic.Bool{}
	crashing.Store(true)
	store.SimulateCrashBeforeDerived(st, func(*models.Entry) bool { return crashing.Load() })
	t.Cleanup(func() { store.SimulateCrashBeforeDerived(st, nil) })

	expectStatus(t, j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+e.ID, map[string]any{"title": "Tên mới sau sự cố", "version": e.Version}, j.atok), http.StatusOK)
	staff := newClient(t, j.a)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	list := "/staff/competitions/" + j.compID + "/entries"
	if r := staff.get(list); strings.Contains(r.text(), "Tên mới sau sự cố") || !strings.Contains(r.text(), "Trà shan tuyết Bắc Hà") {
		t.Fatalf("the simulated crash did not leave the row behind: %.3000s", r.body)
	}
	// A second applicant's entry is created, and its rows never written.
	c2 := newClient(t, j.a)
	register(t, c2, "lan@example.vn")
	tok2 := token(t, c2, "lan@example.vn", goodPassword)
	eb := entryBody()
	eb["title"] = "Mật ong bạc hà"
	r = c2.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", eb, tok2)
	expectStatus(t, r, http.StatusCreated)
	var e2 models.Entry
	r.json(t, &e2)
	checkFails := func() bool {
		rows, _ := st.CompetitionRows(ctx, j.compID)
		mine, _ := st.MyEntryIn(ctx, j.compID, e2.LeaderID)
		return len(rows) == 1 && mine == nil
	}
	if !checkFails() {
		t.Fatal("the simulated crash did not leave the new entry out of the lists")
	}
	crashing.Store(false)

	// Every instance repairs what was written in the last hour.
	n, err := st.RepairRecent(ctx, j.clk.now().Add(-time.Hour))
	if err != nil || n < 2 {
		t.Fatalf("RepairRecent = %d, %v", n, err)
	}
	checkDerived(t, j.a, j.compID, []string{e.ID, e2.ID})
	if r := staff.get(list); !strings.Contains(r.text(), "Tên mới sau sự cố") || !strings.Contains(r.text(), "Mật ong bạc hà") {
		t.Fatalf("after the repair: %.3000s", r.body)
	}

	// The same with the rebuild at start, for a submit.
	crashing.Store(true)
	cur, _ := st.EntryByID(ctx, e2.ID)
	if _, err := st.SetEntryStatus(ctx, e2.ID, []models.EntryStatus{models.EntryDraft}, models.EntrySubmitted, "t", ""); err != nil {
		t.Fatal(err)
	}
	crashing.Store(false)
	if mine, _ := st.MyEntryIn(ctx, j.compID, e2.LeaderID); mine == nil || mine.Version != cur.Version {
		t.Fatalf("row after a crashed submit = %+v", mine)
	}
	if n, err := st.RebuildDerived(ctx); err != nil || n != 2 {
		t.Fatalf("RebuildDerived = %d, %v; want the 2 documents of the entry", n, err)
	}
	checkDerived(t, j.a, j.compID, []string{e.ID, e2.ID})
	if n, err := st.RebuildDerived(ctx); err != nil || n != 0 {
		t.Fatalf("second RebuildDerived = %d, %v; want nothing to do", n, err)
	}

	// Creating again after a crashed creation: 409, and the rows repaired.
	crashing.Store(true)
	c3 := newClient(t, j.a)
	register(t, c3, "hoa@example.vn")
	tok3 := token(t, c3, "hoa@example.vn", goodPassword)
	r = c3.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), tok3)
	expectStatus(t, r, http.StatusCreated)
	var e3 models.Entry
	r.json(t, &e3)
	crashing.Store(false)
	expectStatus(t, c3.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), tok3), http.StatusConflict)
	checkDerived(t, j.a, j.compID, []string{e.ID, e2.ID, e3.ID})
}

// TestOldLayoutStoreMigrates: a database written by a version without
// derived documents (entries only) works once an instance has started on
// it: the rebuild at start builds the rows, and the pages show them.
func TestOldLayoutStoreMigrates(t *testing.T) {
	cfg := stack.Config(t)
	j := newJourneyOpts(t, cfg, app.Options{})
	ctx := context.Background()
	db := j.a.Store().DB()
	me, err := j.a.Store().UserByEmail(ctx, "mai@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	// Entries as the previous version wrote them, and no derived documents.
	now := j.clk.now()
	var ids []string
	for i := 0; i < 60; i++ {
		leader, name := fmt.Sprintf("old-%02d", i), fmt.Sprintf("Người cũ %02d", i)
		if i == 0 {
			leader, name = me.ID, me.Name
		}
		e := models.Entry{ID: uuid.NewString(), CompetitionID: j.compID, LeaderID: leader, LeaderName: name,
			Dossier: models.Dossier{Title: fmt.Sprintf("Hồ sơ cũ %02d", i), Commune: "Bắc Hà", Track: "idea"},
			Team:    []models.Member{}, Status: models.EntrySubmitted, Version: 3, DeckHistory: []models.Deck{},
			Timeline: []models.Event{}, CreatedAt: now.Add(time.Duration(i) * time.Minute), UpdatedAt: now}
		if _, err := db.Collection("entries").InsertOne(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	for _, c := range []string{"entry_lists", "user_entries"} {
		if err := db.Collection(c).Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A new instance starts on that database.
	a2 := apptest.NewApp(t, cfg, app.Options{Now: j.clk.now})
	checkDerived(t, a2, j.compID, ids)
	staff := newClient(t, a2)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	r := staff.get("/staff/competitions/" + j.compID + "/entries?page=2")
	if !strings.Contains(r.text(), "Tổng: <strong>60</strong>") || !strings.Contains(r.text(), "Hồ sơ cũ 09") || strings.Contains(r.text(), "Hồ sơ cũ 10") {
		t.Fatalf("staff list, page 2: %.4000s", r.body)
	}
	appl := newClient(t, a2)
	expectStatus(t, appl.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	if r := appl.get("/account"); !strings.Contains(r.text(), "Hồ sơ cũ 00") {
		t.Fatalf("account: %.3000s", r.body)
	}
	if r := appl.get("/competitions/" + j.compID); !strings.Contains(r.text(), "/entries/"+ids[0]) {
		t.Fatalf("competition page: %.3000s", r.body)
	}
	// Starting again changes nothing.
	if n, err := a2.Store().RebuildDerived(ctx); err != nil || n != 0 {
		t.Fatalf("RebuildDerived on a built store = %d, %v", n, err)
	}
}

// TestStaffListPages: 50 rows a page, counts over the whole competition,
// and the filter and the accent-insensitive search over every page.
func TestStaffListPages(t *testing.T) {
	j := newJourney(t)
	ctx := context.Background()
	st := j.a.Store()
	for i := 0; i < 120; i++ {
		commune := "Sa Pa"
		if i%10 == 0 {
			commune = "Bắc Hà"
		}
		e := &models.Entry{CompetitionID: j.compID, LeaderID: fmt.Sprintf("u-%03d", i), LeaderName: "Người " + fmt.Sprint(i),
			Dossier: models.Dossier{Title: fmt.Sprintf("Ý tưởng số %03d", i), Commune: commune, Track: "idea"}}
		j.clk.set(j.clk.now().Add(time.Second))
		if err := st.CreateEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := st.SetEntryStatus(ctx, e.ID, []models.EntryStatus{models.EntryDraft}, models.EntrySubmitted, "t", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	staff := newClient(t, j.a)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	base := "/staff/competitions/" + j.compID + "/entries"
	count := func(body string) int { return strings.Count(body, `<a href="/staff/entries/`) }
	r := staff.get(base)
	for _, want := range []string{"Tổng: <strong>120</strong>", "Bản nháp: <strong>80</strong>", "Đã nộp: <strong>40</strong>",
		"Ý tưởng số 119", "trang 1/3", `href="/staff/competitions/` + j.compID + `/entries?page=2"`} {
		if !strings.Contains(r.text(), want) {
			t.Fatalf("page 1 lacks %q: %.4000s", want, r.body)
		}
	}
	if count(r.text()) != 50 || strings.Contains(r.text(), "Ý tưởng số 069") {
		t.Fatalf("page 1 has %d rows", count(r.text()))
	}
	r = staff.get(base + "?page=3")
	if count(r.text()) != 20 || !strings.Contains(r.text(), "Ý tưởng số 000") || !strings.Contains(r.text(), "Tổng: <strong>120</strong>") {
		t.Fatalf("page 3 has %d rows: %.3000s", count(r.text()), r.body)
	}
	if r := staff.get(base + "?page=99"); count(r.text()) != 20 {
		t.Fatalf("a page past the end shows the last: %d rows", count(r.text()))
	}
	// The search matches on every page: 12 entries in Bắc Hà, 4 of them submitted.
	r = staff.get(base + "?q=bac+ha")
	if count(r.text()) != 12 || !strings.Contains(r.text(), "Ý tưởng số 000") || !strings.Contains(r.text(), "Đang hiển thị 12 hồ sơ") {
		t.Fatalf("search: %d rows: %.3000s", count(r.text()), r.body)
	}
	r = staff.get(base + "?q=bac+ha&status=submitted")
	if count(r.text()) != 4 {
		t.Fatalf("search and status: %d rows", count(r.text()))
	}
	r = staff.get(base + "?status=draft&page=2")
	if count(r.text()) != 30 || !strings.Contains(r.text(), "status=draft&amp;page=1") && !strings.Contains(r.text(), "?status=draft\"") {
		t.Fatalf("draft page 2: %d rows: %.3000s", count(r.text()), r.body)
	}
	// The CSV has every matching row, not a page.
	r = staff.get(base + ".csv?status=submitted")
	if n := strings.Count(r.text(), "\n"); n != 41 {
		t.Fatalf("csv has %d lines, want 41", n)
	}
}

// TestCompressedResponses: text answers above ~1 KB are compressed with
// brotli or gzip as the client asks; small answers and deck downloads are
// not.
func TestCompressedResponses(t *testing.T) {
	j := newJourney(t)
	seedEntries(t, j)
	staff := newClient(t, j.a)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	list := "/staff/competitions/" + j.compID + "/entries"
	for _, enc := range []string{"br", "gzip"} {
		staff.headers["Accept-Encoding"] = enc
		r := staff.get(list)
		if r.Header.Get("Content-Encoding") != enc || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: Content-Encoding %q, Vary %q", enc, r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
		}
	}
	staff.headers["Accept-Encoding"] = "gzip"
	for _, p := range []string{list, list + ".csv"} {
		r := staff.get(p)
		if r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s not compressed: %v", p, r.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !strings.Contains(string(plain), "Trà shan tuyết") {
			t.Fatalf("%s: %v %.300s", p, err, plain)
		}
	}
	if r := staff.get("/healthz"); r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("a tiny answer was compressed: %v", r.Header)
	}
	// Deck downloads go out as stored.
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var e models.Entry
	r.json(t, &e)
	expectStatus(t, j.appl.upload(http.MethodPut, "/api/v1/entries/"+e.ID+"/deck", j.atok, "d.pdf", apptest.Fixture(t, "valid-deck.pdf")), http.StatusCreated)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/entries/"+e.ID+"/deck", nil)
	req.Header.Set("Authorization", "Bearer "+j.atok)
	req.Header.Set("Accept-Encoding", "gzip, br")
	dr := j.appl.do(req)
	expectStatus(t, dr, http.StatusOK)
	if dr.Header.Get("Content-Encoding") != "" || !bytes.Equal(dr.body, apptest.Fixture(t, "valid-deck.pdf")) {
		t.Fatalf("deck download: encoding %q, %d bytes", dr.Header.Get("Content-Encoding"), len(dr.body))
	}
}

// TestPageReadsUseIDFilters watches every command the pages send: FerretDB
// uses an index only for a filter that is exactly {_id: value}, so every
// find and update of a page must be one (docs/DATA.md). The one exception
// is the list of competitions (an empty filter on a collection of a few
// documents a year), read by the home page and the staff's list of
// competitions.
func TestPageReadsUseIDFilters(t *testing.T) {
	var (
		mu        sync.Mutex
		recording bool
		bad       []string
		finds     int
		sent      []string
	)
	observe := func(e *event.CommandStartedEvent) {
		mu.Lock()
		defer mu.Unlock()
		if !recording {
			return
		}
		sent = append(sent, e.CommandName+" "+e.Command.Lookup(e.CommandName).String())
		var coll string
		var filters []bson.Raw
		switch e.CommandName {
		case "find":
			coll, _ = e.Command.Lookup("find").StringValueOK()
			f, _ := e.Command.Lookup("filter").DocumentOK()
			filters = append(filters, f)
			finds++
		case "update", "delete":
			coll, _ = e.Command.Lookup(e.CommandName).StringValueOK()
			arr := "updates"
			if e.CommandName == "delete" {
				arr = "deletes"
			}
			vals, _ := e.Command.Lookup(arr).Array().Values()
			for _, v := range vals {
				q, _ := v.Document().Lookup("q").DocumentOK()
				filters = append(filters, q)
			}
		case "insert", "endSessions", "ping", "hello", "isMaster", "buildInfo":
			return
		default:
			bad = append(bad, e.CommandName+" "+e.Command.String())
			return
		}
		if coll == "write_claims" {
			return // the background repair of recent writes (no page reads claims)
		}
		for _, f := range filters {
			elems, _ := f.Elements()
			if coll == "competitions" && len(elems) == 0 && e.CommandName == "find" {
				continue
			}
			if len(elems) != 1 || elems[0].Key() != "_id" || elems[0].Value().Type != bson.TypeString {
				bad = append(bad, fmt.Sprintf("%s %s %s", e.CommandName, coll, f))
			}
		}
	}
	j := newJourneyOpts(t, stack.Config(t), app.Options{Observe: observe})
	ids := seedEntries(t, j)
	appl := newClient(t, j.a)
	expectStatus(t, appl.signIn("a1@example.vn", goodPassword), http.StatusSeeOther)
	staff := newClient(t, j.a)
	expectStatus(t, staff.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	list := "/staff/competitions/" + j.compID + "/entries"
	pages := []struct {
		c    *client
		path string
	}{
		{appl, "/"}, {appl, "/competitions/" + j.compID}, {appl, "/account"}, {appl, "/entries/" + ids["a1@example.vn"]},
		{staff, "/"}, {staff, "/staff/"}, {staff, list}, {staff, list + "?q=bac+ha&page=1"}, {staff, list + "?status=submitted&track=idea"},
		{staff, list + ".csv"}, {staff, "/staff/entries/" + ids["a3@example.vn"]}, {staff, "/competitions/" + j.compID},
	}
	for _, p := range pages {
		mu.Lock()
		recording, bad, finds, sent = true, nil, 0, nil
		mu.Unlock()
		r := p.c.get(p.path)
		mu.Lock()
		recording = false
		got, n := bad, finds
		t.Logf("GET %s: %s", p.path, strings.Join(sent, ", "))
		mu.Unlock()
		expectStatus(t, r, http.StatusOK)
		if len(got) > 0 {
			t.Errorf("GET %s sent commands FerretDB cannot answer by _id:\n%s", p.path, strings.Join(got, "\n"))
		}
		if n == 0 || n > 16 {
			t.Errorf("GET %s: %d finds", p.path, n)
		}
	}
}
