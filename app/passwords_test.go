package app_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

var resetLink = regexp.MustCompile(`/password/reset/([A-Za-z0-9_-]{20,})`)

// lastResetToken reads a reset link mailed to addr other than those in
// seen (the tests' clock stands still, so mails carry equal times).
func lastResetToken(t *testing.T, a *app.App, addr string, seen ...string) string {
	t.Helper()
	mail, err := a.Store().ListOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mail {
		if m.To == addr {
			if g := resetLink.FindStringSubmatch(m.Body); g != nil && !slices.Contains(seen, g[1]) {
				return g[1]
			}
		}
	}
	t.Fatalf("no new reset link mailed to %s", addr)
	return ""
}

// TestPasswordResetAPI: the same answer for any address; a mailed,
// single-use token (only its hash stored) sets a new password once, ends
// every session and token, and is gone afterwards — also when two requests
// race.
func TestPasswordResetAPI(t *testing.T) {
	j := newJourney(t)
	a := j.a
	c := newClient(t, a)
	known := c.jsonReq(http.MethodPost, apiPrefix+"/password-resets", map[string]string{"email": "MAI@example.vn"}, "")
	unknown := c.jsonReq(http.MethodPost, apiPrefix+"/password-resets", map[string]string{"email": "nobody@example.vn"}, "")
	expectStatus(t, known, http.StatusAccepted)
	expectStatus(t, unknown, http.StatusAccepted)
	if known.text() != unknown.text() {
		t.Fatalf("answers differ: %s / %s", known.body, unknown.body)
	}
	raw := lastResetToken(t, a, "mai@example.vn")
	if mail, _ := a.Store().ListOutbox(context.Background(), 10); !strings.Contains(mail[0].Body, "http://") {
		t.Fatalf("link not built from the base URL: %s", mail[0].Body)
	}
	// Only the hash is stored.
	n, err := a.Store().DB().Collection("password_resets").CountDocuments(context.Background(), map[string]any{"_id": raw})
	if err != nil || n != 0 {
		t.Fatalf("raw token stored (%d, %v)", n, err)
	}
	// A weak password is refused and the token still works.
	r := c.jsonReq(http.MethodPost, apiPrefix+"/password-resets/"+raw, map[string]string{"password": "        "}, "")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	// Two at once: exactly one wins.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	base := apptest.Serve(t, a)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(base+apiPrefix+"/password-resets/"+raw, "application/json", strings.NewReader(`{"password":"đêm trăng sáng trên đỉnh Fansipan"}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	if !(codes[0] == 204 && codes[1] == 410 || codes[0] == 410 && codes[1] == 204) {
		t.Fatalf("racing redemptions answered %v", codes)
	}
	// The old token (issued before) and password are dead; the new one works.
	expectStatus(t, j.appl.jsonReq(http.MethodGet, apiPrefix+"/me", nil, j.atok), http.StatusUnauthorized)
	expectStatus(t, newClient(t, a).jsonReq(http.MethodPost, apiPrefix+"/tokens", map[string]string{"email": "mai@example.vn", "password": goodPassword}, ""), http.StatusUnauthorized)
	token(t, newClient(t, a), "mai@example.vn", "đêm trăng sáng trên đỉnh Fansipan")
	// Used: 410 on the page and the API.
	expectStatus(t, c.jsonReq(http.MethodPost, apiPrefix+"/password-resets/"+raw, map[string]string{"password": "một câu khác hoàn toàn"}, ""), http.StatusGone)
	expectStatus(t, c.get("/password/reset/"+raw), http.StatusGone)

	// An expired token is gone too.
	c = newClient(t, a)
	expectStatus(t, c.jsonReq(http.MethodPost, apiPrefix+"/password-resets", map[string]string{"email": "mai@example.vn"}, ""), http.StatusAccepted)
	raw2 := lastResetToken(t, a, "mai@example.vn", raw)
	j.clk.set(j.clk.now().Add(31 * time.Minute))
	expectStatus(t, c.jsonReq(http.MethodPost, apiPrefix+"/password-resets/"+raw2, map[string]string{"password": "một câu khác hoàn toàn"}, ""), http.StatusGone)
}

