package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// clock is an injected, movable clock for deadline tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time   { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)  { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock(t time.Time) *clock { return &clock{t: t} }

type journey struct {
	a      *app.App
	clk    *clock
	staff  *client
	stok   string
	appl   *client
	atok   string
	compID string
}

// newJourney makes an app with a clock, a staff member and an applicant,
// and an open competition closing at the end of 2026 (ICT).
func newJourney(t *testing.T) *journey {
	t.Helper()
	return newJourneyWith(t, nil)
}

// newJourneyWith is newJourney over a configuration that adjust changes.
func newJourneyWith(t *testing.T, adjust func(*app.Config)) *journey {
	t.Helper()
	cfg := stack.Config(t)
	if adjust != nil {
		adjust(&cfg)
	}
	return newJourneyOpts(t, cfg, app.Options{})
}

// newJourneyOpts is newJourney with a given configuration and options (the
// clock is the journey's).
func newJourneyOpts(t *testing.T, cfg app.Config, opts app.Options) *journey {
	t.Helper()
	clk := newClock(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))
	opts.Now = clk.now
	a := apptest.NewApp(t, cfg, opts)
	j := &journey{a: a, clk: clk, staff: newClient(t, a), appl: newClient(t, a)}
	makeUser(t, a, "canbo@example.vn", models.RoleStaff)
	j.stok = token(t, j.staff, "canbo@example.vn", goodPassword)
	register(t, j.appl, "mai@example.vn")
	j.atok = token(t, j.appl, "mai@example.vn", goodPassword)
	r := j.staff.jsonReq(http.MethodPost, "/api/v1/competitions", map[string]any{
		"title": map[string]string{"vi": "Ý tưởng khởi nghiệp Lào Cai 2026", "en": "Lào Cai Startup Ideas 2026"}, "year": 2026,
		"opens_at": "2026-11-01T00:00:00+07:00", "closes_at": "2026-12-31T23:59:59+07:00",
		"tracks": []string{"idea", "project"}, "eligibility": map[string]any{"min_age": 18, "max_age": 35, "max_team": 3},
		"deck":   map[string]any{"max_bytes": 20971520},
		"rounds": []map[string]any{{"key": "so-khao", "name": map[string]string{"vi": "Sơ khảo", "en": "Preliminary"}, "blind": true, "judges_per_entry": 3}},
	}, j.stok)
	expectStatus(t, r, http.StatusCreated)
	var comp models.Competition
	r.json(t, &comp)
	if comp.Status != models.CompDraft || len(comp.Rounds[0].Criteria) != 8 || comp.Deck.MaxBytes != 20<<20 {
		t.Fatalf("competition: %+v", comp)
	}
	j.compID = comp.ID
	r = j.staff.jsonReq(http.MethodPost, "/api/v1/competitions/"+comp.ID+"/transition", map[string]string{"to": "open"}, j.stok)
	expectStatus(t, r, http.StatusOK)
	return j
}

func entryBody() map[string]any {
	return map[string]any{
		"title": "Trà shan tuyết Bắc Hà", "track": "idea", "sector": "agriculture", "stage": "idea",
		"summary": "Trà cổ thụ", "problem": "Giá thấp", "solution": "Chế biến sâu", "customers": "Du khách",
		"market": "Miền Bắc", "advantage": "Cây cổ thụ", "business_model": "Bán trực tuyến", "technology": "Truy xuất QR",
		"plan": "12 tháng", "funding_need": 350000000, "impact": "Việc làm cho phụ nữ", "commune": "Bắc Hà",
		"team": []map[string]any{{"name": "Lù Văn Sinh", "role": "CTO", "birth_year": 1999, "gender": "male", "email": "sinh@example.vn"}},
	}
}

