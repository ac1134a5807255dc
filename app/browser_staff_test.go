package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// TestBrowserStaffRunsCompetition: staff create a competition with the
// form (times in Vietnam time), open it, find an entry by a search typed
// without accents, read it and reopen it.
func TestBrowserStaffRunsCompetition(t *testing.T) {
	j := newJourney(t)
	seedEntries(t, j)
	base := apptest.Serve(t, j.a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains
	browserUser(t, j.a, "bientap@example.vn", "Cán Bộ Chương Trình", models.RoleStaff)

	browserDo(t, ctx, "open /login", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", "bientap@example.vn"}, {"f-password", browserPassword}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	resp := browserGet(t, ctx, "open /staff", chromedp.NavigateResponse(base+"/staff"))
	browserWantPage(t, ctx, resp, base+"/staff", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("main table"), "Ý tưởng khởi nghiệp Lào Cai 2026")

	// A new competition through the form.
	browserSubmit(t, ctx, chromedp.CSS(`a[href="/staff/competitions/new"]`))
	browserFill(t, ctx, [][2]string{{"f-title_vi", "Khởi nghiệp nữ 2027"}, {"f-title_en", "Women startups 2027"}})
	browserDo(t, ctx, "set dates",
		chromedp.SetValue(chromedp.ID("f-opens_at"), "2027-01-01T08:00"),
		chromedp.SetValue(chromedp.ID("f-closes_at"), "2027-03-31T17:00"),
		chromedp.SetValue(chromedp.ID("f-year"), "2027"))
	resp = browserSubmit(t, ctx, chromedp.CSS(`main form[action="/staff/competitions"] button[type=submit]`))
	if resp.Status != http.StatusOK {
		t.Fatalf("create competition: status %d", resp.Status)
	}
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã lưu cuộc thi.")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Khởi nghiệp nữ 2027")
	browserSubmit(t, ctx, chromedp.CSS(`button[name=to][value=open]`))
	browserWantText(t, ctx, chromedp.CSS("main .panel .badge"), "Đang nhận hồ sơ")
	loc := browserGet(t, ctx, "location", chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	comp, err := j.a.Store().CompetitionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Status != models.CompOpen || comp.ClosesAt.UTC().Hour() != 10 {
		t.Fatalf("stored competition %s closes %v", comp.Status, comp.ClosesAt)
	}

	// The seeded competition's entries, searched without accents.
	browserDo(t, ctx, "open entries", chromedp.Navigate(base+"/staff/competitions/"+j.compID+"/entries"))
	browserWantText(t, ctx, chromedp.CSS("ul.counts"), "Tổng: 3")
	browserFill(t, ctx, [][2]string{{"f-q", "muong khuong"}})
	browserSubmit(t, ctx, chromedp.CSS(`form.filters button[type=submit]`))
	if n := browserCount(t, ctx, "main table tbody tr"); n != 1 {
		t.Fatalf("search shows %d rows, want 1", n)
	}
	browserSubmit(t, ctx, chromedp.CSS(`main table tbody tr a[href^="/staff/entries/"]`))
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Mật ong bạc hà")
	browserFill(t, ctx, [][2]string{{"f-reason", "Thiếu trang kế hoạch"}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/reopen"] button`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã mở lại hồ sơ")
	browserWantText(t, ctx, chromedp.CSS("ol.timeline"), "Thiếu trang kế hoạch")
	browserScreenshot(t, ctx, "staff-entry.png")
}