// TestOwnerGetsInFromAnotherAddress: five wrong passwords from one address
// lock only that address out of the account; the owner signs in from
// another, and a reset clears the count.
func TestOwnerGetsInFromAnotherAddress(t *testing.T) {
	j := newJourneyWith(t, func(c *app.Config) { c.TrustedProxies = "0.0.0.0/0" })
	attacker := newClient(t, j.a)
	attacker.headers["X-Forwarded-For"] = "203.0.113.66"
	for i := 0; i < 5; i++ {
		expectStatus(t, attacker.jsonReq(http.MethodPost, apiPrefix+"/tokens", map[string]string{"email": "mai@example.vn", "password": "đoán mò mật khẩu"}, ""), http.StatusUnauthorized)
	}
	expectStatus(t, attacker.jsonReq(http.MethodPost, apiPrefix+"/tokens", map[string]string{"email": "mai@example.vn", "password": goodPassword}, ""), http.StatusTooManyRequests)
	owner := newClient(t, j.a)
	owner.headers["X-Forwarded-For"] = "198.51.100.7"
	expectStatus(t, owner.jsonReq(http.MethodPost, apiPrefix+"/tokens", map[string]string{"email": "mai@example.vn", "password": goodPassword}, ""), http.StatusCreated)
}

// TestChangePasswordAndProfile: the current password is checked; a change
// ends every other session and token; profile corrections are saved and
// checked like registration.
func TestChangePasswordAndProfile(t *testing.T) {
	j := newJourney(t)
	c := j.appl
	r := c.jsonReq(http.MethodPut, apiPrefix+"/me/password", map[string]string{"current": "sai rồi sai rồi", "new": "mùa hoa tam giác mạch"}, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	if e.Error.Fields["current"] == "" {
		t.Fatalf("current not named: %s", r.body)
	}
	other := newClient(t, j.a)
	expectStatus(t, other.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	expectStatus(t, c.jsonReq(http.MethodPut, apiPrefix+"/me/password", map[string]string{"current": goodPassword, "new": "mùa hoa tam giác mạch"}, j.atok), http.StatusNoContent)
	expectStatus(t, c.jsonReq(http.MethodGet, apiPrefix+"/me", nil, j.atok), http.StatusUnauthorized)
	expectStatus(t, other.get("/account"), http.StatusSeeOther)
	tok := token(t, newClient(t, j.a), "mai@example.vn", "mùa hoa tam giác mạch")

	r = c.jsonReq(http.MethodPatch, apiPrefix+"/me", map[string]any{"name": "Hoàng Thị Mai Anh", "phone": "0912 345 678", "commune": "Sa Pa"}, tok)
	expectStatus(t, r, http.StatusOK)
	u, _ := j.a.Store().UserByEmail(context.Background(), "mai@example.vn")
	if u.Name != "Hoàng Thị Mai Anh" || u.Commune != "Sa Pa" || u.Phone == "" || u.Province != "Lào Cai" {
		t.Fatalf("profile %+v", u)
	}
	expectStatus(t, c.jsonReq(http.MethodPatch, apiPrefix+"/me", map[string]any{"name": ""}, tok), http.StatusUnprocessableEntity)
	expectStatus(t, c.jsonReq(http.MethodPatch, apiPrefix+"/me", map[string]any{"commune": "Bắc\x00Hà"}, tok), http.StatusUnprocessableEntity)
	if u2, _ := j.a.Store().UserByEmail(context.Background(), "mai@example.vn"); u2.Name != u.Name || u2.Commune != "Sa Pa" {
		t.Fatalf("refused correction changed the profile: %+v", u2)
	}
	// The roles are not the person's to set.
	expectStatus(t, c.jsonReq(http.MethodPatch, apiPrefix+"/me", map[string]any{"name": "X Y", "roles": []string{"admin"}}, tok), http.StatusOK)
	if u3, _ := j.a.Store().UserByEmail(context.Background(), "mai@example.vn"); u3.HasRole(models.RoleAdmin) {
		t.Fatal("roles taken from a profile correction")
	}
}
