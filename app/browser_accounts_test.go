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

// TestBrowserWithdrawNeedsConfirmation: "Rút hồ sơ" asks first (a page of
// its own, without JavaScript); cancelling keeps the entry; confirming
// withdraws it; staff can restore it as a draft, with a reason, logged.
func TestBrowserWithdrawNeedsConfirmation(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent struct{ ID string }
	r.json(t, &ent)
	base := apptest.Serve(t, j.a)
	ctx := newBrowser(t)
	browserDo(t, ctx, "open /login", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", "mai@example.vn"}, {"f-password", goodPassword}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserDo(t, ctx, "entry", chromedp.Navigate(base+"/entries/"+ent.ID), chromedp.Click(chromedp.CSS(`details.danger-zone summary`)))
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/withdraw"] button`))
	browserWantText(t, ctx, chromedp.CSS("main h1"), "Bạn chắc chắn muốn rút hồ sơ?")
	if e := entryOf(t, j, ent.ID); e.Status != models.EntryDraft {
		t.Fatalf("withdrawn before confirming: %s", e.Status)
	}
	browserSubmit(t, ctx, chromedp.CSS(`main a.button.secondary`))
	if e := entryOf(t, j, ent.ID); e.Status != models.EntryDraft {
		t.Fatalf("cancel withdrew: %s", e.Status)
	}
	browserDo(t, ctx, "entry again", chromedp.Click(chromedp.CSS(`details.danger-zone summary`)))
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/withdraw"] button`))
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/withdraw"] button.danger`))
	browserWantText(t, ctx, chromedp.CSS("main h1 .badge"), "Đã rút")
	if e := entryOf(t, j, ent.ID); e.Status != models.EntryWithdrawn {
		t.Fatalf("not withdrawn after confirming: %s", e.Status)
	}
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/logout"] button`))

	browserUser(t, j.a, "khoiphuc@example.vn", "Cán Bộ Khôi Phục", models.RoleStaff)
	browserDo(t, ctx, "staff /login", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/login"))
	browserFill(t, ctx, [][2]string{{"f-email", "khoiphuc@example.vn"}, {"f-password", browserPassword}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action="/login"] button[type=submit]`))
	browserDo(t, ctx, "staff entry", chromedp.Navigate(base+"/staff/entries/"+ent.ID))
	browserFill(t, ctx, [][2]string{{"f-restore", "Thí sinh rút nhầm, đã gọi điện xác nhận"}})
	browserSubmit(t, ctx, chromedp.CSS(`form[action$="/restore"] button`))
	browserWantText(t, ctx, chromedp.CSS("p.flash"), "Đã khôi phục hồ sơ")
	if e := entryOf(t, j, ent.ID); e.Status != models.EntryDraft {
		t.Fatalf("not restored: %s", e.Status)
	}
	if n := auditCountJ(t, j, "entry:restored"); n != 1 {
		t.Fatalf("restore audited %d times", n)
	}
}
