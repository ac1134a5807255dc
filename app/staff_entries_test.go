package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

// seedEntries makes three applicants' entries in the journey's competition.
func seedEntries(t *testing.T, j *journey) map[string]string {
	ids := map[string]string{}
	for _, s := range []struct{ email, title, commune, gender, track string }{
		{"a1@example.vn", "Trà shan tuyết", "Bắc Hà", "female", "idea"},
		{"a2@example.vn", "=HYPERLINK(\"x\")", "Sa Pa", "male", "project"},
		{"a3@example.vn", "Mật ong bạc hà", "Mường Khương", "male", "idea"},
	} {
		c := newClient(t, j.a)
		body := applicantBody(s.email)
		body["gender"] = s.gender
		expectStatus(t, c.jsonReq(http.MethodPost, "/api/v1/accounts", body, ""), http.StatusCreated)
		tok := token(t, c, s.email, goodPassword)
		eb := entryBody()
		eb["title"], eb["commune"], eb["track"], eb["team"] = s.title, s.commune, s.track, []any{}
		r := c.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", eb, tok)
		expectStatus(t, r, http.StatusCreated)
		var e models.Entry
		r.json(t, &e)
		ids[s.email] = e.ID
	}
	// One of them is submitted.
	id := ids["a3@example.vn"]
	if err := j.a.Store().AttachDeck(context.Background(), id, models.Deck{Key: "decks/x", Filename: "d.pdf", UploadedAt: j.clk.now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.a.Store().SetEntryStatus(context.Background(), id, []models.EntryStatus{models.EntryDraft}, models.EntrySubmitted, "t", ""); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestStaffEntryViews(t *testing.T) {
	j := newJourney(t)
	ids := seedEntries(t, j)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("canbo@example.vn", goodPassword), http.StatusSeeOther)
	base := "/staff/competitions/" + j.compID + "/entries"

	r := c.get(base)
	expectStatus(t, r, http.StatusOK)
	for _, want := range []string{"Tổng: <strong>3</strong>", "Bản nháp: <strong>2</strong>", "Đã nộp: <strong>1</strong>", "Trà shan tuyết", "Mật ong bạc hà"} {
		if !strings.Contains(r.text(), want) {
			t.Fatalf("list lacks %q: %.4000s", want, r.body)
		}
	}
	cases := []struct {
		query     string
		want, not []string
	}{
		{"?q=bac+ha", []string{"Trà shan tuyết", "Mật ong bạc hà"}, []string{"Sa Pa"}}, // commune Bắc Hà and "bạc hà" in a title
		{"?commune=BAC+HA", []string{"Trà shan tuyết"}, []string{"Mật ong"}},
		{"?status=submitted", []string{"Mật ong bạc hà"}, []string{"Trà shan tuyết"}},
		{"?track=project", []string{"HYPERLINK"}, []string{"Trà shan tuyết"}},
		{"?women_led=1", []string{"Trà shan tuyết"}, []string{"Mật ong"}},
		{"?q=muong+khuong", []string{"Mật ong bạc hà"}, []string{"Trà shan tuyết"}},
	}
	for _, tc := range cases {
		r := c.get(base + tc.query)
		expectStatus(t, r, http.StatusOK)
		for _, w := range tc.want {
			if !strings.Contains(r.text(), w) {
				t.Errorf("%s: missing %q", tc.query, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.text(), n) {
				t.Errorf("%s: should not show %q", tc.query, n)
			}
		}
	}
	// Operator-looking filters never reach a query.
	expectStatus(t, c.get(base+"?status[$ne]=draft"), http.StatusBadRequest)

	// CSV: BOM, translated header, formula cells neutralised, filter applied.
	r = c.get(base + ".csv?track=idea")
	expectStatus(t, r, http.StatusOK)
	if !bytes.HasPrefix(r.body, []byte("\xef\xbb\xbf")) || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv start %q, headers %v", r.body[:10], r.Header)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][1] != "Tên ý tưởng" {
		t.Fatalf("csv rows %v", rows)
	}
	all := c.get(base + ".csv")
	if !strings.Contains(all.text(), `'=HYPERLINK`) {
		t.Fatalf("formula not neutralised: %s", all.body)
	}

	// Detail page, audited; reopen with a reason.
	r = c.get("/staff/entries/" + ids["a3@example.vn"])
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), "Mật ong bạc hà") || !strings.Contains(r.text(), "Mở lại hồ sơ") {
		t.Fatalf("detail: %.3000s", r.body)
	}
	tok := c.csrfFrom("/staff/entries/" + ids["a3@example.vn"])
	r = c.form("/staff/entries/"+ids["a3@example.vn"]+"/reopen", map[string][]string{"reason": {"thiếu trang 3"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	e, _ := j.a.Store().EntryByID(context.Background(), ids["a3@example.vn"])
	if e.Status != models.EntryDraft || e.Timeline[len(e.Timeline)-1].Note != "thiếu trang 3" {
		t.Fatalf("reopen: %s %+v", e.Status, e.Timeline)
	}
	// Applicants cannot see staff views.
	a := newClient(t, j.a)
	expectStatus(t, a.signIn("a1@example.vn", goodPassword), http.StatusSeeOther)
	expectStatus(t, a.get(base), http.StatusForbidden)
	expectStatus(t, a.get(base+".csv"), http.StatusForbidden)
}
