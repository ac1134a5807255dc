package app

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"

	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
)

// usesCookies reports whether a request is cookie-authenticated (or may
// become so): API calls with a bearer token or without any session cookie
// carry no ambient authority and need neither a session nor CSRF.
func usesCookies(c *fiber.Ctx) bool {
	if _, ok := handlers.BearerToken(c); ok {
		return false
	}
	return !isAPI(c) || c.Cookies(SessionCookie) != ""
}

// sessionRefresh bounds how often an unchanged session is written only to
// push its sliding expiry on: a session read on every request but written
// at most every few minutes lives SessionTTL after its last write, give or
// take this much.
const sessionRefresh = 5 * time.Minute

// loadSession reads the request's session once, checks CSRF against it and
// writes it back after the handler only when something changed (sign-in,
// sign-out, a flash set or taken, a CSRF token created or rotated) or its
// sliding expiry is sessionRefresh old.
//
// Why not Fiber's csrf middleware: in session mode it calls
// session.Store.Get twice per request (to read the token, then to "create
// or extend" it) and saves the session every time, and authenticate read it
// a third time: three finds and a SQLite commit on every page, ~4 ms of a
// 5 ms page (docs/BENCHMARKS.md, "Session read once"). This keeps what it
// did (SECURITY.md 15): a random token bound to the session, rotated at
// sign-in (signIn deletes it; a new one is made before the save), demanded
// on every unsafe cookie-authenticated request from the X-Csrf-Token header
// or the _csrf form field (or, for deck uploads only, the _csrf query),
// compared in constant time with the session's token and with the
// sprout_csrf cookie (double submit), the Referer checked on HTTPS, and
// 403 csrf_failed with an audit event on failure. The token's expiry is
// the session's, extended when the session is saved; it is stored as
// Fiber's csrf.Token so that sessions stay readable across versions.
func (a *App) loadSession(c *fiber.Ctx) error {
	if !usesCookies(c) {
		return c.Next()
	}
	// fiber.Storage has no context, so session I/O is timed here.
	start := time.Now()
	sess, err := a.sessions.Get(c)
	timerFrom(c).Add(time.Since(start))
	if err != nil {
		return fmt.Errorf("app: load session: %w: %w", models.ErrUnavailable, err)
	}
	st := &handlers.SessionState{S: sess}
	handlers.SetSession(c, st)
	now := a.now()
	tok := st.CSRFToken(now)
	if !safeMethod(c.Method()) {
		if err := checkCSRF(c, tok); err != nil {
			a.audit(c, models.AuditEvent{Action: models.AuditAccessDeny, Target: c.Path(), Detail: "csrf"})
			return &handlers.HTTPError{Status: fiber.StatusForbidden, Code: "csrf_failed", Key: "error.csrf", Err: err}
		}
	}
	if tok == "" {
		tok = randomID()
		st.SetCSRFToken(tok, now.Add(SessionTTL))
	}
	c.Locals(handlers.CSRFContextKey, tok)
	c.Vary(fiber.HeaderCookie)

	err = c.Next()

	if st.Destroyed {
		return err
	}
	if st.CSRFToken(now) == "" { // rotated by signIn
		tok = randomID()
		st.SetCSRFToken(tok, now.Add(SessionTTL))
	}
	if !st.Dirty && now.Sub(st.SavedAt()) >= sessionRefresh {
		st.Dirty = true
	}
	if st.Dirty {
		st.Stamp(now, now.Add(SessionTTL))
		// Fiber's Save releases the session, so it happens once, here.
		start := time.Now()
		serr := sess.Save()
		timerFrom(c).Add(time.Since(start))
		if serr != nil && err == nil {
			err = fmt.Errorf("app: save session: %w: %w", models.ErrUnavailable, serr)
		}
	}
	// Fiber's csrf middleware set this cookie on every answer; once is
	// enough, and again whenever the browser lost it (it is session-only).
	if c.Cookies(csrfCookie) != tok {
		c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: tok, Path: "/", HTTPOnly: true, Secure: a.cfg.Secure(),
			SameSite: fiber.CookieSameSiteLaxMode, SessionOnly: true})
	}
	return err
}

// safeMethod: the methods RFC 9110 calls safe need no CSRF token.
func safeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return true
	}
	return false
}

