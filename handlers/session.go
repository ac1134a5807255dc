package handlers

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/session"

	"github.com/sprout-vn/sprout/models"
)

// Session keys.
const (
	sessUserID = "uid" // the store copies it into the session document (store.SessionUserKey)
	sessEpoch  = "ep"
	sessFlash  = "flash"
	sessCSRF   = "csrf" // where the CSRF middleware keeps the session's token
	sessSaved  = "at"   // when the session was last written (unix seconds)
)

// SessionState wraps the request's Fiber session. Fiber's Session.Save
// releases the session object, so handlers only change it and mark it dirty;
// the session middleware (app.loadSession) saves it once, after the handler,
// and only if it is dirty.
type SessionState struct {
	S         *session.Session
	Dirty     bool
	Destroyed bool
}

type sessionKey struct{}

// SetSession keeps the request's session for handlers.
func SetSession(c *fiber.Ctx, s *SessionState) { c.Locals(sessionKey{}, s) }

// CurrentSession returns the request's session, or nil for token or
// anonymous API requests.
func CurrentSession(c *fiber.Ctx) *SessionState {
	s, _ := c.Locals(sessionKey{}).(*SessionState)
	return s
}

// UserID returns the user id stored in the session, or "".
func (s *SessionState) UserID() string {
	id, _ := s.S.Get(sessUserID).(string)
	return id
}

// Epoch returns the user's session epoch stored at sign-in.
func (s *SessionState) Epoch() int64 {
	ep, _ := s.S.Get(sessEpoch).(int64)
	return ep
}

// TakeFlash returns and clears the one-time message.
func (s *SessionState) TakeFlash() (string, bool) {
	f, ok := s.S.Get(sessFlash).(string)
	if ok {
		s.S.Delete(sessFlash)
		s.Dirty = true
	}
	return f, ok
}

// CSRFToken returns the session's CSRF token, or "" when it has none or it
// has expired. The token is kept as Fiber's csrf.Token (the format Fiber's
// csrf middleware used before app.loadSession replaced it), so sessions
// written by either version stay readable by the other.
func (s *SessionState) CSRFToken(now time.Time) string {
	t, ok := s.S.Get(sessCSRF).(csrf.Token)
	if !ok || t.Key == "" || !now.Before(t.Expiration) {
		return ""
	}
	return t.Key
}

// SetCSRFToken gives the session a new CSRF token and marks it dirty.
func (s *SessionState) SetCSRFToken(tok string, exp time.Time) {
	s.S.Set(sessCSRF, csrf.Token{Key: tok, Raw: []byte{'+'}, Expiration: exp})
	s.Dirty = true
}

// SavedAt returns when the session was last written (zero if never, or
// by a version that did not record it).
func (s *SessionState) SavedAt() time.Time {
	at, ok := s.S.Get(sessSaved).(int64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(at, 0)
}

// Stamp records, just before a save, that the session is written at now
// and lives until exp; the CSRF token's expiry follows the session's.
func (s *SessionState) Stamp(now, exp time.Time) {
	s.S.Set(sessSaved, now.Unix())
	if t, ok := s.S.Get(sessCSRF).(csrf.Token); ok {
		t.Expiration = exp
		s.S.Set(sessCSRF, t)
	}
}

// Destroy ends the session in the store and expires the cookie.
func (s *SessionState) Destroy() error {
	if err := s.S.Destroy(); err != nil {
		return fmt.Errorf("handlers: destroy session: %w", err)
	}
	s.Destroyed, s.Dirty = true, false
	return nil
}

// signIn binds the session to u under a new session id (SECURITY.md 14:
// the id changes at login, so a planted id is worthless) with a new CSRF
// token (a token seen before sign-in is worthless after it), and records the
// user's session epoch, so the session dies when the epoch moves on.
func signIn(c *fiber.Ctx, u *models.User) error {
	s := CurrentSession(c)
	if s == nil {
		return fmt.Errorf("handlers: sign in without a session")
	}
	if err := s.S.Regenerate(); err != nil {
		return fmt.Errorf("handlers: regenerate session: %w", err)
	}
	s.S.Delete(sessCSRF)
	s.S.Set(sessUserID, u.ID)
	s.S.Set(sessEpoch, u.SessionEpoch)
	s.Dirty = true
	return nil
}

// signOut destroys the session.
func signOut(c *fiber.Ctx) error {
	if s := CurrentSession(c); s != nil {
		return s.Destroy()
	}
	return nil
}

// flash leaves a one-time message key for the next page.
func flash(c *fiber.Ctx, key string) {
	if s := CurrentSession(c); s != nil && !s.Destroyed {
		s.S.Set(sessFlash, key)
		s.Dirty = true
	}
}
