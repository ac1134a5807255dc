package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
)

type sessionKey struct{}

// Session keys.
const (
	sessUserID = "uid"
	sessFlash  = "flash"
)

// SetSession keeps the request's session for handlers (loaded once by the
// session middleware).
func SetSession(c *fiber.Ctx, s *session.Session) { c.Locals(sessionKey{}, s) }

// CurrentSession returns the request's session, or nil for token or
// anonymous API requests.
func CurrentSession(c *fiber.Ctx) *session.Session {
	s, _ := c.Locals(sessionKey{}).(*session.Session)
	return s
}

// SessionUserID returns the user id stored in a session, or "".
func SessionUserID(s *session.Session) string {
	id, _ := s.Get(sessUserID).(string)
	return id
}

// TakeFlash returns and clears a session's one-time message. The caller
// saves the session.
func TakeFlash(s *session.Session) (string, bool) {
	f, ok := s.Get(sessFlash).(string)
	if ok {
		s.Delete(sessFlash)
	}
	return f, ok
}

// signIn binds the session to userID under a new session id (SECURITY.md 14:
// the id changes at login, so a planted id is worthless).
func signIn(c *fiber.Ctx, userID string) error {
	s := CurrentSession(c)
	if s == nil {
		return fmt.Errorf("handlers: sign in without a session")
	}
	if err := s.Regenerate(); err != nil {
		return fmt.Errorf("handlers: regenerate session: %w", err)
	}
	s.Set(sessUserID, userID)
	return s.Save()
}

// signOut destroys the session in the store and expires the cookie.
func signOut(c *fiber.Ctx) error {
	s := CurrentSession(c)
	if s == nil {
		return nil
	}
	if err := s.Destroy(); err != nil {
		return fmt.Errorf("handlers: destroy session: %w", err)
	}
	return nil
}

// flash leaves a one-time message key for the next page.
func flash(c *fiber.Ctx, key string) error {
	s := CurrentSession(c)
	if s == nil {
		return nil
	}
	s.Set(sessFlash, key)
	return s.Save()
}
