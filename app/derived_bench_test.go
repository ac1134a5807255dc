package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// BenchmarkCompetitionRows: the staff list's read, at 500 entries, on the
// test stack (go test -run '^$' -bench CompetitionRows ./app/).
func BenchmarkCompetitionRows(b *testing.B) {
	a := apptest.NewApp(b, stack.Config(b))
	ctx := context.Background()
	st := a.Store()
	comp := &models.Competition{Title: models.Text{VI: "Thi"}, Year: 2026}
	if err := st.CreateCompetition(ctx, comp); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		e := &models.Entry{CompetitionID: comp.ID, LeaderID: fmt.Sprintf("u-%d", i), LeaderName: "Hoàng Thị Mai",
			Dossier: models.Dossier{Title: fmt.Sprintf("Trà shan tuyết Bắc Hà số %d", i), Commune: "Bắc Hà", Track: "idea", Sector: "agriculture"},
			Team:    []models.Member{{Name: "Lù Văn Sinh"}, {Name: "Giàng Thị Mỷ"}}}
		if err := st.CreateEntry(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	// The test stack indexes new collection tables every 30 s (FixIndexes),
	// as sprout serve does at start: wait for it.
	time.Sleep(31 * time.Second)
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			rows, err := st.CompetitionRows(ctx, comp.ID)
			if err != nil || len(rows) != 500 {
				b.Fatal(len(rows), err)
			}
		}
	})
	b.Run("one bucket, raw", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.DB().Collection("entry_lists").FindOne(ctx, bson.M{"_id": comp.ID + ":0"}).Raw(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one entry, raw", func(b *testing.B) {
		var e bson.M
		_ = st.DB().Collection("entries").FindOne(ctx, bson.M{}).Decode(&e)
		for b.Loop() {
			if _, err := st.DB().Collection("entries").FindOne(ctx, bson.M{"_id": e["_id"]}).Raw(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("competition", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.CompetitionByID(ctx, comp.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAccountPage: GET /account signed in with a cookie session,
// through the whole app in-process (go test -run '^$' -bench AccountPage
// -cpuprofile …), to see where a page's time goes.
func BenchmarkAccountPage(b *testing.B) {
	a := apptest.NewApp(b, stack.Config(b))
	u := &models.User{Email: "mai@example.vn", Name: "Mai", Roles: []models.Role{models.RoleApplicant}}
	h, _ := models.HashPassword(goodPassword)
	u.PasswordHash = h
	if err := a.Store().CreateUser(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	time.Sleep(31 * time.Second) // FixIndexes on the new tables
	login := httptest.NewRequest(http.MethodGet, "/login", nil)
	resp, err := a.Handler().Test(login, -1)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	cookies := resp.Cookies()
	m := csrfInput.FindSubmatch(page)
	form := url.Values{"email": {u.Email}, "password": {goodPassword}, "_csrf": {string(m[1])}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err = a.Handler().Test(req, -1)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatal(resp.StatusCode, err)
	}
	cookies = resp.Cookies()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/account", nil)
		req.Header.Set("Accept-Encoding", "br")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := a.Handler().Test(req, -1)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}

// BenchmarkStaffListPage: the first page of the staff list at 500 entries,
// through the whole app in-process, with a bearer token.
func BenchmarkStaffListPage(b *testing.B) {
	a := apptest.NewApp(b, stack.Config(b))
	ctx := context.Background()
	st := a.Store()
	h, _ := models.HashPassword(goodPassword)
	if err := st.CreateUser(ctx, &models.User{Email: "canbo@example.vn", Name: "Cán bộ", PasswordHash: h, Roles: []models.Role{models.RoleStaff}}); err != nil {
		b.Fatal(err)
	}
	comp := &models.Competition{Title: models.Text{VI: "Thi"}, Year: 2026, Tracks: []string{"idea"}}
	if err := st.CreateCompetition(ctx, comp); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		e := &models.Entry{CompetitionID: comp.ID, LeaderID: fmt.Sprintf("u-%d", i), LeaderName: "Hoàng Thị Mai",
			Dossier: models.Dossier{Title: fmt.Sprintf("Trà shan tuyết Bắc Hà số %d", i), Commune: "Bắc Hà", Track: "idea", Sector: "agriculture"},
			Team:    []models.Member{{Name: "Lù Văn Sinh"}, {Name: "Giàng Thị Mỷ"}}}
		if err := st.CreateEntry(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", strings.NewReader(`{"email":"canbo@example.vn","password":"`+goodPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.Handler().Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	tok := strings.Split(strings.Split(string(body), `"token":"`)[1], `"`)[0]
	time.Sleep(31 * time.Second) // FixIndexes on the new tables
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/staff/competitions/"+comp.ID+"/entries", nil)
		req.Header.Set("Accept-Encoding", "br")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := a.Handler().Test(req, -1)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.StatusCode, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}
