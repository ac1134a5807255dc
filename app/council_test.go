package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

// councilFixture is a competition with submitted entries and a panel of
// judges, built through the API as staff and applicants would.
type councilFixture struct {
	*journey
	entries []councilEntry
	judges  []*councilJudge
}

type councilEntry struct {
	id, title, leader, leaderEmail, member, memberEmail string
}

type councilJudge struct {
	id, email, tok string
	c              *client
}

const roundKey = "so-khao"

// asciiName is a name as an authoring tool without Unicode would write it.
func asciiName(s string) string { return models.Fold(s) }

// pdfWithAuthor is a one-page PDF whose Info dictionary names its author,
// as PowerPoint's export does.
func pdfWithAuthor(author, email string) []byte {
	content := "BT /F1 24 Tf 72 700 Td (Y tuong khoi nghiep) Tj ET\n"
	objs := []string{
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R] /Count 1 >>`,
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>`,
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`,
		`<< /Author (` + author + `) /Creator (PowerPoint for ` + email + `) /Title (Pitch by ` + author + `) >>`,
	}
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

// newCouncil makes n submitted entries (each with a team member and a deck)
// and j judges; judge 0 is also on the team of entry 0 (same e-mail, other
// case), so an automatic conflict exists.
func newCouncil(t *testing.T, n, j int) *councilFixture {
	t.Helper()
	f := &councilFixture{journey: newJourney(t)}
	for i := 0; i < n; i++ {
		e := councilEntry{
			title:       fmt.Sprintf("Ý tưởng số %d về chè Shan", i),
			leader:      fmt.Sprintf("Lò Thị Hoa%c", 'A'+i),
			leaderEmail: fmt.Sprintf("truong%d@example.vn", i),
			member:      fmt.Sprintf("Vàng A Dơ%c", 'A'+i),
			memberEmail: fmt.Sprintf("thanhvien%d@example.vn", i),
		}
		if i == 0 {
			e.memberEmail = "giamkhao0@example.vn"
		}
		c := newClient(t, f.a)
		body := applicantBody(e.leaderEmail)
		body["name"] = e.leader
		expectStatus(t, c.jsonReq(http.MethodPost, "/api/v1/accounts", body, ""), http.StatusCreated)
		tok := token(t, c, e.leaderEmail, goodPassword)
		eb := entryBody()
		eb["title"] = e.title
		eb["team"] = []map[string]any{{"name": e.member, "role": "CTO", "birth_year": 1999, "gender": "male", "email": e.memberEmail}}
		r := c.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+f.compID+"/entries", eb, tok)
		expectStatus(t, r, http.StatusCreated)
		var ent models.Entry
		r.json(t, &ent)
		e.id = ent.ID
		deck := pdfWithAuthor(asciiName(e.leader), e.leaderEmail)
		expectStatus(t, c.upload(http.MethodPut, apiPrefix+"/entries/"+ent.ID+"/deck", tok, "Hồ sơ của "+e.leader+".pdf", deck), http.StatusCreated)
		expectStatus(t, c.jsonReq(http.MethodPost, apiPrefix+"/entries/"+ent.ID+"/submit", nil, tok), http.StatusOK)
		f.entries = append(f.entries, e)
	}
	for i := 0; i < j; i++ {
		email := fmt.Sprintf("giamkhao%d@example.vn", i)
		u := makeUser(t, f.a, email, models.RoleJudge)
		c := newClient(t, f.a)
		f.judges = append(f.judges, &councilJudge{id: u.ID, email: email, tok: token(t, c, strings.ToUpper(email[:1])+email[1:], goodPassword), c: c})
	}
	return f
}

func (f *councilFixture) addPanel(t *testing.T, chair int) {
	t.Helper()
	for i, j := range f.judges {
		r := f.staff.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+f.compID+"/judges",
			map[string]any{"user_id": j.id, "sectors": []string{"agriculture"}, "chair": i == chair}, f.stok)
		expectStatus(t, r, http.StatusCreated)
	}
}

func (f *councilFixture) roundPath(suffix string) string {
	return apiPrefix + "/competitions/" + f.compID + "/rounds/" + roundKey + suffix
}

type queueBody struct {
	Rows   []models.QueueRow  `json:"rows"`
	Counts models.QueueCounts `json:"counts"`
}

func (f *councilFixture) queue(t *testing.T, j *councilJudge) queueBody {
	t.Helper()
	r := j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments", nil, j.tok)
	expectStatus(t, r, http.StatusOK)
	var q queueBody
	r.json(t, &q)
	return q
}

func fullScores(v int) map[string]int {
	s := map[string]int{}
	for _, c := range models.DefaultRubric() {
		s[c.Key] = min(v, c.Max)
	}
	return s
}

// TestCouncilJourneyAPI: a panel is formed, the round assigned (balanced,
// conflicts respected), released with mails, scored with hidden reviews,
// and a submitted score changed with its history kept.
func TestCouncilJourneyAPI(t *testing.T) {
	f := newCouncil(t, 6, 4)
	// Only staff form the panel; a judge that is not a council member is refused.
	app := newClient(t, f.a)
	expectStatus(t, app.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+f.compID+"/judges",
		map[string]any{"user_id": f.judges[0].id}, f.atok), http.StatusForbidden)
	applicant, _ := f.a.Store().UserByEmail(context.Background(), "mai@example.vn")
	r := f.staff.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+f.compID+"/judges", map[string]any{"user_id": applicant.ID}, f.stok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	f.addPanel(t, 1)

	// Releasing or assigning before the panel is ready: assign k=5 > 4 judges → 422.
	r = f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 5, "seed": 42}, f.stok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "assignment_impossible" || e.Error.Message == "" {
		t.Fatalf("422 body %s", r.body)
	}

	r = f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 2, "seed": 42}, f.stok)
	expectStatus(t, r, http.StatusOK)
	var res struct {
		Assignments int            `json:"assignments"`
		Loads       map[string]int `json:"loads"`
	}
	r.json(t, &res)
	if res.Assignments != 12 || len(res.Loads) != 4 {
		t.Fatalf("assign: %s", r.body)
	}
	lo, hi := 99, 0
	for _, n := range res.Loads {
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi-lo > 1 {
		t.Fatalf("unbalanced loads %v", res.Loads)
	}
	// Judge 0 is on entry 0's team: never assigned it.
	if _, err := f.a.Store().FindAssignment(context.Background(), f.compID, roundKey, f.entries[0].id, f.judges[0].id); err == nil {
		t.Fatal("judge assigned an entry whose team they are on")
	}
	// A second run would lose nothing silently: 409.
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 2, "seed": 42}, f.stok), http.StatusConflict)

	// Not released: judges see nothing yet.
	for _, j := range f.judges {
		if q := f.queue(t, j); len(q.Rows) != 0 {
			t.Fatalf("judge sees %d rows before release", len(q.Rows))
		}
	}
	// The chair (a judge) releases; a plain judge may not.
	expectStatus(t, f.judges[2].c.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.judges[2].tok), http.StatusNotFound)
	expectStatus(t, f.judges[1].c.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.judges[1].tok), http.StatusOK)
	mail, err := f.a.Store().ListOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	mailed := map[string]bool{}
	for _, m := range mail {
		if strings.HasPrefix(m.To, "giamkhao") {
			mailed[m.To] = true
		}
	}
	if len(mailed) != 4 {
		t.Fatalf("judges mailed: %v", mailed)
	}

	j := f.judges[2]
	q := f.queue(t, j)
	if len(q.Rows) != res.Loads[j.id] || q.Counts.Pending != len(q.Rows) {
		t.Fatalf("queue %+v, load %d", q, res.Loads[j.id])
	}
	aid := q.Rows[0].AssignmentID
	// Reviews of others are hidden until the judge submits.
	expectStatus(t, j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+aid+"/reviews", nil, j.tok), http.StatusForbidden)

	// Scores are checked against the rubric, naming the criterion.
	j.c.lang = "vi"
	bad := fullScores(10)
	bad["novelty"] = 21
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": bad, "submit": true}, j.tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r.json(t, &e)
	if !strings.Contains(e.Error.Fields["scores.novelty"], "Tính mới") {
		t.Fatalf("criterion not named: %s", r.body)
	}
	partial := map[string]int{"novelty": 15}
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": partial, "submit": true}, j.tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	// A draft may be partial.
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": partial, "comment": "Ý tưởng tốt", "version": 1}, j.tok)
	expectStatus(t, r, http.StatusOK)
	var a models.Assignment
	r.json(t, &a)
	if a.Status != models.AssignDraft || a.Total != 15 || a.Version != 2 {
		t.Fatalf("draft: %s", r.body)
	}
	// A stale version is refused and changes nothing.
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": fullScores(1), "version": 1}, j.tok)
	expectStatus(t, r, http.StatusConflict)
	stored, _ := f.a.Store().AssignmentByID(context.Background(), aid)
	if stored.Total != 15 {
		t.Fatalf("stale write changed the review: %+v", stored)
	}
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": fullScores(10), "note": "riêng", "submit": true, "version": 2}, j.tok)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &a)
	want := models.ReviewTotal(models.DefaultRubric(), fullScores(10))
	if a.Status != models.AssignSubmitted || a.Total != want || a.SubmittedAt == nil {
		t.Fatalf("submitted: %s", r.body)
	}
	// Now the other reviews are visible (none submitted yet: an empty list).
	r = j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+aid+"/reviews", nil, j.tok)
	expectStatus(t, r, http.StatusOK)
	// A change to a submitted score is kept in the history.
	changed := fullScores(10)
	changed["market"] = 12
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": changed, "version": 3}, j.tok)
	expectStatus(t, r, http.StatusOK)
	stored, _ = f.a.Store().AssignmentByID(context.Background(), aid)
	if len(stored.History) != 1 || stored.History[0].Criterion != "market" || stored.History[0].Old != 10 || stored.History[0].New != 12 || stored.History[0].By != j.id {
		t.Fatalf("history %+v", stored.History)
	}
	if q := f.queue(t, j); q.Counts.Submitted != 1 {
		t.Fatalf("queue counts after submit: %+v", q.Counts)
	}

	// Another judge of the same entry sees j's scores after submitting.
	var other *councilJudge
	for _, k := range f.judges {
		if k == j {
			continue
		}
		if _, err := f.a.Store().FindAssignment(context.Background(), f.compID, roundKey, stored.EntryID, k.id); err == nil {
			other = k
		}
	}
	if other == nil {
		t.Fatal("no second judge on the entry")
	}
	oid := models.AssignmentID(f.compID, roundKey, stored.EntryID, other.id)
	expectStatus(t, other.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+oid+"/reviews", nil, other.tok), http.StatusForbidden)
	expectStatus(t, other.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+oid+"/review", map[string]any{"scores": fullScores(5), "submit": true}, other.tok), http.StatusOK)
	r = other.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+oid+"/reviews", nil, other.tok)
	expectStatus(t, r, http.StatusOK)
	var revs struct {
		Reviews []models.OtherScore `json:"reviews"`
	}
	r.json(t, &revs)
	if len(revs.Reviews) != 1 || revs.Reviews[0].Scores["market"] != 12 || strings.Contains(r.text(), "riêng") {
		t.Fatalf("others' reviews: %s", r.body)
	}
	// A judge cannot act on another judge's assignment.
	expectStatus(t, other.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": fullScores(1)}, other.tok), http.StatusNotFound)

	// Once the competition is finalised, scores are locked.
	for _, to := range []string{"closed", "judging", "finalized"} {
		expectStatus(t, f.staff.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+f.compID+"/transition", map[string]string{"to": to}, f.stok), http.StatusOK)
	}
	r = j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+aid+"/review", map[string]any{"scores": fullScores(1), "submit": true}, j.tok)
	expectStatus(t, r, http.StatusConflict)
	if s, _ := f.a.Store().AssignmentByID(context.Background(), aid); s.Scores["market"] != 12 {
		t.Fatalf("locked review changed: %+v", s.Scores)
	}
}

// TestConflictFreesSlot: a declared conflict hides the entry from the
// judge everywhere, frees the slot for the chair, is never overridden by a
// plain judge, and a chair's override is logged.
func TestConflictFreesSlot(t *testing.T) {
	f := newCouncil(t, 4, 3)
	f.addPanel(t, 1) // judge 0 is on entry 0's team: a chair who would not see it
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 2, "seed": 7}, f.stok), http.StatusOK)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.stok), http.StatusOK)
	j := f.judges[2]
	q := f.queue(t, j)
	row := q.Rows[0]
	expectStatus(t, j.c.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+row.AssignmentID+"/conflict", map[string]string{"reason": ""}, j.tok), http.StatusUnprocessableEntity)
	expectStatus(t, j.c.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+row.AssignmentID+"/conflict", map[string]string{"reason": "Người nhà"}, j.tok), http.StatusOK)

	// The conflicted judge sees the entry nowhere: every answer is scanned
	// for its id and title.
	leaks := []*response{
		j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments", nil, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+row.AssignmentID+"/entry", nil, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+row.AssignmentID+"/deck", nil, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+row.AssignmentID+"/reviews", nil, j.tok),
		j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+row.AssignmentID+"/review", map[string]any{"scores": fullScores(3)}, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/entries/"+row.EntryID, nil, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/entries/"+row.EntryID+"/deck", nil, j.tok),
		j.c.jsonReq(http.MethodGet, apiPrefix+"/competitions/"+f.compID+"/rounds/"+roundKey+"/assignments", nil, j.tok),
	}
	expectStatus(t, j.c.signIn(j.email, goodPassword), http.StatusSeeOther)
	leaks = append(leaks, j.c.get("/judge"), j.c.get("/judge/assignments/"+row.AssignmentID), j.c.get("/account"),
		j.c.get("/council/"+f.compID+"/rounds/"+roundKey))
	for i, r := range leaks {
		if strings.Contains(r.text(), row.EntryID) || strings.Contains(r.text(), row.Title) {
			t.Errorf("answer %d (%d) shows the conflicted entry: %.300s", i, r.StatusCode, r.body)
		}
		if i >= 1 && i <= 7 && r.StatusCode != http.StatusNotFound {
			t.Errorf("answer %d: status %d, want 404", i, r.StatusCode)
		}
	}

	// The chair sees the free slot and fills it with the other free judge.
	chair := f.judges[1]
	r := chair.c.jsonReq(http.MethodGet, f.roundPath("/assignments"), nil, chair.tok)
	expectStatus(t, r, http.StatusOK)
	var sheet struct {
		Entries []struct {
			EntryID   string `json:"entry_id"`
			Free      int    `json:"free"`
			Conflicts []struct {
				UserID string `json:"user_id"`
			} `json:"conflicts"`
		} `json:"entries"`
	}
	r.json(t, &sheet)
	found := false
	for _, e := range sheet.Entries {
		if e.EntryID == row.EntryID {
			found = e.Free == 1 && len(e.Conflicts) == 1 && e.Conflicts[0].UserID == j.id
		}
	}
	if !found {
		t.Fatalf("chair's sheet does not show the freed slot: %s", r.body)
	}
	// Assigning the conflicted judge again is refused.
	expectStatus(t, chair.c.jsonReq(http.MethodPost, f.roundPath("/assignments"), map[string]string{"entry_id": row.EntryID, "judge_id": j.id}, chair.tok), http.StatusConflict)
	// A plain judge cannot override; staff who are not chairs cannot
	// either; the chair can, and it is logged.
	other := f.judges[0]
	expectStatus(t, other.c.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+row.AssignmentID+"/override", map[string]string{"reason": "x"}, other.tok), http.StatusNotFound)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+row.AssignmentID+"/override", map[string]string{"reason": "x"}, f.stok), http.StatusForbidden)
	expectStatus(t, chair.c.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+row.AssignmentID+"/override", map[string]string{"reason": "Đã xác minh không liên quan"}, chair.tok), http.StatusOK)
	expectStatus(t, j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+row.AssignmentID+"/entry", nil, j.tok), http.StatusOK)
	if n := auditCount(t, f, "conflict:overridden"); n != 1 {
		t.Fatalf("override audit entries: %d", n)
	}
	if n := auditCount(t, f, "conflict:declared"); n != 1 {
		t.Fatalf("declaration audit entries: %d", n)
	}
}

func auditCount(t *testing.T, f *councilFixture, action string) int64 {
	t.Helper()
	n, err := f.a.Store().DB().Collection("audit").CountDocuments(context.Background(), map[string]any{"action": action})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBlindRoundLeaksNothing scans every judge-facing answer of a blind
// round — API, pages, the deck and its headers — for the team's names,
// e-mails and the deck's file name.
func TestBlindRoundLeaksNothing(t *testing.T) {
	f := newCouncil(t, 3, 3)
	f.addPanel(t, 0)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 2, "seed": 1}, f.stok), http.StatusOK)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.stok), http.StatusOK)
	secrets := []string{"mai@example.vn", "Hoàng Thị Mai"}
	for _, e := range f.entries {
		secrets = append(secrets, e.leader, asciiName(e.leader), e.leaderEmail, e.member, e.memberEmail, "Hồ sơ của", url.PathEscape("Hồ sơ"))
	}
	// Entry 0's member is judge 0 (an automatic conflict): their own name
	// and address on their own pages are not a leak.
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == f.judges[0].email })
	// The original decks do name their authors: the scan would catch them.
	orig := f.staff.jsonReq(http.MethodGet, apiPrefix+"/entries/"+f.entries[1].id+"/deck", nil, f.stok)
	if !strings.Contains(orig.text(), asciiName(f.entries[1].leader)) {
		t.Fatalf("precondition: the original deck does not name its author")
	}
	decks := 0
	for _, j := range f.judges {
		expectStatus(t, j.c.signIn(j.email, goodPassword), http.StatusSeeOther)
		var answers []*response
		q := f.queue(t, j)
		answers = append(answers, j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments", nil, j.tok), j.c.get("/judge"))
		for _, row := range q.Rows {
			id := row.AssignmentID
			answers = append(answers,
				j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+id+"/entry", nil, j.tok),
				j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+id+"/review", map[string]any{"scores": fullScores(8), "submit": true}, j.tok),
				j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+id+"/reviews", nil, j.tok),
				j.c.get("/judge/assignments/"+id),
				j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+id+"/deck", nil, j.tok),
			)
		}
		for _, r := range answers {
			if r.StatusCode != http.StatusOK {
				t.Fatalf("judge answer %d: %.300s", r.StatusCode, r.body)
			}
			raw := r.text()
			for k, vs := range r.Header {
				raw += "\n" + k + ": " + strings.Join(vs, ",")
			}
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/pdf") {
				decks++
				if !strings.HasPrefix(raw, "%PDF") {
					t.Fatalf("deck download is not a PDF: %.100q", raw)
				}
			}
			for _, s := range secrets {
				if strings.Contains(raw, s) {
					t.Errorf("a judge-facing answer names the team (%q): %.400s", s, raw)
				}
			}
		}
	}
	if decks < 6 {
		t.Fatalf("only %d deck downloads scanned", decks)
	}
}

// TestQueueRowRepairedAfterCrash: a crash between an assignment's write and
// its queue row's leaves the row behind; the next read of the assignment
// puts it right, and a rebuild makes every queue again from the truth.
func TestQueueRowRepairedAfterCrash(t *testing.T) {
	f := newCouncil(t, 2, 2)
	f.addPanel(t, 0)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 1, "seed": 3}, f.stok), http.StatusOK)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.stok), http.StatusOK)
	j := f.judges[1]
	row := f.queue(t, j).Rows[0]
	ctx := context.Background()
	// Queues are stored as one deflated value, not one sub-document per
	// row (FerretDB's read cost follows the number of fields).
	var raw map[string]any
	if err := f.a.Store().DB().Collection("judge_queues").FindOne(ctx, map[string]any{"_id": f.compID + ":" + j.id}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["rows"]; ok || raw["rows_z"] == nil || raw["n"] == nil {
		t.Fatalf("queue stored as %v", raw)
	}
	// The "crash": the review is written, the row is not.
	if _, err := f.a.Store().DB().Collection("assignments").UpdateOne(ctx, map[string]any{"_id": row.AssignmentID},
		map[string]any{"$set": map[string]any{"status": "submitted", "total": 42.0, "scores": fullScores(5)}, "$inc": map[string]any{"version": 1}}); err != nil {
		t.Fatal(err)
	}
	if q := f.queue(t, j); q.Rows[0].Status != models.AssignPending {
		t.Fatalf("precondition: row already %s", q.Rows[0].Status)
	}
	expectStatus(t, j.c.jsonReq(http.MethodGet, apiPrefix+"/assignments/"+row.AssignmentID+"/entry", nil, j.tok), http.StatusOK)
	if q := f.queue(t, j); q.Rows[0].Status != models.AssignSubmitted || q.Rows[0].Total != 42 || q.Counts.Submitted != 1 {
		t.Fatalf("row not repaired: %+v", q.Rows[0])
	}
	// Lose the queue documents altogether: a rebuild brings them back.
	if _, err := f.a.Store().DB().Collection("judge_queues").DeleteMany(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Store().RebuildQueues(ctx, f.compID, []string{f.judges[0].id, j.id}, map[string]models.QueueRow{}); err != nil {
		t.Fatal(err)
	}
	if q := f.queue(t, j); len(q.Rows) != 1 || q.Rows[0].Status != models.AssignSubmitted {
		t.Fatalf("rebuilt queue %+v", q.Rows)
	}
}

// TestRankingAPI: staff see the ranking at any time, a judge only after
// submitting every review assigned to them and never the entries they are
// conflicted on; the mean is the hand-computed one; CSV and the page show
// the same rows.
func TestRankingAPI(t *testing.T) {
	f := newCouncil(t, 4, 3)
	f.addPanel(t, 1)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/assign"), map[string]any{"per_entry": 2, "seed": 5}, f.stok), http.StatusOK)
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.stok), http.StatusOK)
	// Judge i scores every criterion (i+1)*2 (capped at the criterion's max).
	j0 := f.judges[0]
	expectStatus(t, j0.c.jsonReq(http.MethodGet, f.roundPath("/ranking"), nil, j0.tok), http.StatusForbidden)
	want := map[string][]float64{}
	for i, j := range f.judges {
		for _, row := range f.queue(t, j).Rows {
			s := fullScores((i + 1) * 2)
			expectStatus(t, j.c.jsonReq(http.MethodPut, apiPrefix+"/assignments/"+row.AssignmentID+"/review", map[string]any{"scores": s, "submit": true}, j.tok), http.StatusOK)
			want[row.EntryID] = append(want[row.EntryID], models.ReviewTotal(models.DefaultRubric(), s))
		}
	}
	r := f.staff.jsonReq(http.MethodGet, f.roundPath("/ranking")+"?method=mean", nil, f.stok)
	expectStatus(t, r, http.StatusOK)
	var v struct {
		Method string `json:"method"`
		Rows   []struct {
			EntryID string             `json:"entry_id"`
			Rank    int                `json:"rank"`
			Mean    float64            `json:"mean"`
			Judges  int                `json:"judges"`
			Ranks   map[string]int     `json:"ranks"`
			Flags   []string           `json:"flags"`
			Means   map[string]float64 `json:"criterion_means"`
		} `json:"rows"`
	}
	r.json(t, &v)
	if v.Method != "mean" || len(v.Rows) != 4 {
		t.Fatalf("ranking %s", r.body)
	}
	seen := map[int]bool{}
	for _, row := range v.Rows {
		ts := want[row.EntryID]
		mean := (ts[0] + ts[1]) / 2
		if row.Judges != 2 || row.Mean != mean || len(row.Ranks) != 4 {
			t.Errorf("entry %s: judges %d mean %v, want 2 and %v (%v)", row.EntryID, row.Judges, row.Mean, mean, ts)
		}
		seen[row.Rank] = true
	}
	if len(seen) != 4 || !seen[1] || !seen[4] {
		t.Fatalf("ranks are not 1..4: %v", seen)
	}
	for i := 1; i < len(v.Rows); i++ {
		if v.Rows[i].Mean > v.Rows[i-1].Mean {
			t.Fatalf("rows not ordered by mean: %s", r.body)
		}
	}
	// Judge 0 (on entry 0's team) sees the ranking now, without entry 0.
	r = j0.c.jsonReq(http.MethodGet, f.roundPath("/ranking"), nil, j0.tok)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.text(), f.entries[0].id) || strings.Contains(r.text(), f.entries[0].title) {
		t.Fatalf("a conflicted judge sees the entry in the ranking: %.300s", r.body)
	}
	// Someone not on the panel: 404; an applicant: 403.
	off := makeUser(t, f.a, "ngoaihoidong@example.vn", models.RoleJudge)
	_ = off
	expectStatus(t, newClient(t, f.a).jsonReq(http.MethodGet, f.roundPath("/ranking"), nil, token(t, newClient(t, f.a), "ngoaihoidong@example.vn", goodPassword)), http.StatusNotFound)
	expectStatus(t, newClient(t, f.a).jsonReq(http.MethodGet, f.roundPath("/ranking"), nil, f.atok), http.StatusForbidden)
	// The page and the CSV.
	st := f.loginClient(t, "canbo@example.vn")
	page := st.get("/council/" + f.compID + "/rounds/" + roundKey + "/ranking?method=zscore")
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.text(), "Chuẩn hoá theo giám khảo") || !strings.Contains(page.text(), f.entries[1].title) {
		t.Fatalf("ranking page: %.500s", page.body)
	}
	csvr := st.get("/council/" + f.compID + "/rounds/" + roundKey + "/ranking.csv")
	expectStatus(t, csvr, http.StatusOK)
	if !strings.HasPrefix(csvr.text(), "\ufeff") || strings.Count(csvr.text(), "\n") != 5 || !strings.Contains(csvr.text(), f.entries[2].title) {
		t.Fatalf("ranking CSV: %q", csvr.body)
	}
}
