package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
)

// sessionIO counts the commands an App sends to its sessions collection.
type sessionIO struct {
	mu        sync.Mutex
	recording bool
	reads     int
	writes    int
	sent      []string
}

func (s *sessionIO) observe(e *event.CommandStartedEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recording {
		return
	}
	coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
	if coll != "sessions" {
		return
	}
	s.sent = append(s.sent, e.CommandName)
	switch e.CommandName {
	case "find", "aggregate", "count", "distinct":
		s.reads++
	case "insert", "update", "delete", "findAndModify":
		s.writes++
	default:
		panic(fmt.Sprintf("unexpected command on sessions: %s", e.CommandName))
	}
}

// during counts the session commands sent while f runs.
func (s *sessionIO) during(f func()) (reads, writes int, sent string) {
	s.mu.Lock()
	s.recording, s.reads, s.writes, s.sent = true, 0, 0, nil
	s.mu.Unlock()
	f()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recording = false
	return s.reads, s.writes, strings.Join(s.sent, ", ")
}

// TestSessionReadOnceWrittenOnChange: a cookie-authenticated page reads its
// session from the store exactly once and writes it only when it changed
// (sign-in, a new CSRF token, sign-out) or its sliding expiry is due
// (app.loadSession): the session and CSRF middlewares once cost three finds
// and a commit on every GET.
func TestSessionReadOnceWrittenOnChange(t *testing.T) {
	var sio sessionIO
	clk := newClock(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))
	a := apptest.NewApp(t, stack.Config(t), app.Options{Now: clk.now, Observe: sio.observe})
	c := newClient(t, a)
	register(t, c, "once@example.vn")

	// A first visit makes a session for its CSRF token: one write.
	var tok string
	r, w, sent := sio.during(func() { tok = c.csrfFrom("/login") })
	if r > 1 || w != 1 {
		t.Errorf("first GET /login: %d reads, %d writes of sessions (%s), want ≤1 and 1", r, w, sent)
	}
	// Seen again, nothing changed: one read, no write.
	r, w, sent = sio.during(func() {
		if got := c.csrfFrom("/login"); got != tok {
			t.Errorf("CSRF token changed without sign-in")
		}
	})
	if r != 1 || w != 0 {
		t.Errorf("second GET /login: %d reads, %d writes of sessions (%s), want 1 and 0", r, w, sent)
	}

	// Sign-in writes the session (new id, user, rotated token).
	r, w, sent = sio.during(func() {
		resp := c.form("/login", url.Values{"email": {"once@example.vn"}, "password": {goodPassword}}, tok)
		expectStatus(t, resp, http.StatusSeeOther)
	})
	t.Logf("POST /login: %s", sent)
	if r != 1 || w == 0 {
		t.Errorf("POST /login: %d reads, %d writes of sessions (%s), want 1 and ≥1", r, w, sent)
	}

	// Signed-in pages: exactly one read, and no write once the sign-in's
	// flash message has been shown (taking it is a change).
	var after string
	for i := range 3 {
		r, w, sent = sio.during(func() {
			resp := c.get("/account")
			expectStatus(t, resp, http.StatusOK)
			m := csrfInput.FindStringSubmatch(resp.text())
			if m == nil {
				t.Fatal("no CSRF token on /account")
			}
			if i == 0 {
				after = m[1]
			} else if m[1] != after {
				t.Errorf("CSRF token changed between pages")
			}
		})
		t.Logf("GET /account #%d: %s", i+1, sent)
		wantW := 0
		if i == 0 {
			wantW = 1 // the flash "signed in" is taken
		}
		if r != 1 || w != wantW {
			t.Errorf("GET /account #%d: %d reads, %d writes of sessions (%s), want 1 and %d", i+1, r, w, sent, wantW)
		}
	}
	if after == tok {
		t.Fatal("CSRF token not rotated at sign-in")
	}

	// The sliding expiry is pushed on at most every few minutes.
	clk.set(clk.now().Add(time.Minute))
	if r, w, sent = sio.during(func() { expectStatus(t, c.get("/account"), http.StatusOK) }); r != 1 || w != 0 {
		t.Errorf("GET /account a minute later: %d reads, %d writes (%s), want 1 and 0", r, w, sent)
	}
	clk.set(clk.now().Add(10 * time.Minute))
	if r, w, sent = sio.during(func() { expectStatus(t, c.get("/account"), http.StatusOK) }); r != 1 || w != 1 {
		t.Errorf("GET /account 11 minutes later: %d reads, %d writes (%s), want 1 and 1", r, w, sent)
	}
	if r, w, sent = sio.during(func() { expectStatus(t, c.get("/account"), http.StatusOK) }); r != 1 || w != 0 {
		t.Errorf("GET /account after the refresh: %d reads, %d writes (%s), want 1 and 0", r, w, sent)
	}
	// 11 hours after that refresh the session is still alive (its expiry
	// moved on), and the token with it.
	clk.set(clk.now().Add(11 * time.Hour))
	resp := c.get("/account")
	expectStatus(t, resp, http.StatusOK)
	if m := csrfInput.FindStringSubmatch(resp.text()); m == nil || m[1] != after {
		t.Errorf("CSRF token did not live as long as the session")
	}

	// A rejected unsafe request changes nothing.
	if r, w, sent = sio.during(func() {
		expectStatus(t, c.form("/logout", url.Values{}, "-"), http.StatusForbidden)
	}); r != 1 || w != 0 {
		t.Errorf("POST /logout without a token: %d reads, %d writes (%s), want 1 and 0", r, w, sent)
	}
	// Sign-out deletes it.
	if r, w, sent = sio.during(func() {
		expectStatus(t, c.form("/logout", url.Values{}, after), http.StatusSeeOther)
	}); r != 1 || w != 1 {
		t.Errorf("POST /logout: %d reads, %d writes (%s), want 1 and 1", r, w, sent)
	}
}
