package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// TestBrowserPasswordReset: a person who forgot their password asks for a
// link from the sign-in page on a phone, opens the mailed link, sets a new
// password and signs in with it; the link then no longer works; from
// /account they correct their name.
func TestBrowserPasswordReset(t *testing.T) {
	a := newApp(t)
	base := apptest.Serve(t, a)
	ctx := newBrowser(t)
	browserUser(t, a, "quenmatkhau@example.vn", "Lò Thị Quên", models.RoleApplicant)

	browserDo(t, ctx, "open /login", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/login"))
	browserSubmit(t, ctx, chromedp.CSS(`a[href="/password/forgot"]`))
	browserFill(t, ctx, [][2]string{{"f-email", "quenmatkhau@example.vn"}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/password/forgot"] button`))
	browserWantText(t, ctx, chromedp.CSS("main p.flash"), "Nếu địa chỉ này có tài khoản")
	raw := lastResetToken(t, a, "quenmatkhau@example.vn")

	resp := browserGet(t, ctx, "open the link", chromedp.NavigateResponse(base+"/password/reset/"+raw))
	if resp.Status != http.StatusOK {
		t.Fatalf("reset page: %d", resp.Status)
	}
	browserFill(t, ctx, [][2]string{{"f-password", "1234567"}})
	resp = browserSubmit(t, ctx, chromedp.CSS(`main form button`))
	if resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", resp.Status)
	}
	browserWantText(t, ctx, chromedp.CSS(".alert"), "ít nhất 8 ký tự")
	const fresh = "suối Mường Hoa chảy qua bản"
	browserFill(t, ctx, [][2]string{{"f-password", fresh}})
	browserSubmit(t, ctx, chromedp.CSS(`main form button`))
	if loc := browserGet(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after reset: %s", loc)
	}
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã đặt mật khẩu mới")
	browserFill(t, ctx, [][2]string{{"f-email", "quenmatkhau@example.vn"}, {"f-password", fresh}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Tài khoản")

	resp = browserGet(t, ctx, "the used link", chromedp.NavigateResponse(base+"/password/reset/"+raw))
	if resp.Status != http.StatusGone {
		t.Fatalf("used link: %d", resp.Status)
	}
	browserWantText(t, ctx, chromedp.CSS(".alert"), "đã được dùng hoặc đã hết hạn")

	browserDo(t, ctx, "account", chromedp.Navigate(base+"/account"))
	browserSubmit(t, ctx, chromedp.CSS(`a[href="/account/profile"]`))
	browserDo(t, ctx, "clear name", chromedp.Evaluate[chromedp.Void](`document.getElementById('f-name').value = ''`))
	browserFill(t, ctx, [][2]string{{"f-name", "Lò Thị Nhớ"}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/account/profile"] button`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã lưu thông tin cá nhân")
	browserWantText(t, ctx, chromedp.CSS("dl.facts"), "Lò Thị Nhớ")
}