func TestCompetitionStateMachine(t *testing.T) {
	j := newJourney(t)
	// open → published is illegal: 409 with a message.
	r := j.staff.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/transition", map[string]string{"to": "published"}, j.stok)
	expectStatus(t, r, http.StatusConflict)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "illegal_transition" || !strings.Contains(e.Error.Message, "published") {
		t.Fatalf("409 body %s", r.body)
	}
	// Applicants cannot create or change competitions.
	expectStatus(t, j.appl.jsonReq(http.MethodPost, "/api/v1/competitions", map[string]any{"year": 2026}, j.atok), http.StatusForbidden)
	// Bad settings name the field.
	r = j.staff.jsonReq(http.MethodPost, "/api/v1/competitions", map[string]any{"title": map[string]string{"vi": "X"}, "year": 2026,
		"opens_at": "2026-12-01T00:00:00+07:00", "closes_at": "2026-11-01T00:00:00+07:00"}, j.stok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r.json(t, &e)
	if e.Error.Fields["closes_at"] == "" {
		t.Fatalf("fields %v", e.Error.Fields)
	}
	// PATCH with a stale version → 409.
	r = j.staff.jsonReq(http.MethodPatch, "/api/v1/competitions/"+j.compID, map[string]any{"year": 2027, "version": 1}, j.stok)
	expectStatus(t, r, http.StatusConflict)
	// Times are stored in UTC.
	c, err := j.a.Store().CompetitionByID(context.Background(), j.compID)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 31, 16, 59, 59, 0, time.UTC); !c.ClosesAt.Equal(want) || c.ClosesAt.Location() != time.UTC {
		t.Fatalf("closes_at %v", c.ClosesAt)
	}
}

func TestEntryJourneyAPI(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	if ent.Status != models.EntryDraft || ent.Version != 1 || ent.Title != "Trà shan tuyết Bắc Hà" || len(ent.Team) != 1 {
		t.Fatalf("entry %+v", ent)
	}
	// One entry per leader per competition.
	r = j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusConflict)

	// Edit with the right version → 200, version 2; the stale one → 409 and nothing lost.
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"title": "Trà shan tuyết cổ thụ", "version": 1}, j.atok)
	expectStatus(t, r, http.StatusOK)
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"title": "Ghi đè", "version": 1}, j.atok)
	expectStatus(t, r, http.StatusConflict)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "stale" {
		t.Fatalf("stale write: %s", r.body)
	}
	got, _ := j.a.Store().EntryByID(context.Background(), ent.ID)
	if got.Title != "Trà shan tuyết cổ thụ" || got.Version != 2 {
		t.Fatalf("after stale write: %q v%d", got.Title, got.Version)
	}
	// Status in a body changes nothing.
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"status": "winner", "leader_id": "x", "version": 2}, j.atok)
	expectStatus(t, r, http.StatusOK)
	got, _ = j.a.Store().EntryByID(context.Background(), ent.ID)
	if got.Status != models.EntryDraft || got.LeaderID == "x" {
		t.Fatalf("privileged fields taken: %+v", got.Status)
	}
	// Team over the limit → 422 naming team.
	team := []map[string]any{{"name": "A"}, {"name": "B"}, {"name": "C"}}
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"team": team, "version": 3}, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)

	// Submit without a deck: 422 listing every unmet rule, in English here.
	j.appl.lang = "en"
	r = j.appl.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r.json(t, &e)
	if !strings.Contains(e.Error.Fields["deck"], "pitch deck") {
		t.Fatalf("unmet rules: %s", r.body)
	}
	j.appl.lang = ""

	// Another applicant gets 404 for every method.
	other := newClient(t, j.a)
	register(t, other, "other@example.vn")
	otok := token(t, other, "other@example.vn", goodPassword)
	for _, m := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/entries/" + ent.ID},
		{http.MethodPatch, "/api/v1/entries/" + ent.ID},
		{http.MethodPost, "/api/v1/entries/" + ent.ID + "/submit"},
		{http.MethodPost, "/api/v1/entries/" + ent.ID + "/withdraw"},
	} {
		r := other.jsonReq(m.method, m.path, map[string]any{"title": "x", "version": 3}, otok)
		expectStatus(t, r, http.StatusNotFound)
	}
	// Staff can read it.
	expectStatus(t, j.staff.jsonReq(http.MethodGet, "/api/v1/entries/"+ent.ID, nil, j.stok), http.StatusOK)
}

