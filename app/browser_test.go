package app_test

// Browser tests: real Chromium (Debian's /usr/bin/chromium, headless) drives
// a real Sprout served on a loopback port over the shared test stack. Each
// journey asserts what a person would see in the page, not only that no
// error happened.
//
// With SPROUT_SCREENSHOTS=1 the journeys also write the screenshots used in
// the documentation to docs/screenshots/ (register.png on a phone-sized
// viewport, admin-users.png at 1280x900); normal runs write nothing into the
// repository.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// chromiumPath is Debian's chromium package.
const chromiumPath = "/usr/bin/chromium"

// browserJourneyTimeout bounds one journey, browser start-up excluded.
const browserJourneyTimeout = 90 * time.Second

// screenshotDir is docs/screenshots in the repository, resolved while the
// package initialises: TestMain then starts the embedded S3 gateway, which
// changes the process's working directory (see embedded.StartS3).
var screenshotDir = func() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return filepath.Join(wd, "..", "docs", "screenshots")
}()

// browserPassword is long and uncommon enough for models.CheckPassword.
const browserPassword = "hoa ban nở trắng núi rừng Tây Bắc"

// newBrowser starts a headless Chromium with a fresh profile that asks for
// Vietnamese pages (Accept-Language: vi-VN,vi), and returns a tab context
// bounded by browserJourneyTimeout. The browser stops when the test ends.
// Without Chromium the test fails on CI (CI=true) and is skipped elsewhere.
//
// Call it after apptest.Serve: cleanups run last-in first-out, so Chromium
// then exits before the server shuts down. Otherwise a connection Chromium
// opened ahead of need (no request sent yet) counts as busy for fasthttp, and
// the graceful shutdown waits the whole app.ShutdownTimeout for it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if fi, err := os.Stat(chromiumPath); err != nil || fi.IsDir() {
		msg := "browser tests need Chromium at " + chromiumPath + " (apt-get install chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v", msg, err)
		}
		t.Skipf("skipping: %s: %v", msg, err)
	}
	// t.TempDir before the cancel funcs: cleanups run last-in first-out, so
	// Chromium has exited before its profile directory is removed.
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "vi-VN,vi"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // also waits for the browser process to exit
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser; its lifetime follows browserCtx, so
	// it gets no timeout. The journey's context below does.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, browserJourneyTimeout)
	t.Cleanup(cancel)
	return ctx
}

// browserDo runs steps in the tab and fails the test on error.
func browserDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// browserGet runs one action that returns a value and fails the test on
// error.
func browserGet[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// browserSubmit clicks sel (a link or a submit button) and waits for the
// page it leads to; it returns that document's HTTP response (after
// redirects).
func browserSubmit[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("click %v and wait for the next page: %v", sel, err)
	}
	return resp
}

// browserText returns the visible text of the first element sel matches
// (waiting for it to appear), with white space collapsed.
func browserText[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S) string {
	t.Helper()
	s := browserGet(t, ctx, "text of "+fmt.Sprint(sel), chromedp.Text(sel))
	return strings.Join(strings.Fields(s), " ")
}

// browserWantText fails unless the element sel matches contains want.
func browserWantText[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S, want string) {
	t.Helper()
	if got := browserText(t, ctx, sel); !strings.Contains(got, want) {
		t.Errorf("%v: text %q does not contain %q", sel, got, want)
	}
}

// browserCount returns how many elements match a CSS selector now.
func browserCount(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	q, _ := json.Marshal(css)
	return browserGet(t, ctx, "count "+css, chromedp.Evaluate[int]("document.querySelectorAll("+string(q)+").length"))
}

