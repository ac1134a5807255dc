package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

func TestHomeLanguages(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	r := c.get("/")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), `<html lang="vi">`) || !strings.Contains(r.text(), "Cuộc thi Ý tưởng sáng tạo khởi nghiệp") {
		t.Fatalf("home is not Vietnamese by default: %.400s", r.body)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	r = c.do(req)
	if !strings.Contains(r.text(), `<html lang="en">`) || !strings.Contains(r.text(), "Startup Ideas Contest") {
		t.Fatalf("Accept-Language en ignored: %.400s", r.body)
	}
	// The switch sets a cookie that wins over Accept-Language, and only
	// redirects within the site.
	tok := c.csrfFrom("/")
	r = c.form("/lang", url.Values{"lang": {"en"}, "next": {"//evil.example/x"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %q", r.Header.Get("Location"))
	}
	req = httptest.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("Accept-Language", "vi")
	r = c.do(req)
	if !strings.Contains(r.text(), `<html lang="en">`) {
		t.Fatal("language cookie ignored")
	}
	r = c.form("/lang", url.Values{"lang": {"vi"}, "next": {"/register"}}, tok)
	if r.Header.Get("Location") != "/register" {
		t.Fatalf("redirect to %q", r.Header.Get("Location"))
	}
}

func TestSecurityHeadersAndTiming(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	for _, path := range []string{"/", "/login", "/nope", "/api/v1/me"} {
		r := c.get(path)
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
		if h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS header present", path)
		}
		if !regexp.MustCompile(`^db;dur=\d+\.\d+, app;dur=\d+\.\d+$`).MatchString(h.Get("Server-Timing")) {
			t.Errorf("%s: Server-Timing %q", path, h.Get("Server-Timing"))
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
	// A page that reads MongoDB reports time spent there.
	r := c.get("/")
	var db float64
	if _, err := sscanf(r.Header.Get("Server-Timing"), &db); err != nil || db <= 0 {
		t.Fatalf("db time not measured: %q", r.Header.Get("Server-Timing"))
	}
	// Behind TLS (base URL https) HSTS is sent and cookies are Secure.
	cfg := stack.Config(t)
	cfg.BaseURL = "https://sprout.example.vn"
	s := newClient(t, apptest.NewApp(t, cfg))
	r = s.get("/")
	if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS behind TLS")
	}
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "secure") {
		t.Fatalf("cookies not Secure behind TLS: %v", r.Header.Values("Set-Cookie"))
	}
}

func sscanf(s string, db *float64) (int, error) {
	var app float64
	return fmtSscanf(s, "db;dur=%f, app;dur=%f", db, &app)
}

func TestErrorPages(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	r := c.get("/khong-co")
	expectStatus(t, r, http.StatusNotFound)
	if !strings.Contains(r.text(), "Không tìm thấy") || !strings.Contains(r.text(), "Mã yêu cầu") {
		t.Fatalf("404 page: %.800s", r.body)
	}
	c.lang = "en"
	r = c.get("/nothing-here")
	if !strings.Contains(r.text(), "Not found") {
		t.Fatalf("English 404 page: %.800s", r.body)
	}
	r = c.get("/api/v1/nothing")
	expectStatus(t, r, http.StatusNotFound)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "not_found" || e.Error.Message == "" {
		t.Fatalf("API 404 body %s", r.body)
	}
	c.lang = ""
	r = c.get("/account")
	expectStatus(t, r, http.StatusSeeOther)
	r = c.jsonReq(http.MethodGet, "/api/v1/me", nil, "")
	expectStatus(t, r, http.StatusUnauthorized)
}

func TestBodyLimit(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", big, "")
	expectStatus(t, r, http.StatusRequestEntityTooLarge)
	// Chunked (no Content-Length) is capped while reading too, over a
	// real connection.
	base := apptest.Serve(t, a)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/accounts", struct{ io.Reader }{strings.NewReader(big)})
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || len(resp.TransferEncoding) != 0 && resp.Request.ContentLength != -1 {
		t.Fatalf("chunked oversize body: status %d", resp.StatusCode)
	}
	if req.ContentLength != 0 && req.ContentLength != -1 {
		t.Fatalf("request was not chunked (length %d)", req.ContentLength)
	}
}

func TestHealth(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	r := c.get("/healthz")
	expectStatus(t, r, http.StatusOK)
	r = c.get("/readyz")
	expectStatus(t, r, http.StatusOK)
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r.json(t, &ready)
	if ready.Status != "ok" || ready.Checks["mongodb"] != "ok" || ready.Checks["s3"] != "ok" {
		t.Fatalf("readyz %s", r.body)
	}
	// The bucket gone → 503 naming s3.
	if err := a.Bucket().Client.RemoveBucket(context.Background(), a.Bucket().Name); err != nil {
		t.Fatal(err)
	}
	r = c.get("/readyz")
	expectStatus(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(r.text(), `"failing":["s3"]`) {
		t.Fatalf("readyz does not name s3: %s", r.body)
	}
}

// Two instances over one store: a session made on one is valid on the
// other (sessions live in MongoDB, not in memory).
func TestTwoInstancesShareSessions(t *testing.T) {
	cfg := stack.Config(t)
	one := apptest.NewApp(t, cfg)
	two := apptest.NewApp(t, cfg)
	c1 := newClient(t, one)
	register(t, c1, "shared@example.vn")
	expectStatus(t, c1.signIn("shared@example.vn", goodPassword), http.StatusSeeOther)
	c2 := newClient(t, two)
	c2.cookies = c1.cookies
	r := c2.get("/account")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), "shared@example.vn") {
		t.Fatal("second instance does not know the session")
	}
	// A CSRF token issued by one instance is accepted by the other.
	tok := c1.csrfFrom("/account")
	r = c2.form("/logout", url.Values{}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	// And logging out on two ends it on one.
	expectStatus(t, c1.get("/account"), http.StatusSeeOther)
}

func TestAdminCreatesUsers(t *testing.T) {
	a := newApp(t)
	makeUser(t, a, "admin@example.vn", models.RoleAdmin)
	c := newClient(t, a)
	r := c.signIn("admin@example.vn", goodPassword)
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/admin/users" {
		t.Fatalf("admin lands on %q", r.Header.Get("Location"))
	}
	tok := c.csrfFrom("/admin/users")
	// No role → the form comes back with an error.
	r = c.form("/admin/users", url.Values{"name": {"Trần Văn Giám"}, "email": {"giam@example.vn"}, "password": {goodPassword}}, tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(), "Chọn ít nhất một vai trò") {
		t.Fatalf("missing role error: %.1500s", r.body)
	}
	r = c.form("/admin/users", url.Values{"name": {"Trần Văn Giám"}, "email": {"giam@example.vn"}, "password": {goodPassword}, "roles": {"judge", "mentor"}}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	u, err := a.Store().UserByEmail(context.Background(), "giam@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	if !u.HasRole(models.RoleJudge) || !u.HasRole(models.RoleMentor) || u.HasRole(models.RoleAdmin) {
		t.Fatalf("roles %v", u.Roles)
	}
	r = c.get("/admin/users")
	if !strings.Contains(r.text(), "Trần Văn Giám") || !strings.Contains(r.text(), "Đã tạo tài khoản.") {
		t.Fatal("new user not listed with flash")
	}
	// Disable through the page.
	r = c.form("/admin/users/"+u.ID+"/disable", url.Values{}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	u, _ = a.Store().UserByID(context.Background(), u.ID)
	if !u.Disabled {
		t.Fatal("user not disabled")
	}
	// The API too, with validation.
	atok := token(t, newClient(t, a), "admin@example.vn", goodPassword)
	r = c.jsonReq(http.MethodPost, "/api/v1/users", map[string]any{"email": "staff@example.vn", "name": "Cán bộ", "password": goodPassword, "roles": []string{"staff"}}, atok)
	expectStatus(t, r, http.StatusCreated)
	r = c.jsonReq(http.MethodPost, "/api/v1/users", map[string]any{"email": "x@example.vn", "name": "X", "password": goodPassword, "roles": []string{"overlord"}}, atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
}