func TestSubmitDeadlineAndConcurrency(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	// Attach a deck record directly (the upload path has its own tests).
	if err := j.a.Store().AttachDeck(context.Background(), ent.ID, models.Deck{Key: "decks/x", Filename: "deck.pdf", Size: 10,
		SHA256: "00", ContentType: "application/pdf", UploadedAt: j.clk.now()}); err != nil {
		t.Fatal(err)
	}
	// Two submits at once → one submission, one e-mail, one timeline line.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := newClient(t, j.a)
			codes[i] = c.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, j.atok).StatusCode
		}(i)
	}
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("submit codes %v", codes)
	}
	got, _ := j.a.Store().EntryByID(context.Background(), ent.ID)
	n := 0
	for _, ev := range got.Timeline {
		if ev.Kind == "submitted" {
			n++
		}
	}
	if got.Status != models.EntrySubmitted || n != 1 {
		t.Fatalf("status %s, %d submissions", got.Status, n)
	}
	mail, _ := j.a.Store().ListOutbox(context.Background(), 10)
	if len(mail) != 1 || mail[0].To != "mai@example.vn" || !strings.Contains(mail[0].Subject, "Trà shan tuyết") {
		t.Fatalf("outbox %+v", mail)
	}
	// Submitted → read-only.
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"title": "x", "version": got.Version}, j.atok)
	expectStatus(t, r, http.StatusConflict)
	// Staff reopen → editable again, logged.
	r = j.staff.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/reopen", map[string]string{"reason": "thiếu trang"}, j.stok)
	expectStatus(t, r, http.StatusOK)
	got, _ = j.a.Store().EntryByID(context.Background(), ent.ID)
	if got.Status != models.EntryDraft {
		t.Fatalf("reopen: %s", got.Status)
	}
	// After the deadline: submit and withdraw → 409 "the deadline has passed".
	j.clk.set(time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)) // 00:00 on 1 January in Vietnam
	j.atok = token(t, j.appl, "mai@example.vn", goodPassword)
	j.appl.lang = "en"
	r = j.appl.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, j.atok)
	expectStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.text(), "The deadline has passed") {
		t.Fatalf("deadline message: %s", r.body)
	}
	expectStatus(t, j.appl.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/withdraw", nil, j.atok), http.StatusConflict)
}

func TestSubmitEligibility(t *testing.T) {
	j := newJourney(t)
	// An applicant born in 1980 is over 35 on the closing date.
	old := newClient(t, j.a)
	body := applicantBody("old@example.vn")
	body["birth_year"] = 1980
	expectStatus(t, old.jsonReq(http.MethodPost, "/api/v1/accounts", body, ""), http.StatusCreated)
	otok := token(t, old, "old@example.vn", goodPassword)
	eb := entryBody()
	eb["summary"] = ""
	r := old.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", eb, otok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	r = old.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, otok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	for _, f := range []string{"leader", "summary", "deck"} {
		if e.Error.Fields[f] == "" {
			t.Errorf("unmet rule %q not listed: %v", f, e.Error.Fields)
		}
	}
	if !strings.Contains(e.Error.Fields["leader"], "Tuổi") {
		t.Errorf("not in Vietnamese: %q", e.Error.Fields["leader"])
	}
}

