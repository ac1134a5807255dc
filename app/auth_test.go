package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

func TestTokensAndMe(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	id := register(t, c, "mai@example.vn")
	tok := token(t, c, "MAI@example.vn", goodPassword)

	r := c.jsonReq(http.MethodGet, "/api/v1/me", nil, tok)
	expectStatus(t, r, http.StatusOK)
	var me struct {
		ID    string   `json:"id"`
		Email string   `json:"email"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	r.json(t, &me)
	if me.ID != id || me.Email != "mai@example.vn" || me.Roles[0] != "applicant" {
		t.Fatalf("me = %+v", me)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("bearer API request got a cookie: %q", r.Header.Get("Set-Cookie"))
	}

	// Without a token: 401 JSON.
	r = c.jsonReq(http.MethodGet, "/api/v1/me", nil, "")
	expectStatus(t, r, http.StatusUnauthorized)
	r = c.jsonReq(http.MethodGet, "/api/v1/me", nil, "spr_forged")
	expectStatus(t, r, http.StatusUnauthorized)

	// Revoking the current token makes it useless.
	r = c.jsonReq(http.MethodDelete, "/api/v1/tokens/current", nil, tok)
	expectStatus(t, r, http.StatusNoContent)
	r = c.jsonReq(http.MethodGet, "/api/v1/me", nil, tok)
	expectStatus(t, r, http.StatusUnauthorized)
}

func TestBadLoginIsUniform(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "known@example.vn")
	wrong := c.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "known@example.vn", "password": "wrong password here"}, "")
	unknown := c.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "nobody@example.vn", "password": "wrong password here"}, "")
	expectStatus(t, wrong, http.StatusUnauthorized)
	expectStatus(t, unknown, http.StatusUnauthorized)
	strip := func(s string) string { // request ids differ by design
		i := strings.Index(s, `"request_id"`)
		if i < 0 {
			return s
		}
		return s[:i]
	}
	if strip(wrong.text()) != strip(unknown.text()) {
		t.Fatalf("bodies differ:\n%s\n%s", wrong.body, unknown.body)
	}
}

func TestLoginThrottling(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "target@example.vn")
	bad := map[string]string{"email": "target@example.vn", "password": "not the password"}
	for i := 0; i < 5; i++ {
		r := c.jsonReq(http.MethodPost, "/api/v1/tokens", bad, "")
		expectStatus(t, r, http.StatusUnauthorized)
	}
	// Per account: even the right password is refused now, whatever
	// X-Forwarded-For the (untrusted) client claims.
	c.headers["X-Forwarded-For"] = "203.0.113.9"
	r := c.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "target@example.vn", "password": goodPassword}, "")
	expectStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Per client: spraying many accounts from one address. The peer is the
	// same whatever X-Forwarded-For says; it already has 5 failures.
	d := newClient(t, a)
	for i := 5; i < 20; i++ {
		d.headers["X-Forwarded-For"] = "198.51.100." + strconv.Itoa(i)
		r := d.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "spray" + strconv.Itoa(i) + "@example.vn", "password": "not the password"}, "")
		expectStatus(t, r, http.StatusUnauthorized)
	}
	r = d.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "other@example.vn", "password": "not the password"}, "")
	expectStatus(t, r, http.StatusTooManyRequests)
}

func TestSessionLifecycle(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "sess@example.vn")

	// A client-chosen session id is never adopted.
	c.cookies["sprout_session"] = "attacker-chosen-id"
	tok := c.csrfFrom("/login")
	if c.cookies["sprout_session"] == "attacker-chosen-id" {
		t.Fatal("server adopted a client-chosen session id")
	}
	before := c.cookies["sprout_session"]
	r := c.form("/login", url.Values{"email": {"sess@example.vn"}, "password": {goodPassword}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	after := c.cookies["sprout_session"]
	if after == "" || after == before {
		t.Fatalf("session id did not change at login (%q → %q)", before, after)
	}
	ck := r.Header.Values("Set-Cookie")
	joined := strings.Join(ck, "\n")
	if !strings.Contains(joined, "HttpOnly") || !strings.Contains(joined, "SameSite=Lax") {
		t.Fatalf("session cookie flags: %s", joined)
	}
	r = c.get("/account")
	expectStatus(t, r, http.StatusOK)

	// Logout makes the old cookie useless.
	old := c.cookies["sprout_session"]
	tok = c.csrfFrom("/account")
	r = c.form("/logout", url.Values{}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	replay := newClient(t, a)
	replay.cookies["sprout_session"] = old
	r = replay.get("/account")
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/login?next=%2Faccount" {
		t.Fatalf("old cookie after logout: redirect %q", r.Header.Get("Location"))
	}
}

func TestCSRF(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "csrf@example.vn")
	tok := c.csrfFrom("/login")
	// No token → 403, nothing happens.
	r := c.form("/login", url.Values{"email": {"csrf@example.vn"}, "password": {goodPassword}}, "-")
	expectStatus(t, r, http.StatusForbidden)
	// A token from another session → 403.
	other := newClient(t, a)
	otherTok := other.csrfFrom("/login")
	r = c.form("/login", url.Values{"email": {"csrf@example.vn"}, "password": {goodPassword}}, otherTok)
	expectStatus(t, r, http.StatusForbidden)
	// The right one works.
	r = c.form("/login", url.Values{"email": {"csrf@example.vn"}, "password": {goodPassword}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	// Cookie-authenticated API calls need it too; the header form works.
	r = c.jsonReq(http.MethodDelete, "/api/v1/tokens/current", nil, "")
	expectStatus(t, r, http.StatusForbidden)
	// GET never changes state: logout by GET is not a route.
	r = c.get("/logout")
	expectStatus(t, r, http.StatusNotFound)
	r = c.get("/account")
	expectStatus(t, r, http.StatusOK)
}

func TestDisabledUserLosesAccess(t *testing.T) {
	a := newApp(t)
	makeUser(t, a, "root@example.vn", models.RoleAdmin)
	victim := newClient(t, a)
	id := register(t, victim, "victim@example.vn")
	tok := token(t, victim, "victim@example.vn", goodPassword)
	expectStatus(t, victim.signIn("victim@example.vn", goodPassword), http.StatusSeeOther)
	expectStatus(t, victim.get("/account"), http.StatusOK)

	ad := newClient(t, a)
	atok := token(t, ad, "root@example.vn", goodPassword)
	r := ad.jsonReq(http.MethodPost, "/api/v1/users/"+id+"/disable", nil, atok)
	expectStatus(t, r, http.StatusNoContent)

	expectStatus(t, victim.jsonReq(http.MethodGet, "/api/v1/me", nil, tok), http.StatusUnauthorized)
	r = victim.get("/account")
	expectStatus(t, r, http.StatusSeeOther)
	// An API client (no cookies) cannot get a new token either.
	r = newClient(t, a).jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": "victim@example.vn", "password": goodPassword}, "")
	expectStatus(t, r, http.StatusUnauthorized)
}

func TestRoleGuard(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "app@example.vn")
	tok := token(t, c, "app@example.vn", goodPassword)
	body := map[string]any{"email": "judge@example.vn", "name": "Giám khảo", "password": goodPassword, "roles": []string{"judge"}}
	expectStatus(t, c.jsonReq(http.MethodPost, "/api/v1/users", body, tok), http.StatusForbidden)
	expectStatus(t, c.jsonReq(http.MethodPost, "/api/v1/users", body, ""), http.StatusUnauthorized)
	expectStatus(t, c.signIn("app@example.vn", goodPassword), http.StatusSeeOther)
	r := c.get("/admin/users")
	expectStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.text(), "Không có quyền") {
		t.Fatalf("403 page not in Vietnamese: %.500s", r.body)
	}
	req := httptest.NewRequest(http.MethodGet, "/admin/users", nil)
	req.Header.Set("Accept-Language", "en")
	r = c.do(req)
	if !strings.Contains(r.text(), "Not allowed") {
		t.Fatalf("403 page not in English: %.500s", r.body)
	}
}

// TestSignInReturnsToPageAskedFor: a page that needs signing in sends the
// visitor to /login and back to it afterwards; a "next" that leaves the
// site is ignored.
func TestSignInReturnsToPageAskedFor(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "next@example.vn")
	r := c.get("/account/profile")
	expectStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if loc != "/login?next=%2Faccount%2Fprofile" {
		t.Fatalf("redirect to %q", loc)
	}
	page := c.get(loc)
	if !strings.Contains(page.text(), `name="next" value="/account/profile"`) {
		t.Fatalf("login form does not carry next: %.1500s", page.body)
	}
	tok := csrfInput.FindStringSubmatch(page.text())[1]
	r = c.form("/login", url.Values{"email": {"next@example.vn"}, "password": {goodPassword}, "next": {"/account/profile"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/account/profile" {
		t.Fatalf("after sign-in: %q", r.Header.Get("Location"))
	}
	for _, bad := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login", "/x\r\nSet-Cookie: a=b"} {
		d := newClient(t, a)
		tok := d.csrfFrom("/login")
		r = d.form("/login", url.Values{"email": {"next@example.vn"}, "password": {goodPassword}, "next": {bad}}, tok)
		expectStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/account" {
			t.Errorf("next %q: redirected to %q", bad, loc)
		}
	}
}
