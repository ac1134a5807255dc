package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// Throttle limits (SECURITY.md 11), after OWASP's authentication cheat
// sheet: failed sign-ins are counted per (account, client address), so a
// stranger who knows an address cannot lock its owner out from elsewhere;
// per client address, against spraying many accounts; and per account
// over every address, a high cap against a guessing botnet. A password
// reset clears the account's counts.
const (
	MaxFailuresPerAccount    = 5  // per (account, client address)
	MaxFailuresPerClient     = 20 // per client address
	MaxFailuresPerAccountAll = 50 // per account, every address together
	FailureWindow            = 15 * time.Minute
)

// AuthStore is what signing in needs from the store.
type AuthStore interface {
	UserByEmail(ctx context.Context, email string) (*models.User, error)
	ClaimAttempt(ctx context.Context, key string, limit int, window time.Duration) (slot string, ok bool, err error)
	ReleaseAttempt(ctx context.Context, slot string) error
	ClearAttempts(ctx context.Context, key string, limit int, window time.Duration) error
	CreateToken(ctx context.Context, userID string, epoch int64, ttl time.Duration) (string, time.Time, error)
	DeleteToken(ctx context.Context, raw string) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Auth signs people in and out (HTML) and issues API tokens.
type Auth struct {
	Store    AuthStore
	Hasher   *Hasher
	Views    *views.Views
	TokenTTL time.Duration
}

// authenticate checks credentials with throttling. Every attempt takes a
// throttle slot for the account and for the client address before any
// hashing, so parallel attempts cannot pass the limits (SECURITY.md 11).
// Unknown e-mail, wrong password and disabled account all return
// models.ErrBadLogin after the same amount of hashing work.
func (h *Auth) authenticate(c *fiber.Ctx, email, password string) (*models.User, error) {
	ctx := Ctx(c)
	email = models.NormalizeEmail(email)
	pairKey, ipKey, acctKey := "acct:"+email+"|ip:"+c.IP(), "ip:"+c.IP(), "acct:"+email
	deny := func() (*models.User, error) {
		_ = h.Store.Audit(ctx, models.AuditEvent{Action: models.AuditLoginDenied, Target: email, IP: c.IP()})
		return nil, models.ErrThrottled
	}
	// Each attempt takes a slot under every key before any hashing; an
	// attempt refused by a later key gives the earlier slots back.
	var taken []string
	release := func() error {
		for _, s := range taken {
			if err := h.Store.ReleaseAttempt(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range []struct {
		key   string
		limit int
	}{{pairKey, MaxFailuresPerAccount}, {ipKey, MaxFailuresPerClient}, {acctKey, MaxFailuresPerAccountAll}} {
		slot, ok, err := h.Store.ClaimAttempt(ctx, k.key, k.limit, FailureWindow)
		if err == nil && !ok {
			err = release()
			if err == nil {
				return deny()
			}
		}
		if err != nil {
			_ = release()
			return nil, err
		}
		taken = append(taken, slot)
	}
	u, err := h.Store.UserByEmail(ctx, email)
	hash := models.DummyHash
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !errors.Is(err, models.ErrNotFound):
		return nil, err
	}
	ok, verr := h.Hasher.Verify(ctx, hash, password)
	if err != nil || verr != nil || !ok || u.Disabled {
		actor := ""
		if u != nil {
			actor = u.ID
		}
		_ = h.Store.Audit(ctx, models.AuditEvent{Actor: actor, Action: models.AuditLoginFailed, Target: email, IP: c.IP()})
		return nil, models.ErrBadLogin
	}
	// A good sign-in clears the count of this (account, address) and gives
	// the other slots back (a school's shared address is not throttled by
	// successes).
	if err := h.Store.ClearAttempts(ctx, pairKey, MaxFailuresPerAccount, FailureWindow); err != nil {
		return nil, err
	}
	taken = taken[1:]
	if err := release(); err != nil {
		return nil, err
	}
	_ = h.Store.Audit(ctx, models.AuditEvent{Actor: u.ID, Action: models.AuditLoginOK, Target: u.ID, IP: c.IP()})
	return u, nil
}

// LoginForm shows GET /login.
func (h *Auth) LoginForm(c *fiber.Ctx) error {
	if CurrentUser(c) != nil {
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	d := Page(c, h.Views, "page.login", nil)
	d.Form = map[string]string{"next": SafeNext(c.Query("next"))}
	return Render(c, h.Views, fiber.StatusOK, "login", d)
}

// Login handles POST /login.
func (h *Auth) Login(c *fiber.Ctx) error {
	email := strings.TrimSpace(c.FormValue("email"))
	u, err := h.authenticate(c, email, c.FormValue("password"))
	if err != nil {
		tr := h.Views.I18n.For(Lang(c))
		p := Classify(err, tr)
		if p.Status >= 500 {
			return err
		}
		d := Page(c, h.Views, "page.login", nil)
		d.Errors = map[string]string{"email": p.Message}
		d.Form = map[string]string{"email": email, "next": SafeNext(c.FormValue("next"))}
		return Render(c, h.Views, p.Status, "login", d)
	}
	if err := signIn(c, u); err != nil {
		return err
	}
	flash(c, "flash.logged_in")
	if next := SafeNext(c.FormValue("next")); next != "" {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return c.Redirect(homeFor(u), fiber.StatusSeeOther)
}

// SafeNext returns next if it is a path on this site ("/…", not "//…",
// no backslash or control character, not the sign-in page itself), else
// "": a "next" can never send someone to another site.
func SafeNext(next string) string {
	if len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") ||
		strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/logout") {
		return ""
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	return next
}

// homeFor is where a user lands after signing in.
func homeFor(u *models.User) string {
	switch {
	case u.HasRole(models.RoleAdmin):
		return "/admin/users"
	case u.HasRole(models.RoleJudge):
		return "/judge"
	default:
		return "/account"
	}
}

// Logout handles POST /logout.
func (h *Auth) Logout(c *fiber.Ctx) error {
	if err := signOut(c); err != nil {
		return err
	}
	// The session is gone, so the message travels in the URL.
	return c.Redirect("/?signed_out=1", fiber.StatusSeeOther)
}

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APICreateToken handles POST /api/v1/tokens.
func (h *Auth) APICreateToken(c *fiber.Ctx) error {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.authenticate(c, req.Email, req.Password)
	if err != nil {
		return err
	}
	tok, exp, err := h.Store.CreateToken(Ctx(c), u.ID, u.SessionEpoch, h.TokenTTL)
	if err != nil {
		return fmt.Errorf("handlers: issue token: %w", err)
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: models.AuditTokenIssued, Target: u.ID, IP: c.IP()})
	return writeJSON(c, fiber.StatusCreated, tokenResponse{Token: tok, ExpiresAt: exp})
}

// APIDeleteToken handles DELETE /api/v1/tokens/current: revokes the bearer
// token the request came with.
func (h *Auth) APIDeleteToken(c *fiber.Ctx) error {
	raw, ok := BearerToken(c)
	if !ok || Via(c) != ViaToken {
		return models.ErrUnauthorized
	}
	if err := h.Store.DeleteToken(Ctx(c), raw); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// BearerToken returns the token of an "Authorization: Bearer …" header.
func BearerToken(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}
