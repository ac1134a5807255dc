package app

import (
	"errors"
	"fmt"
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

// csrfProtection binds a CSRF token to the session (Fiber's csrf middleware
// in session mode) and demands it on every unsafe cookie-authenticated
// request (SECURITY.md 15). The token comes from the X-Csrf-Token header or
// the _csrf form field.
func (a *App) csrfProtection() fiber.Handler {
	return csrf.New(csrf.Config{
		Next:              func(c *fiber.Ctx) bool { return !usesCookies(c) },
		Session:           a.sessions,
		SessionKey:        "csrf",
		CookieName:        csrfCookie,
		CookieHTTPOnly:    true,
		CookieSecure:      a.cfg.Secure(),
		CookieSameSite:    fiber.CookieSameSiteLaxMode,
		CookieSessionOnly: true,
		Expiration:        SessionTTL,
		KeyGenerator:      randomID,
		ContextKey:        handlers.CSRFContextKey,
		Extractor: func(c *fiber.Ctx) (string, error) {
			if t := c.Get(csrf.HeaderName); t != "" {
				return t, nil
			}
			// Deck uploads stream: reading a multipart form field here
			// would buffer the whole file, so their form carries the
			// token in its action URL.
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
		},
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			a.audit(c, models.AuditEvent{Action: models.AuditAccessDeny, Target: c.Path(), Detail: "csrf"})
			return &handlers.HTTPError{Status: fiber.StatusForbidden, Code: "csrf_failed", Key: "error.csrf", Err: err}
		},
	})
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
	// fiber.Storage has no context, so session I/O is timed here.
	start := time.Now()
	sess, err := a.sessions.Get(c)
	timerFrom(c).Add(time.Since(start))
	if err != nil {
		return fmt.Errorf("app: load session: %w: %w", models.ErrUnavailable, err)
	}
	st := &handlers.SessionState{S: sess}
	handlers.SetSession(c, st)
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
	err = c.Next()
	// Fiber's Save releases the session, so it happens once, here.
	if st.Dirty && !st.Destroyed {
		start := time.Now()
		serr := sess.Save()
		timerFrom(c).Add(time.Since(start))
		if serr != nil && err == nil {
			err = fmt.Errorf("app: save session: %w: %w", models.ErrUnavailable, serr)
		}
	}
	return err
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
