package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
)

// The attacks of issue 7 on accounts and sessions, each against the running
// server or the store as an attacker would see them.

// TestParallelSignInsCannotPassThrottle sends 40 wrong passwords for one
// account at once over real connections: exactly the per-account limit may
// be tried (401), the rest are refused before any hashing (429), and the
// counters in the store agree.
func TestParallelSignInsCannotPassThrottle(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "target@example.vn")
	base := apptest.Serve(t, a)

	const n = 40
	body, _ := json.Marshal(map[string]string{"email": "target@example.vn", "password": "not the password at all"})
	var wg sync.WaitGroup
	codes := make(chan int, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Post(base+"/api/v1/tokens", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for code := range codes {
		count[code]++
	}
	if count[http.StatusUnauthorized] != handlers.MaxFailuresPerAccount || count[http.StatusTooManyRequests] != n-handlers.MaxFailuresPerAccount {
		t.Fatalf("answers %v: want %d × 401 and %d × 429", count, handlers.MaxFailuresPerAccount, n-handlers.MaxFailuresPerAccount)
	}
	ctx := context.Background()
	got, err := a.Store().Attempts(ctx, "acct:target@example.vn", handlers.MaxFailuresPerAccount, handlers.FailureWindow)
	if err != nil || got != handlers.MaxFailuresPerAccount {
		t.Fatalf("account attempts counted %d (%v), want %d", got, err, handlers.MaxFailuresPerAccount)
	}
	// Refused attempts do not use up the client's allowance either: only
	// the five that were tried count.
	ip, err := a.Store().Attempts(ctx, "ip:127.0.0.1", handlers.MaxFailuresPerClient, handlers.FailureWindow)
	if err != nil || ip != handlers.MaxFailuresPerAccount {
		t.Fatalf("client attempts counted %d (%v), want %d", ip, err, handlers.MaxFailuresPerAccount)
	}

	// The same against the per-client limit: 40 accounts sprayed at once.
	b := newApp(t)
	base = apptest.Serve(t, b)
	codes = make(chan int, n)
	start = make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body, _ := json.Marshal(map[string]string{"email": "spray" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.vn", "password": "not the password at all"})
			resp, err := http.Post(base+"/api/v1/tokens", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count = map[int]int{}
	for code := range codes {
		count[code]++
	}
	if count[http.StatusUnauthorized] != handlers.MaxFailuresPerClient || count[http.StatusTooManyRequests] != n-handlers.MaxFailuresPerClient {
		t.Fatalf("spray answers %v: want %d × 401 and %d × 429", count, handlers.MaxFailuresPerClient, n-handlers.MaxFailuresPerClient)
	}
}

// TestGoodSignInsDoNotUseUpAddress: people behind one address (a school)
// who sign in correctly do not throttle each other.
func TestGoodSignInsDoNotUseUpAddress(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "hoc@example.vn")
	for i := 0; i < handlers.MaxFailuresPerClient+5; i++ {
		token(t, c, "hoc@example.vn", goodPassword)
	}
}

// TestDisablingEndsSessionsAtOnce: B's cookie and token, unused while B was
// disabled, stay dead after B is enabled again, and the store holds none of
// B's sessions or tokens once B is disabled.
func TestDisablingEndsSessionsAtOnce(t *testing.T) {
	a := newApp(t)
	makeUser(t, a, "root@example.vn", models.RoleAdmin)
	b := newClient(t, a)
	id := register(t, b, "b@example.vn")
	btok := token(t, b, "b@example.vn", goodPassword)
	expectStatus(t, b.signIn("b@example.vn", goodPassword), http.StatusSeeOther)
	expectStatus(t, b.get("/account"), http.StatusOK)
	oldCookie := b.cookies["sprout_session"]

	ad := newClient(t, a)
	atok := token(t, ad, "root@example.vn", goodPassword)
	expectStatus(t, ad.jsonReq(http.MethodPost, "/api/v1/users/"+id+"/disable", nil, atok), http.StatusNoContent)

	db := storeDB(t, a)
	ctx := context.Background()
	for _, coll := range []string{"sessions", "tokens"} {
		n, err := db.Collection(coll).CountDocuments(ctx, bson.M{"user_id": id})
		if err != nil || n != 0 {
			t.Fatalf("%s of the disabled user left in the store: %d (%v)", coll, n, err)
		}
	}
	expectStatus(t, ad.jsonReq(http.MethodPost, "/api/v1/users/"+id+"/enable", nil, atok), http.StatusNoContent)

	replay := newClient(t, a)
	replay.cookies["sprout_session"] = oldCookie
	r := replay.get("/account")
	expectStatus(t, r, http.StatusSeeOther)
	expectStatus(t, replay.jsonReq(http.MethodGet, "/api/v1/me", nil, btok), http.StatusUnauthorized)

	// A session saved by a request in flight while the admin disabled B
	// (after the deletes) is still refused: its epoch is old. Simulated by
	// writing the old session back as that request would.
	b2 := newClient(t, a)
	expectStatus(t, b2.signIn("b@example.vn", goodPassword), http.StatusSeeOther)
	live := b2.cookies["sprout_session"]
	var doc bson.M
	if err := db.Collection("sessions").FindOne(ctx, bson.M{"_id": sessionHash(live)}).Decode(&doc); err != nil {
		t.Fatalf("session of the new sign-in not stored under its hash: %v", err)
	}
	expectStatus(t, ad.jsonReq(http.MethodPost, "/api/v1/users/"+id+"/disable", nil, atok), http.StatusNoContent)
	if _, err := db.Collection("sessions").InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ad.jsonReq(http.MethodPost, "/api/v1/users/"+id+"/enable", nil, atok), http.StatusNoContent)
	expectStatus(t, b2.get("/account"), http.StatusSeeOther)
}

// TestSessionIDsStoredHashed: what the store holds does not open a session.
// The cookie's value appears nowhere in the sessions collection; the
// document's _id is its SHA-256, and a cookie set to that _id signs nobody
// in.
func TestSessionIDsStoredHashed(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "hash@example.vn")
	expectStatus(t, c.signIn("hash@example.vn", goodPassword), http.StatusSeeOther)
	cookie := c.cookies["sprout_session"]
	db := storeDB(t, a)
	ctx := context.Background()
	cur, err := db.Collection("sessions").Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range docs {
		raw, _ := bson.Marshal(d)
		if bytes.Contains(raw, []byte(cookie)) {
			t.Fatalf("session id stored in the clear: %v", d)
		}
		if d["_id"] == sessionHash(cookie) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no session stored under the cookie's hash among %d", len(docs))
	}
	thief := newClient(t, a)
	thief.cookies["sprout_session"] = sessionHash(cookie)
	expectStatus(t, thief.get("/account"), http.StatusSeeOther)
	expectStatus(t, c.get("/account"), http.StatusOK)
}

// TestCSRFTokenRotatesAtSignIn: a token learnt before sign-in (a shared
// computer, a planted page) is worthless after it.
func TestCSRFTokenRotatesAtSignIn(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	register(t, c, "rot@example.vn")
	before := c.csrfFrom("/login")
	r := c.form("/login", url.Values{"email": {"rot@example.vn"}, "password": {goodPassword}}, before)
	expectStatus(t, r, http.StatusSeeOther)
	after := c.csrfFrom("/account")
	if after == before {
		t.Fatal("CSRF token unchanged by sign-in")
	}
	// The old token, with its old cookie, is refused on the new session.
	c.cookies["sprout_csrf"] = before
	r = c.form("/logout", url.Values{}, before)
	expectStatus(t, r, http.StatusForbidden)
	c.cookies["sprout_csrf"] = after
	r = c.form("/logout", url.Values{}, after)
	expectStatus(t, r, http.StatusSeeOther)
}

// TestBlankPasswordsRefused: eight spaces are not a password, on the API
// and on the form; nothing is created.
func TestBlankPasswordsRefused(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	body := applicantBody("blank@example.vn")
	body["password"] = "        "
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	if e.Error.Fields["password"] == "" {
		t.Fatalf("no password message: %s", r.body)
	}
	body["password"] = "  abc      "
	expectStatus(t, c.jsonReq(http.MethodPost, "/api/v1/accounts", body, ""), http.StatusUnprocessableEntity)
	if _, err := a.Store().UserByEmail(context.Background(), "blank@example.vn"); err == nil {
		t.Fatal("account created with a blank password")
	}
}

// TestNULBytesRefused: a NUL in any stored text field is a 422 naming the
// field, in the user's language, and nothing is stored.
func TestNULBytesRefused(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	body := applicantBody("nul@example.vn")
	body["name"] = "Hoàng\x00Mai"
	c.lang = "vi"
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	if !strings.Contains(e.Error.Fields["name"], "NUL") {
		t.Fatalf("name not named: %s", r.body)
	}
	if _, err := a.Store().UserByEmail(context.Background(), "nul@example.vn"); err == nil {
		t.Fatal("account stored with a NUL in its name")
	}

	// An entry's nested fields (team members) too.
	j := newJourney(t)
	eb := entryBody()
	eb["team"] = []map[string]any{{"name": "Lan\x00", "email": "lan@example.vn"}}
	r = j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", eb, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r.json(t, &e)
	if e.Error.Fields["team"] == "" {
		t.Fatalf("team not named: %s", r.body)
	}
	eb = entryBody()
	eb["title"] = "Trà\x00 Shan tuyết"
	r = j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", eb, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r.json(t, &e)
	if e.Error.Fields["title"] == "" {
		t.Fatalf("title not named: %s", r.body)
	}
}

func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// storeDB is the app's database, read directly as anyone holding the store
// would.
func storeDB(t *testing.T, a *app.App) *mongo.Database {
	t.Helper()
	return a.Store().DB()
}