// browserWantPage checks the document's URL, status and <html lang>.
func browserWantPage(t *testing.T, ctx context.Context, resp *network.Response, wantURL string, wantStatus int, wantLang string) {
	t.Helper()
	if resp != nil && int(resp.Status) != wantStatus {
		t.Errorf("%s: HTTP status %d, want %d", resp.URL, resp.Status, wantStatus)
	}
	if loc := browserGet(t, ctx, "location", chromedp.Location()); loc != wantURL {
		t.Errorf("page is %s, want %s", loc, wantURL)
	}
	lang := browserGet(t, ctx, "html lang", chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if lang.Value != wantLang {
		t.Errorf("<html lang=%q>, want %q", lang.Value, wantLang)
	}
}

// browserFill types into the inputs with the given ids.
func browserFill(t *testing.T, ctx context.Context, fields [][2]string) {
	t.Helper()
	steps := make([]chromedp.Action[chromedp.Void], 0, len(fields))
	for _, f := range fields {
		steps = append(steps, chromedp.SendKeys(chromedp.ID(f[0]), f[1]))
	}
	browserDo(t, ctx, "fill the form", steps...)
}

// browserScreenshot writes a full-page PNG to docs/screenshots/name, only
// when SPROUT_SCREENSHOTS=1.
func browserScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("SPROUT_SCREENSHOTS") != "1" {
		return
	}
	png := browserGet(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := screenshotDir
	if dir == "" {
		t.Fatal("cannot tell where docs/screenshots is")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", filepath.Join(dir, name), len(png))
}

// browserUser creates a user straight in the store, as `sprout user add`
// does.
func browserUser(t *testing.T, a *app.App, email, name string, roles ...models.Role) {
	t.Helper()
	h, err := models.HashPassword(browserPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := &models.User{Email: email, Name: name, PasswordHash: h, Roles: roles}
	if err := a.Store().CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserRegisterSignOutSignIn: an applicant on a phone registers in
// Vietnamese (forgetting the consent box first), signs out and signs in again.
func TestBrowserRegisterSignOutSignIn(t *testing.T) {
	cfg := stack.Config(t)
	a := apptest.NewApp(t, cfg)
	base := apptest.Serve(t, a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains

	const (
		name     = "Hoàng Thị Mai"
		email    = "mai.hoang@example.vn"
		year     = "2000"
		province = "Lào Cai"
		commune  = "Bắc Hà"
	)

	browserDo(t, ctx, "open the home page on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/"))
	browserWantPage(t, ctx, nil, base+"/", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("header"), "Đăng ký")
	browserWantText(t, ctx, chromedp.CSS("h1"), "Cuộc thi")

	// The register link in the header.
	resp := browserSubmit(t, ctx, chromedp.CSS(`header a[href="/register"]`))
	browserWantPage(t, ctx, resp, base+"/register", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Đăng ký tài khoản thí sinh")
	browserScreenshot(t, ctx, "register.png")

	browserFill(t, ctx, [][2]string{
		{"f-name", name}, {"f-email", email}, {"f-password", browserPassword},
		{"f-birth_year", year}, {"f-province", province}, {"f-commune", commune},
	})
	// Submit without ticking consent: the form comes back with the error
	// and everything typed except the password.
	resp = browserSubmit(t, ctx, chromedp.CSS(`form[action="/register"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/register", http.StatusUnprocessableEntity, "vi")
	browserWantText(t, ctx, chromedp.ID("e-consent"), "Bạn cần đồng ý với thông báo xử lý dữ liệu cá nhân")
	browserWantText(t, ctx, chromedp.CSS(`main .alert[role=alert]`), "Vui lòng sửa các lỗi sau")
	for id, want := range map[string]string{
		"f-name": name, "f-email": email, "f-birth_year": year, "f-province": province, "f-commune": commune, "f-password": "",
	} {
		if got := browserGet(t, ctx, "value of "+id, chromedp.Value(chromedp.ID(id))); got != want {
			t.Errorf("after the failed submit, #%s = %q, want %q", id, got, want)
		}
	}
	if checked := browserGet(t, ctx, "consent box", chromedp.JavascriptAttribute[bool](chromedp.ID("f-consent"), "checked")); checked {
		t.Error("the consent box is ticked though the applicant never ticked it")
	}
	if n := browserCount(t, ctx, "header .who"); n != 0 {
		t.Fatal("signed in after a refused registration")
	}

	// Tick consent, type the password again, submit: signed in on /account.
	browserDo(t, ctx, "tick consent and retype the password",
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.SendKeys(chromedp.ID("f-password"), browserPassword))
	resp = browserSubmit(t, ctx, chromedp.CSS(`form[action="/register"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/account", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã tạo tài khoản. Chào mừng bạn!")
	browserWantText(t, ctx, chromedp.CSS("header .who"), name)
	facts := browserText(t, ctx, chromedp.CSS("dl.facts"))
	for _, want := range []string{name, email, "Thí sinh", year, province, commune} {
		if !strings.Contains(facts, want) {
			t.Errorf("account page %q lacks %q", facts, want)
		}
	}

	// Sign out with the header button: home page, signed out.
	resp = browserSubmit(t, ctx, chromedp.CSS(`header form[action="/logout"] button`))
	browserWantPage(t, ctx, resp, base+"/?signed_out=1", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS(`header a[href="/login"]`), "Đăng nhập")
	browserWantText(t, ctx, chromedp.CSS(".flash"), "Bạn đã đăng xuất")
	if n := browserCount(t, ctx, "header .who"); n != 0 {
		t.Error("the header still shows a signed-in user after signing out")
	}
	// The old session is gone: /account sends to the sign-in page.
	resp = browserGet(t, ctx, "open /account signed out", chromedp.NavigateResponse(base+"/account"))
	browserWantPage(t, ctx, resp, base+"/login?next=%2Faccount", http.StatusOK, "vi") // and back to /account after signing in

	// Sign in again through /login.
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Đăng nhập")
	browserFill(t, ctx, [][2]string{{"f-email", email}, {"f-password", browserPassword}})
	resp = browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/account", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đăng nhập thành công.")
	browserWantText(t, ctx, chromedp.CSS("header .who"), name)
	browserWantText(t, ctx, chromedp.CSS("dl.facts"), email)
}

// TestBrowserWrongPassword: a wrong password keeps the person on /login
// with the Vietnamese error and the e-mail still typed.
func TestBrowserWrongPassword(t *testing.T) {
	cfg := stack.Config(t)
	a := apptest.NewApp(t, cfg)
	base := apptest.Serve(t, a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains
	const email = "lan.tran@example.vn"
	browserUser(t, a, email, "Trần Thị Lan", models.RoleApplicant)

	browserDo(t, ctx, "open /login", chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", email}, {"f-password", "không phải mật khẩu này"}})
	resp := browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/login", http.StatusUnauthorized, "vi")
	browserWantText(t, ctx, chromedp.ID("e-email"), "Thư điện tử hoặc mật khẩu không đúng.")
	browserWantText(t, ctx, chromedp.CSS(`main .alert[role=alert]`), "Thư điện tử hoặc mật khẩu không đúng.")
	if got := browserGet(t, ctx, "e-mail value", chromedp.Value(chromedp.ID("f-email"))); got != email {
		t.Errorf("e-mail field %q, want %q kept", got, email)
	}
	if got := browserGet(t, ctx, "password value", chromedp.Value(chromedp.ID("f-password"))); got != "" {
		t.Errorf("password field was sent back filled (%q)", got)
	}
	if n := browserCount(t, ctx, "header .who"); n != 0 {
		t.Error("signed in with a wrong password")
	}
	browserWantText(t, ctx, chromedp.CSS(`header a[href="/login"]`), "Đăng nhập")
}

// TestBrowserLanguageSwitch: the "English" button turns the site English,
// over the browser's Vietnamese Accept-Language, and the choice sticks.
func TestBrowserLanguageSwitch(t *testing.T) {
	cfg := stack.Config(t)
	a := apptest.NewApp(t, cfg)
	base := apptest.Serve(t, a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains

	browserDo(t, ctx, "open the home page", chromedp.Navigate(base+"/"))
	browserWantPage(t, ctx, nil, base+"/", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS(`header a[href="/login"]`), "Đăng nhập")

	resp := browserSubmit(t, ctx, chromedp.CSS(`header button[name=lang][value=en]`))
	browserWantPage(t, ctx, resp, base+"/", http.StatusOK, "en")
	browserWantText(t, ctx, chromedp.CSS(`header a[href="/login"]`), "Sign in")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Startup Ideas Contest")
	browserWantText(t, ctx, chromedp.CSS(`header button[name=lang][value=vi]`), "Tiếng Việt")

	// The next page, reached by a link, is English too.
	resp = browserSubmit(t, ctx, chromedp.CSS(`header a[href="/login"]`))
	browserWantPage(t, ctx, resp, base+"/login", http.StatusOK, "en")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Sign in")
	// And a page typed into the address bar.
	resp = browserGet(t, ctx, "open /register", chromedp.NavigateResponse(base+"/register"))
	browserWantPage(t, ctx, resp, base+"/register", http.StatusOK, "en")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Create an applicant account")

	// Back to Vietnamese, staying on the same page.
	resp = browserSubmit(t, ctx, chromedp.CSS(`header button[name=lang][value=vi]`))
	browserWantPage(t, ctx, resp, base+"/register", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Đăng ký tài khoản thí sinh")
}

// TestBrowserAdminCreatesAndDisablesJudge: an admin signs in, creates a
// judge with the form and disables them from the table.
func TestBrowserAdminCreatesAndDisablesJudge(t *testing.T) {
	cfg := stack.Config(t)
	a := apptest.NewApp(t, cfg)
	base := apptest.Serve(t, a)
	ctx := newBrowser(t) // after Serve: the browser exits before the server drains
	const (
		adminEmail = "quantri@example.vn"
		adminName  = "Quản Trị Viên"
		judgeEmail = "giamkhao.nam@example.vn"
		judgeName  = "Nguyễn Văn Nam"
	)
	browserUser(t, a, adminEmail, adminName, models.RoleAdmin)

	browserDo(t, ctx, "open /login at 1280x900",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", adminEmail}, {"f-password", browserPassword}})
	resp := browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/admin/users", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đăng nhập thành công.")
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Người dùng")
	browserWantText(t, ctx, chromedp.CSS("header .who"), adminName)

	// Create a judge.
	browserFill(t, ctx, [][2]string{{"f-name", judgeName}, {"f-email", judgeEmail}, {"f-password", browserPassword}})
	browserDo(t, ctx, "tick the judge role", chromedp.Click(chromedp.CSS(`input[name=roles][value=judge]`)))
	resp = browserSubmit(t, ctx, chromedp.CSS(`form[action="/admin/users"] button[type=submit]`))
	browserWantPage(t, ctx, resp, base+"/admin/users", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã tạo tài khoản.")
	browserWantText(t, ctx, chromedp.CSS("table caption"), "2 người dùng")

	row := `//table/tbody/tr[td[2][normalize-space(.)="` + judgeEmail + `"]]`
	rowText := browserText(t, ctx, chromedp.Search(row))
	for _, want := range []string{judgeName, "Giám khảo", "Hoạt động", "Khoá"} {
		if !strings.Contains(rowText, want) {
			t.Errorf("judge row %q lacks %q", rowText, want)
		}
	}
	// The admin cannot lock themselves out: their own row has no button.
	adminRow := `//table/tbody/tr[td[2][normalize-space(.)="` + adminEmail + `"]]`
	if got := browserText(t, ctx, chromedp.Search(adminRow)); strings.Contains(got, "Khoá") {
		t.Errorf("the admin's own row offers to disable them: %q", got)
	}

	// Disable the judge.
	resp = browserSubmit(t, ctx, chromedp.Search(row+`//button[normalize-space(.)="Khoá"]`))
	browserWantPage(t, ctx, resp, base+"/admin/users", http.StatusOK, "vi")
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã khoá tài khoản.")
	browserWantText(t, ctx, chromedp.Search(row+`//span[contains(concat(" ", @class, " "), " off ")]`), "Đã khoá")
	browserWantText(t, ctx, chromedp.Search(row+`//button`), "Mở khoá")
	browserScreenshot(t, ctx, "admin-users.png")

	// The judge really is disabled: they cannot get an API token.
	body := strings.NewReader(`{"email":"` + judgeEmail + `","password":"` + browserPassword + `"}`)
	r, err := http.Post(base+"/api/v1/tokens", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled judge asked for a token: status %d, want 401", r.StatusCode)
	}
}
