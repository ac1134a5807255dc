package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// client drives an App through app.Test, keeping cookies like a browser.
type client struct {
	t       *testing.T
	a       *app.App
	cookies map[string]string
	lang    string
	headers map[string]string
}

func newClient(t *testing.T, a *app.App) *client {
	return &client{t: t, a: a, cookies: map[string]string{}, headers: map[string]string{}}
}

func newApp(t *testing.T) *app.App {
	t.Helper()
	return apptest.NewApp(t, stack.Config(t))
}

type response struct {
	*http.Response
	body []byte
}

func (r *response) text() string { return string(r.body) }

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if c.lang != "" && req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.a.Handler().Test(req, -1)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return &response{Response: resp, body: body}
}

func (c *client) get(path string) *response {
	c.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// form posts an urlencoded form, adding the CSRF token unless csrf is "-".
func (c *client) form(path string, vals url.Values, csrf string) *response {
	c.t.Helper()
	if csrf != "-" {
		vals.Set("_csrf", csrf)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) jsonReq(method, path string, body any, token string) *response {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req)
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrfFrom returns the CSRF token of the page at path.
func (c *client) csrfFrom(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfInput.FindStringSubmatch(r.text())
	if m == nil {
		c.t.Fatalf("no CSRF token on %s (status %d)", path, r.StatusCode)
	}
	return m[1]
}

func expectStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("status %d, want %d; body: %.600s", r.StatusCode, want, r.body)
	}
}

const goodPassword = "mùa xuân trên cao nguyên đá"

func applicantBody(email string) map[string]any {
	return map[string]any{
		"email": email, "password": goodPassword, "name": "Hoàng Thị Mai", "birth_year": 2000,
		"gender": "female", "province": "Lào Cai", "commune": "Bắc Hà",
		"consent": map[string]any{"terms": true, "notice_version": models.NoticeVersion},
	}
}

// register makes an applicant through the API and returns its id.
func register(t *testing.T, c *client, email string) string {
	t.Helper()
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", applicantBody(email), "")
	expectStatus(t, r, http.StatusCreated)
	var out struct{ ID string }
	r.json(t, &out)
	return out.ID
}

func token(t *testing.T, c *client, email, password string) string {
	t.Helper()
	r := c.jsonReq(http.MethodPost, "/api/v1/tokens", map[string]string{"email": email, "password": password}, "")
	expectStatus(t, r, http.StatusCreated)
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	r.json(t, &out)
	if out.Token == "" || out.ExpiresAt == "" {
		t.Fatalf("token response %s", r.body)
	}
	return out.Token
}

// makeUser creates a user with roles straight in the store (as the CLI does).
func makeUser(t *testing.T, a *app.App, email string, roles ...models.Role) *models.User {
	t.Helper()
	h, err := models.HashPassword(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := &models.User{Email: email, Name: "Người dùng " + email, PasswordHash: h, Roles: roles}
	if err := a.Store().CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// signIn signs the client in through the HTML form.
func (c *client) signIn(email, password string) *response {
	c.t.Helper()
	tok := c.csrfFrom("/login")
	return c.form("/login", url.Values{"email": {email}, "password": {password}}, tok)
}