func TestStaffCompetitionPages(t *testing.T) {
	j := newJourney(t)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	r := c.get("/staff")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), "Ý tưởng khởi nghiệp Lào Cai 2026") || !strings.Contains(r.text(), "Đang nhận hồ sơ") {
		t.Fatalf("staff list: %.2000s", r.body)
	}
	tok := c.csrfFrom("/staff/competitions/new")
	form := map[string][]string{"title_vi": {"Cuộc thi 2027"}, "year": {"2027"}, "opens_at": {"2027-01-01T00:00"},
		"closes_at": {"2026-12-01T00:00"}, "min_age": {"18"}, "max_age": {"35"}, "max_team": {"3"}, "deck_mb": {"20"}, "track_idea": {"1"}}
	r = c.form("/staff/competitions", form, tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(), "Hạn chót phải sau ngày mở") {
		t.Fatalf("form error: %.3000s", r.body)
	}
	form["closes_at"] = []string{"2027-03-31T23:59"}
	form["preset_rounds"] = []string{"1"}
	r = c.form("/staff/competitions", form, tok)
	expectStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	r = c.get(loc)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), `value="2027-03-31T23:59"`) || !strings.Contains(r.text(), "Sơ khảo") {
		t.Fatalf("saved competition form: %.3000s", r.body)
	}
	id := strings.TrimPrefix(loc, "/staff/competitions/")
	comp, err := j.a.Store().CompetitionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 3, 31, 16, 59, 0, 0, time.UTC); !comp.ClosesAt.Equal(want) || len(comp.Rounds) != 3 {
		t.Fatalf("stored %v rounds %d", comp.ClosesAt, len(comp.Rounds))
	}
	r = c.form(loc+"/transition", map[string][]string{"to": {"open"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	comp, _ = j.a.Store().CompetitionByID(context.Background(), id)
	if comp.Status != models.CompOpen {
		t.Fatalf("status %s", comp.Status)
	}
}

func TestEntryPages(t *testing.T) {
	j := newJourney(t)
	// The home page lists the open competition with its deadline.
	home := newClient(t, j.a)
	r := home.get("/")
	if !strings.Contains(r.text(), "Ý tưởng khởi nghiệp Lào Cai 2026") || !strings.Contains(r.text(), "01/01/2027 06:59") && !strings.Contains(r.text(), "31/12/2026 23:59") {
		t.Fatalf("home does not list the open competition: %.3000s", r.body)
	}
	if !strings.Contains(r.text(), "Còn 34 ngày") {
		t.Fatalf("time left missing: %.3000s", r.body)
	}
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	tok := c.csrfFrom("/competitions/" + j.compID)
	r = c.form("/competitions/"+j.compID+"/entries", map[string][]string{"title": {"Trà shan tuyết"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	r = c.get(loc)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), "Trà shan tuyết") || !strings.Contains(r.text(), `name="version" value="1"`) {
		t.Fatalf("entry page: %.3000s", r.body)
	}
	form := map[string][]string{"title": {"Trà shan tuyết Bắc Hà"}, "track": {"idea"}, "sector": {"agriculture"}, "stage": {"idea"},
		"summary": {"Tóm tắt"}, "commune": {"Bắc Hà"}, "team_name_0": {"Lù Văn Sinh"}, "team_birth_year_0": {"1999"}, "version": {"1"}}
	r = c.form(loc, form, tok)
	expectStatus(t, r, http.StatusSeeOther)
	// A second tab still at version 1: 409, the typed text is kept and the
	// conflict explained.
	form["summary"] = []string{"Văn bản từ tab cũ"}
	r = c.form(loc, form, tok)
	expectStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.text(), "Người khác vừa thay đổi") || !strings.Contains(r.text(), "Văn bản từ tab cũ") {
		t.Fatalf("stale form: %.4000s", r.body)
	}
	// Submitting an incomplete entry lists every unmet rule.
	r = c.form(loc+"/submit", map[string][]string{}, tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	for _, want := range []string{"Cần tải lên bài thuyết trình", "Thị trường: cần điền trước khi nộp", `href="#f-market"`, `href="#f-deck"`} { // each message names and links its field
		if !strings.Contains(r.text(), want) {
			t.Fatalf("unmet rule %q not shown: %.4000s", want, r.body)
		}
	}
	// Another applicant gets 404 on the page.
	o := newClient(t, j.a)
	register(t, o, "o@example.vn")
	expectStatus(t, o.signIn("o@example.vn", goodPassword), http.StatusSeeOther)
	expectStatus(t, o.get(loc), http.StatusNotFound)
}

func TestAccountListsMyEntries(t *testing.T) {
	j := newJourney(t)
	expectStatus(t, j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok), http.StatusCreated)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	r := c.get("/account")
	if !strings.Contains(r.text(), "Hồ sơ dự thi của tôi") || !strings.Contains(r.text(), "Trà shan tuyết Bắc Hà") || !strings.Contains(r.text(), "Ý tưởng khởi nghiệp Lào Cai 2026") {
		t.Fatalf("account page: %.3000s", r.body)
	}
}

// TestAttachDeckAtVersionSeen: the upload path attaches a deck to the
// version of the entry it read before the upload. When the entry was edited
// meanwhile, the deck is still attached (on top of the edit, which is kept);
// when it was submitted meanwhile, the attach is refused.
func TestAttachDeckAtVersionSeen(t *testing.T) {
	j := newJourney(t)
	ctx := context.Background()
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	st := j.a.Store()
	deck := func(key string) models.Deck {
		return models.Deck{Key: key, Filename: "deck.pdf", Size: 10, SHA256: "00", ContentType: "application/pdf", UploadedAt: j.clk.now()}
	}

	// Seen version current: attached, version +1.
	if err := st.AttachDeckAt(ctx, ent.ID, ent.Version, deck("decks/a")); err != nil {
		t.Fatal(err)
	}
	got, _ := st.EntryByID(ctx, ent.ID)
	if got.Deck == nil || got.Deck.Key != "decks/a" || got.Version != ent.Version+1 {
		t.Fatalf("after attach: deck %+v, version %d (was %d)", got.Deck, got.Version, ent.Version)
	}

	// Edited after the version seen: the edit stays, the deck lands.
	seen := got.Version
	r = j.appl.jsonReq(http.MethodPatch, "/api/v1/entries/"+ent.ID, map[string]any{"title": "Tên mới", "version": seen}, j.atok)
	expectStatus(t, r, http.StatusOK)
	if err := st.AttachDeckAt(ctx, ent.ID, seen, deck("decks/b")); err != nil {
		t.Fatalf("attach over a newer version: %v", err)
	}
	got, _ = st.EntryByID(ctx, ent.ID)
	if got.Title != "Tên mới" || got.Deck == nil || got.Deck.Key != "decks/b" || got.Version != seen+2 || len(got.DeckHistory) != 2 {
		t.Fatalf("after the edit and attach: title %q, deck %+v, version %d (seen %d), %d versions kept",
			got.Title, got.Deck, got.Version, seen, len(got.DeckHistory))
	}

	// Submitted after the version seen: refused, nothing changes.
	seen = got.Version
	expectStatus(t, j.appl.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, j.atok), http.StatusOK)
	if err := st.AttachDeckAt(ctx, ent.ID, seen, deck("decks/c")); !errors.Is(err, models.ErrNotEditable) {
		t.Fatalf("attach to a submitted entry = %v, want ErrNotEditable", err)
	}
	got, _ = st.EntryByID(ctx, ent.ID)
	if got.Deck.Key != "decks/b" || len(got.DeckHistory) != 2 {
		t.Fatalf("a submitted entry changed: deck %+v, %d versions", got.Deck, len(got.DeckHistory))
	}
}

// TestStartEntryKeepsTypedTitle: an over-long title comes back on the
// competition page with the message and what was typed, not a bare error.
func TestStartEntryKeepsTypedTitle(t *testing.T) {
	j := newJourney(t)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	tok := c.csrfFrom("/competitions/" + j.compID)
	long := strings.Repeat("Trà shan tuyết ", 1300) // ~18 KB
	r := c.form("/competitions/"+j.compID+"/entries", map[string][]string{"title": {long}}, tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(), `maxlength="200"`) || !strings.Contains(r.text(), "Tên ý tưởng") || !strings.Contains(r.text(), strings.TrimSpace(long)[:200]) {
		t.Fatalf("the page did not come back with the typed title and its message: %.1500s", r.body)
	}
}

// TestSubmittedEntryShowsWholeDossier: after submitting, the applicant's
// read-only page shows every dossier field and the team.
func TestSubmittedEntryShowsWholeDossier(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	expectStatus(t, j.appl.upload(http.MethodPut, apiPrefix+"/entries/"+ent.ID+"/deck", j.atok, "deck.pdf", apptest.Fixture(t, "valid-deck.pdf")), http.StatusCreated)
	expectStatus(t, j.appl.jsonReq(http.MethodPost, apiPrefix+"/entries/"+ent.ID+"/submit", nil, j.atok), http.StatusOK)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	page := c.get("/entries/" + ent.ID)
	expectStatus(t, page, http.StatusOK)
	for _, want := range []string{"Giá thấp", "Chế biến sâu", "Du khách", "Miền Bắc", "Cây cổ thụ", "Bán trực tuyến", "Truy xuất QR", "12 tháng", "Việc làm cho phụ nữ", "Lù Văn Sinh", "350.000.000 ₫"} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the read-only page lacks %q", want)
		}
	}
}