// checkCSRF demands the session's token on an unsafe request.
func checkCSRF(c *fiber.Ctx, want string) error {
	if c.Protocol() == "https" {
		if err := refererMatchesHost(c); err != nil {
			return err
		}
	}
	got, err := csrfFromRequest(c)
	if err != nil {
		return err
	}
	if !equalTokens(got, c.Cookies(csrfCookie)) {
		return csrf.ErrTokenInvalid
	}
	if want == "" || !equalTokens(got, want) {
		return csrf.ErrTokenNotFound
	}
	return nil
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// csrfFromRequest takes the token from the X-Csrf-Token header, else the
// _csrf form field; deck uploads stream, and reading a multipart form field
// here would buffer the whole file, so their form carries the token in its
// action URL instead (and only they may).
func csrfFromRequest(c *fiber.Ctx) (string, error) {
	if t := c.Get(csrf.HeaderName); t != "" {
		return t, nil
	}
	if isUpload(c) {
		if t := c.Query("_csrf"); t != "" {
			return t, nil
		}
		return "", csrf.ErrTokenNotFound
	}
	if t := c.FormValue("_csrf"); t != "" {
		return t, nil
	}
	return "", csrf.ErrTokenNotFound
}

// refererMatchesHost: over HTTPS an unsafe request must come from a page of
// this site (as Fiber's csrf middleware checks).
func refererMatchesHost(c *fiber.Ctx) error {
	referer := strings.ToLower(c.Get(fiber.HeaderReferer))
	if referer == "" {
		return csrf.ErrNoReferer
	}
	u, err := url.Parse(referer)
	if err != nil {
		return csrf.ErrBadReferer
	}
	if u.Scheme == c.Protocol() && u.Host == c.Hostname() {
		return nil
	}
	return csrf.ErrBadReferer
}

// authenticate finds who is calling: a bearer token, else the session
// cookie. Every request reloads the user, so disabling an account ends its
// sessions and tokens at once (SECURITY.md 14).
func (a *App) authenticate(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if tok, ok := handlers.BearerToken(c); ok {
		uid, epoch, err := a.store.TokenUser(ctx, tok)
		if errors.Is(err, models.ErrNotFound) {
			return models.ErrUnauthorized
		}
		if err != nil {
			return err
		}
		u, err := a.store.UserByID(ctx, uid)
		if errors.Is(err, models.ErrNotFound) || (err == nil && (u.Disabled || u.SessionEpoch != epoch)) {
			return models.ErrUnauthorized
		}
		if err != nil {
			return err
		}
		handlers.SetUser(c, u, handlers.ViaToken)
		return c.Next()
	}
	if !usesCookies(c) {
		return c.Next()
	}
	st := handlers.CurrentSession(c) // loadSession read it
	if st == nil {
		return c.Next()
	}
	if f, ok := st.TakeFlash(); ok {
		c.Locals(handlers.FlashContextKey, f)
	}
	if uid := st.UserID(); uid != "" {
		u, err := a.store.UserByID(ctx, uid)
		switch {
		case err == nil && !u.Disabled && u.SessionEpoch == st.Epoch():
			handlers.SetUser(c, u, handlers.ViaSession)
		case err == nil || errors.Is(err, models.ErrNotFound):
			// Disabled, deleted, or every credential ended since this
			// session began: the old cookie signs nobody in.
			if err := st.Destroy(); err != nil {
				return fmt.Errorf("app: end session: %w", err)
			}
		default:
			return err
		}
	}
	return c.Next()
}

func timerFrom(c *fiber.Ctx) *store.DBTimer {
	if t := store.DBTimerFrom(c.UserContext()); t != nil {
		return t
	}
	return &store.DBTimer{}
}

// language picks vi or en from the cookie, then Accept-Language.
func language(c *fiber.Ctx) error {
	handlers.SetLang(c, viewsMatch(c.Cookies(handlers.LangCookie), c.Get(fiber.HeaderAcceptLanguage)))
	return c.Next()
}

// audit records an event without failing the request if the log is down.
func (a *App) audit(c *fiber.Ctx, e models.AuditEvent) {
	if u := handlers.CurrentUser(c); u != nil && e.Actor == "" {
		e.Actor = u.ID
	}
	e.IP = c.IP()
	if err := a.store.Audit(c.UserContext(), e); err != nil {
		a.log.Warn("audit", "err", err, "action", e.Action)
	}
}
