package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"

	"github.com/sprout-vn/sprout/models"
)

// Session keys.
const (
	sessUserID = "uid" // the store copies it into the session document (store.SessionUserKey)
	sessEpoch  = "ep"
	sessFlash  = "flash"
	sessCSRF   = "csrf" // where the CSRF middleware keeps the session's token
)

// SessionState wraps the request's Fiber session. Fiber's Session.Save
// releases the session object, so handlers only change it and mark it dirty;
// the session middleware saves it once, after the handler.
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
