package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// TestBrowserCouncilJourney: staff form the panel and assign and release a
// round with the council pages on a desktop; a judge then scores an entry
// on a 390-px phone, seeing the total as they type, and declares a conflict
// on another.
func TestBrowserCouncilJourney(t *testing.T) {
	f := newCouncil(t, 4, 3)
	base := apptest.Serve(t, f.a)
	ctx := newBrowser(t)
	browserUser(t, f.a, "hoidong@example.vn", "Cán Bộ Hội Đồng", models.RoleStaff)

	browserDo(t, ctx, "open /login", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", "hoidong@example.vn"}, {"f-password", browserPassword}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserDo(t, ctx, "open the panel", chromedp.Navigate(base+"/staff"))
	browserSubmit(t, ctx, chromedp.CSS(`a[href="/council/`+f.compID+`"]`))
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Hội đồng giám khảo")
	// A wrong address keeps what was typed and says why.
	browserFill(t, ctx, [][2]string{{"f-email", "khongco@example.vn"}, {"f-sectors", "agriculture"}})
	resp := browserSubmit(t, ctx, chromedp.CSS(`form[action$="/judges"] button`))
	if resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown judge: status %d", resp.Status)
	}
	browserWantText(t, ctx, chromedp.CSS(".alert"), "không phải giám khảo")
	for i, j := range f.judges {
		browserDo(t, ctx, "clear the form", chromedp.Evaluate[chromedp.Void](`document.getElementById('f-email').value = ''; document.getElementById('f-sectors').value = ''`))
		browserFill(t, ctx, [][2]string{{"f-email", j.email}, {"f-sectors", "agriculture"}})
		if i == 0 {
			browserDo(t, ctx, "tick chair", chromedp.Click(chromedp.CSS(`input[name=chair]`)))
		}
		browserSubmit(t, ctx, chromedp.CSS(`form[action$="/judges"] button`))
		browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã thêm vào hội đồng.")
	}
	if n := browserCount(t, ctx, "main table tbody tr"); n != 3 {
		t.Fatalf("panel shows %d judges", n)
	}
	browserSubmit(t, ctx, chromedp.CSS(`a[href="/council/`+f.compID+`/rounds/`+roundKey+`"]`))
	browserDo(t, ctx, "two judges per entry", chromedp.Evaluate[chromedp.Void](`document.getElementById('f-per_entry').value = '2'; document.getElementById('f-seed').value = '42'`))
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/assign"] button`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã phân công")
	browserWantText(t, ctx, chromedp.CSS("main"), "8 lượt chấm")
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/release"] button`))
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Đã giao cho giám khảo")
	browserScreenshot(t, ctx, "council-round.png")
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/logout"] button`))

	// The judge, on a phone.
	j := f.judges[1]
	browserDo(t, ctx, "phone /login", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", j.email}, {"f-password", goodPassword}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	loc := browserGet(t, ctx, "location", chromedp.Location())
	if !strings.HasSuffix(loc, "/judge") {
		t.Fatalf("judge lands on %s", loc)
	}
	q := f.queue(t, j)
	browserWantText(t, ctx, chromedp.CSS("main .panel p"), fmt.Sprintf("Chưa chấm: %d", len(q.Rows)))
	browserSubmit(t, ctx, chromedp.CSS(`main .panel a.button`))
	var fill [][2]string
	want := 0
	for i, c := range models.DefaultRubric() {
		v := c.Max - i%3
		want += v
		fill = append(fill, [2]string{"f-scores." + c.Key, fmt.Sprint(v)})
	}
	for _, kv := range fill {
		browserDo(t, ctx, "score "+kv[0], chromedp.SendKeys(chromedp.CSS(`input[id="`+kv[0]+`"]`), kv[1]))
	}
	browserWantText(t, ctx, chromedp.ID("total"), fmt.Sprint(want))
	browserFill(t, ctx, [][2]string{{"f-comment", "Cần làm rõ thị trường."}})
	browserScreenshot(t, ctx, "judge-scoring-phone.png")
	browserSubmit(t, ctx, chromedp.CSS(`button[name=submit][value="1"]`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã nộp điểm.")
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Đã nộp điểm")
	if wide := browserGet(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); wide > 390 {
		t.Errorf("scoring page is %d px wide on a 390-px phone", wide)
	}
	a, err := f.a.Store().AssignmentByID(context.Background(), q.Rows[0].AssignmentID)
	if err != nil || a.Status != models.AssignSubmitted || int(a.Total) != want || a.Comment != "Cần làm rõ thị trường." {
		t.Fatalf("stored review %+v (%v), want total %d", a, err, want)
	}

	// A conflict on the next entry hands it back.
	browserDo(t, ctx, "home", chromedp.Navigate(base+"/judge"))
	browserSubmit(t, ctx, chromedp.CSS(`main .panel a.button`))
	browserDo(t, ctx, "open conflict", chromedp.Click(chromedp.CSS(`details.panel summary`)))
	browserFill(t, ctx, [][2]string{{"f-reason", "Người nhà"}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/conflict"] button`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "xung đột lợi ích")
	if n := browserCount(t, ctx, "main .panel ul.entries li"); n != len(q.Rows)-1 {
		t.Fatalf("home lists %d entries after the conflict, want %d", n, len(q.Rows)-1)
	}
}
