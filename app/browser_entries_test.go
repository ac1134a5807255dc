package app_test

// Browser journeys of an applicant's entry: from the competition on the
// home page to a submitted dossier with its pitch deck, on a phone.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// The competition newJourney opens, as the pages show it (its clock stands
// at 10:00 on 27 November 2026 in Vietnam; it closes at 23:59:59 on 31
// December).
const (
	journeyCompTitle = "Ý tưởng khởi nghiệp Lào Cai 2026"
	journeyDeadline  = "31/12/2026 23:59"
	journeyTimeLeft  = "Còn 34 ngày 13 giờ"
	journeyEmail     = "mai@example.vn"
	journeyEntry     = "Trà shan tuyết Bắc Hà"
)

// browserWaitText waits until the element css matches contains want (the
// page may be rewritten by script meanwhile) and fails after 20 seconds.
func browserWaitText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	q, _ := json.Marshal(css)
	w, _ := json.Marshal(want)
	expr := `(function(){var e=document.querySelector(` + string(q) + `);return !!e && e.textContent.replace(/\s+/g," ").indexOf(` + string(w) + `)>=0;})()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("waiting for %q in %s: %v; the page says: %.1500s", want, css, err, got)
	}
}

// browserSignIn signs in through /login and lands on /account.
func browserSignIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Đăng nhập")
	browserFill(t, ctx, [][2]string{{"f-email", email}, {"f-password", password}})
	resp := browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/account", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đăng nhập thành công.")
}

// entryOf reads an entry from the store.
func entryOf(t *testing.T, j *journey, id string) *models.Entry {
	t.Helper()
	e, err := j.a.Store().EntryByID(context.Background(), id)
	if err != nil {
		t.Fatalf("entry %s: %v", id, err)
	}
	return e
}

// TestBrowserApplicantEntryJourney: an applicant on a phone finds the open
// competition on the home page, signs in, starts an entry, fills the
// dossier, is told what is missing, uploads a deck (with JavaScript: by
// XHR with a progress bar), is refused a PNG renamed .pdf, and submits.
func TestBrowserApplicantEntryJourney(t *testing.T) {
	j := newJourney(t)
	base := apptest.Serve(t, j.a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains
	validDeck := apptest.FixturePath(t, "valid-deck.pdf")
	pngDeck := apptest.FixturePath(t, "png-renamed.pdf")

	// The home page lists the open competition with its deadline.
	browserDo(t, ctx, "open the home page on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/"))
	browserWantPage(t, ctx, nil, base+"/", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.ID("open-title"), "Đang nhận hồ sơ")
	if n := browserCount(t, ctx, "article.card.competition"); n != 1 {
		t.Fatalf("home page lists %d open competitions, want 1", n)
	}
	card := browserText(t, ctx, chromedp.CSS("article.card.competition"))
	for _, want := range []string{journeyCompTitle, "Hạn chót: " + journeyDeadline, journeyTimeLeft} {
		if !strings.Contains(card, want) {
			t.Errorf("competition card %q lacks %q", card, want)
		}
	}

	// Click through to the competition page: rules and deadline; signed
	// out, it offers to register or sign in.
	compPath := "/competitions/" + j.compID
	resp := browserSubmit(t, ctx, chromedp.CSS(`article.card.competition h3 a[href="`+compPath+`"]`))
	browserWantPage(t, ctx, resp, base+compPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("main h1"), journeyCompTitle)
	facts := browserText(t, ctx, chromedp.CSS("dl.facts"))
	for _, want := range []string{"Đang nhận hồ sơ", journeyDeadline, "Giờ Việt Nam (UTC+7)", "từ 18 đến 35 tuổi", "đội tối đa 3 người", "PDF hoặc PPTX, tối đa 20 MB."} {
		if !strings.Contains(facts, want) {
			t.Errorf("competition facts %q lack %q", facts, want)
		}
	}
	if n := browserCount(t, ctx, `form[action="`+compPath+`/entries"]`); n != 0 {
		t.Error("the competition page offers to start an entry to someone signed out")
	}

	// Sign in (the applicant registered through the API) and come back.
	resp = browserSubmit(t, ctx, chromedp.CSS(`main a[href="/login"]`))
	browserWantPage(t, ctx, resp, base+"/login", http.StatusOK, "vi")
	browserSignIn(t, ctx, base, journeyEmail, goodPassword)
	resp = browserSubmit(t, ctx, chromedp.CSS(`header a.brand`))
	browserWantPage(t, ctx, resp, base+"/", http.StatusOK, "vi")
	resp = browserSubmit(t, ctx, chromedp.CSS(`article.card.competition a.button[href="`+compPath+`"]`))
	browserWantPage(t, ctx, resp, base+compPath, http.StatusOK, "vi")

	// "Bắt đầu hồ sơ dự thi" with a title: the draft's page.
	startForm := `form[action="` + compPath + `/entries"]`
	browserWantText(t, ctx, chromedp.CSS(startForm+" button"), "Bắt đầu hồ sơ dự thi")
	browserFill(t, ctx, [][2]string{{"f-title", journeyEntry}})
	resp = browserSubmit(t, ctx, chromedp.CSS(startForm+" button[type=submit]"))
	loc := browserGet(t, ctx, "location", chromedp.Location())
	entryID, ok := strings.CutPrefix(loc, base+"/entries/")
	if !ok || entryID == "" || strings.ContainsAny(entryID, "/?#") {
		t.Fatalf("starting an entry led to %s, want %s/entries/{id}", loc, base)
	}
	entryPath := "/entries/" + entryID
	browserWantPage(t, ctx, resp, base+entryPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã tạo hồ sơ nháp.")
	browserWantText(t, ctx, chromedp.CSS("main h1"), journeyEntry)
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Bản nháp")
	if got := browserGet(t, ctx, "title value", chromedp.Value(chromedp.ID("f-title"))); got != journeyEntry {
		t.Errorf("the dossier's title is %q, want %q", got, journeyEntry)
	}

	// Fill the dossier and one team member, save.
	browserDo(t, ctx, "choose track, sector, stage and the member's gender",
		chromedp.SetValue(chromedp.ID("f-track"), "idea"),
		chromedp.SetValue(chromedp.ID("f-sector"), "agriculture"),
		chromedp.SetValue(chromedp.ID("f-stage"), "prototype"),
		chromedp.SetValue(chromedp.ID("t-g-0"), "male"))
	dossier := [][2]string{
		{"f-commune", "Bắc Hà"}, {"f-funding_need", "350000000"},
		{"f-summary", "Chế biến trà shan tuyết cổ thụ thành sản phẩm OCOP."},
		{"f-problem", "Người dân bán búp tươi với giá thấp."},
		{"f-solution", "Xưởng sao chè nhỏ và bao bì có mã QR truy xuất."},
		{"f-customers", "Du khách và cửa hàng đặc sản miền Bắc."},
		{"f-market", "Hà Nội, Lào Cai và bán trực tuyến."},
		{"f-advantage", "Cây chè cổ thụ hàng trăm năm tuổi."},
		{"f-business_model", "Bán lẻ trực tuyến và cho cửa hàng đặc sản."},
		{"f-technology", "Truy xuất nguồn gốc bằng mã QR."},
		{"f-plan", "Sáu tháng đầu xây xưởng, sáu tháng sau mở kênh bán."},
		{"f-impact", "Việc làm cho phụ nữ dân tộc Mông."},
		{"t-name-0", "Lù Văn Sinh"}, {"t-role-0", "Kỹ thuật chế biến"}, {"t-by-0", "1999"}, {"t-e-0", "sinh@example.vn"},
	}
	browserFill(t, ctx, dossier)
	resp = browserSubmit(t, ctx, chromedp.CSS(`form.dossier button[type=submit]`))
	browserWantPage(t, ctx, resp, base+entryPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã lưu hồ sơ")
	for _, f := range [][2]string{{"f-track", "idea"}, {"f-sector", "agriculture"}, {"f-stage", "prototype"}, {"t-g-0", "male"}} {
		if got := browserGet(t, ctx, "value of "+f[0], chromedp.Value(chromedp.ID(f[0]))); got != f[1] {
			t.Errorf("after saving, #%s = %q, want %q", f[0], got, f[1])
		}
	}
	for _, f := range dossier {
		if got := browserGet(t, ctx, "value of "+f[0], chromedp.Value(chromedp.ID(f[0]))); got != f[1] {
			t.Errorf("after saving, #%s = %q, want %q", f[0], got, f[1])
		}
	}
	e := entryOf(t, j, entryID)
	if e.Track != "idea" || e.Sector != "agriculture" || e.Stage != "prototype" || e.FundingNeed != 350000000 ||
		len(e.Team) != 1 || e.Team[0].Name != "Lù Văn Sinh" || e.Team[0].BirthYear != 1999 || e.Team[0].Gender != "male" {
		t.Errorf("stored entry after saving: %+v", e)
	}

	// Submit without a deck: the page lists the unmet rule in Vietnamese.
	submitBtn := `form[action="` + entryPath + `/submit"] button`
	browserWantText(t, ctx, chromedp.CSS(submitBtn), "Nộp hồ sơ")
	resp = browserSubmit(t, ctx, chromedp.CSS(submitBtn))
	browserWantPage(t, ctx, resp, base+entryPath+"/submit", http.StatusUnprocessableEntity, "vi")
	alert := browserText(t, ctx, chromedp.CSS(`main .alert[role=alert]`))
	for _, want := range []string{"Một số trường chưa hợp lệ.", "Cần tải lên bài thuyết trình (PDF hoặc PPTX)."} {
		if !strings.Contains(alert, want) {
			t.Errorf("unmet rules %q lack %q", alert, want)
		}
	}
	if n := browserCount(t, ctx, `main .alert[role=alert] li`); n != 1 {
		t.Errorf("the alert lists %d unmet rules, want only the deck: %q", n, alert)
	}
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Bản nháp")
	if e := entryOf(t, j, entryID); e.Status != models.EntryDraft {
		t.Fatalf("a submit refused for a missing deck left the entry %s", e.Status)
	}

	// Upload the deck. JavaScript is on, so upload.js sends it by XHR and
	// writes the page that comes back: no navigation happens (a marker set
	// on window survives), yet the address bar shows the entry page.
	uploadBtn := `form.upload button[type=submit]`
	browserDo(t, ctx, "choose valid-deck.pdf and press Tải lên",
		chromedp.Evaluate[chromedp.Void](`window.sproutNoReload = true`),
		chromedp.SetUploadFiles(chromedp.ID("f-deck"), []string{validDeck}),
		chromedp.Click(chromedp.CSS(uploadBtn)))
	browserWaitText(t, ctx, "p.flash", "Đã tải lên bài thuyết trình")
	if same := browserGet(t, ctx, "no-reload marker", chromedp.Evaluate[bool](`window.sproutNoReload === true`)); !same {
		t.Error("the upload reloaded the page: upload.js did not send it")
	}
	browserWantPage(t, ctx, nil, base+entryPath, http.StatusOK, "vi")
	deckLink := `a[href="/api/v1/entries/` + entryID + `/deck"]`
	browserWantText(t, ctx, chromedp.CSS("section.panel "+deckLink), "valid-deck.pdf")
	browserWantText(t, ctx, chromedp.CSS("section.panel"), "Bản hiện tại: valid-deck.pdf")
	e = entryOf(t, j, entryID)
	if e.Deck == nil || e.Deck.Filename != "valid-deck.pdf" || e.Deck.ContentType != "application/pdf" || len(e.DeckHistory) != 1 {
		t.Fatalf("stored deck after the upload: %+v (history %d)", e.Deck, len(e.DeckHistory))
	}

	// A PNG renamed .pdf is refused in Vietnamese; the valid deck stays.
	browserDo(t, ctx, "choose png-renamed.pdf and press Tải lên",
		chromedp.SetUploadFiles(chromedp.ID("f-deck"), []string{pngDeck}),
		chromedp.Click(chromedp.CSS(uploadBtn)))
	browserWaitText(t, ctx, `main .alert[role=alert]`, "Chỉ nhận tệp PDF hoặc PPTX")
	browserWantText(t, ctx, chromedp.CSS("section.panel "+deckLink), "valid-deck.pdf")
	if n := browserCount(t, ctx, "p.flash"); n != 0 {
		t.Errorf("a refused upload shows a flash: %q", browserText(t, ctx, chromedp.CSS("p.flash")))
	}
	e = entryOf(t, j, entryID)
	if e.Deck == nil || e.Deck.Filename != "valid-deck.pdf" || len(e.DeckHistory) != 1 {
		t.Fatalf("the refused upload changed the deck: %+v (history %d)", e.Deck, len(e.DeckHistory))
	}

	// Submit: "Đã nộp", the timeline says so, and a confirmation is queued.
	resp = browserSubmit(t, ctx, chromedp.CSS(submitBtn))
	browserWantPage(t, ctx, resp, base+entryPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "thư xác nhận đang chờ trong hộp thư đi") // no SMTP in the tests: said so
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Đã nộp")
	browserWantText(t, ctx, chromedp.CSS("ol.timeline"), "Nộp hồ sơ")
	browserWantText(t, ctx, chromedp.CSS("main"), "Hồ sơ đã nộp hoặc đã rút nên chỉ xem được.")
	if n := browserCount(t, ctx, "form.dossier, form.upload"); n != 0 {
		t.Errorf("a submitted entry still shows %d edit forms", n)
	}
	if e := entryOf(t, j, entryID); e.Status != models.EntrySubmitted || e.SubmittedAt == nil {
		t.Errorf("stored entry after submitting: status %s, submitted at %v", e.Status, e.SubmittedAt)
	}
	mail, err := j.a.Store().ListOutbox(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(mail) != 1 || mail[0].To != journeyEmail || mail[0].Subject != "Đã nhận hồ sơ: "+journeyEntry ||
		!strings.Contains(mail[0].Body, journeyCompTitle) || !strings.Contains(mail[0].Body, entryPath) {
		t.Errorf("outbox after submitting: %+v", mail)
	}
}

// TestBrowserApplicantDeckUploadWithoutJS: with JavaScript disabled the
// upload form still works as a plain multipart form post: the deck is
// stored and the entry page comes back with the flash, and a refused file
// comes back as the entry page with the reason.
func TestBrowserApplicantDeckUploadWithoutJS(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	base := apptest.Serve(t, j.a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains
	validDeck := apptest.FixturePath(t, "valid-deck.pdf")
	pngDeck := apptest.FixturePath(t, "png-renamed.pdf")
	entryPath := "/entries/" + ent.ID

	browserDo(t, ctx, "disable JavaScript and open /login on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(base+"/login"))
	browserSignIn(t, ctx, base, journeyEmail, goodPassword)
	resp := browserGet(t, ctx, "open the entry", chromedp.NavigateResponse(base+entryPath))
	browserWantPage(t, ctx, resp, base+entryPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("main h1"), journeyEntry)

	// A refused file: a full page load (status 415) with the reason. With
	// scripts on, upload.js would send the form by XHR and no document
	// response would arrive here.
	uploadBtn := `form.upload button[type=submit]`
	browserDo(t, ctx, "choose png-renamed.pdf", chromedp.SetUploadFiles(chromedp.ID("f-deck"), []string{pngDeck}))
	resp = browserSubmit(t, ctx, chromedp.CSS(uploadBtn))
	if resp == nil || int(resp.Status) != http.StatusUnsupportedMediaType {
		t.Fatalf("posting a PNG renamed .pdf: response %+v, want status 415", resp)
	}
	if !strings.HasPrefix(resp.URL, base+entryPath+"/deck?") {
		t.Errorf("the refused upload answered from %s", resp.URL)
	}
	browserWantText(t, ctx, chromedp.CSS(`main .alert[role=alert]`), "Chỉ nhận tệp PDF hoặc PPTX")
	if e := entryOf(t, j, ent.ID); e.Deck != nil {
		t.Fatalf("a refused upload stored a deck: %+v", e.Deck)
	}

	// The valid deck: 303 to the entry page, flash and file name.
	browserDo(t, ctx, "choose valid-deck.pdf", chromedp.SetUploadFiles(chromedp.ID("f-deck"), []string{validDeck}))
	resp = browserSubmit(t, ctx, chromedp.CSS(uploadBtn))
	browserWantPage(t, ctx, resp, base+entryPath, http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã tải lên bài thuyết trình")
	browserWantText(t, ctx, chromedp.CSS(`section.panel a[href="/api/v1/entries/`+ent.ID+`/deck"]`), "valid-deck.pdf")
	if e := entryOf(t, j, ent.ID); e.Deck == nil || e.Deck.Filename != "valid-deck.pdf" || e.Deck.ContentType != "application/pdf" {
		t.Fatalf("stored deck after the upload without JavaScript: %+v", e.Deck)
	}
}
