package handlers

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// ResetTTL is how long a mailed reset link works.
const ResetTTL = 30 * time.Minute

// Reset mails per address per window: enough for a person who lost one
// mail, too few to flood their inbox.
const maxResetMails = 3

// PasswordStore is what password reset and change need.
type PasswordStore interface {
	UserByEmail(ctx context.Context, email string) (*models.User, error)
	UserByID(ctx context.Context, id string) (*models.User, error)
	CreatePasswordReset(ctx context.Context, userID string, ttl time.Duration) (string, error)
	PasswordResetUser(ctx context.Context, raw string) (string, error)
	RedeemPasswordReset(ctx context.Context, raw string) (string, error)
	SetPassword(ctx context.Context, userID, hash string) error
	ClaimAttempt(ctx context.Context, key string, limit int, window time.Duration) (string, bool, error)
	ClearAttempts(ctx context.Context, key string, limit int, window time.Duration) error
	QueueMail(ctx context.Context, to, subject, body string) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Passwords lets people recover an account by e-mail and change their
// password.
type Passwords struct {
	Store   PasswordStore
	Hasher  *Hasher
	Views   *views.Views
	BaseURL string // links in mail are built from it, never from Host
}

// requestReset mails a reset link if the address has an account. The
// caller answers the same either way (no enumeration).
func (h *Passwords) requestReset(c *fiber.Ctx, email string) error {
	email = models.NormalizeEmail(email)
	if email == "" || !strings.Contains(email, "@") {
		return nil
	}
	u, err := h.Store.UserByEmail(Ctx(c), email)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return nil
	}
	if _, ok, err := h.Store.ClaimAttempt(Ctx(c), "reset:"+email, maxResetMails, FailureWindow); err != nil || !ok {
		return err
	}
	return h.SendReset(c, u, "self")
}

// SendReset mails u a fresh reset link (also the admins' action).
func (h *Passwords) SendReset(c *fiber.Ctx, u *models.User, by string) error {
	raw, err := h.Store.CreatePasswordReset(Ctx(c), u.ID, ResetTTL)
	if err != nil {
		return err
	}
	lang := u.Locale
	if lang == "" {
		lang = Lang(c)
	}
	tr := h.Views.I18n.For(lang)
	body := tr.T("mail.reset_body", "Name", u.Name, "URL", h.BaseURL+"/password/reset/"+raw, "Minutes", int(ResetTTL/time.Minute))
	if err := h.Store.QueueMail(Ctx(c), u.Email, tr.T("mail.reset_subject"), body); err != nil {
		return err
	}
	actor := u.ID
	if cu := CurrentUser(c); cu != nil {
		actor = cu.ID
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: actor, Action: "password:reset_sent", Target: u.ID, IP: c.IP(), Detail: by})
	return nil
}

// redeem sets a new password with a reset token: once; every session and
// token of the account ends, and failed sign-ins are forgotten so the owner
// gets in at once.
func (h *Passwords) redeem(c *fiber.Ctx, raw, password string) (map[string]string, error) {
	tr := h.Views.I18n.For(Lang(c))
	uid, err := h.Store.PasswordResetUser(Ctx(c), raw)
	if err != nil {
		return nil, err
	}
	u, err := h.Store.UserByID(Ctx(c), uid)
	if err != nil {
		return nil, err
	}
	if err := models.CheckPassword(password, u.Email); err != nil {
		return ruleMessages(models.RuleErrors{err.(*models.RuleError)}, tr, nil), nil
	}
	hash, err := h.Hasher.Hash(Ctx(c), password)
	if err != nil {
		return nil, err
	}
	if _, err := h.Store.RedeemPasswordReset(Ctx(c), raw); err != nil {
		return nil, err
	}
	if err := h.Store.SetPassword(Ctx(c), uid, hash); err != nil {
		return nil, err
	}
	if err := h.Store.ClearAttempts(Ctx(c), "acct:"+u.Email, MaxFailuresPerAccountAll, FailureWindow); err != nil {
		return nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: uid, Action: "password:reset", Target: uid, IP: c.IP()})
	return nil, nil
}

// change sets a new password for the signed-in user after checking the
// current one. Every session and token ends; the caller signs the current
// browser in again.
func (h *Passwords) change(c *fiber.Ctx, current, next string) (map[string]string, error) {
	tr := h.Views.I18n.For(Lang(c))
	u := CurrentUser(c)
	ok, err := h.Hasher.Verify(Ctx(c), u.PasswordHash, current)
	if err != nil || !ok {
		_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: "password:change_refused", Target: u.ID, IP: c.IP()})
		return map[string]string{"current": tr.T("error.current_password")}, nil
	}
	if err := models.CheckPassword(next, u.Email); err != nil {
		re := err.(*models.RuleError)
		return map[string]string{"new": tr.T(re.Key)}, nil
	}
	hash, err := h.Hasher.Hash(Ctx(c), next)
	if err != nil {
		return nil, err
	}
	if err := h.Store.SetPassword(Ctx(c), u.ID, hash); err != nil {
		return nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: "password:changed", Target: u.ID, IP: c.IP()})
	return nil, nil
}

// APIRequestReset handles POST /api/v1/password-resets {"email"}: 202
// whether or not the address has an account.
func (h *Passwords) APIRequestReset(c *fiber.Ctx) error {
	var req struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.requestReset(c, req.Email); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusAccepted, map[string]string{"status": "accepted"})
}

// APIRedeemReset handles POST /api/v1/password-resets/:token {"password"}.
func (h *Passwords) APIRedeemReset(c *fiber.Ctx) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	fields, err := h.redeem(c, c.Params("token"), req.Password)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// APIChangePassword handles PUT /api/v1/me/password {"current","new"}.
func (h *Passwords) APIChangePassword(c *fiber.Ctx) error {
	var req struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	fields, err := h.change(c, req.Current, req.New)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ForgotForm shows GET /password/forgot.
func (h *Passwords) ForgotForm(c *fiber.Ctx) error {
	d := Page(c, h.Views, "page.forgot", map[string]bool{"sent": c.Query("sent") == "1"})
	return Render(c, h.Views, fiber.StatusOK, "password_forgot", d)
}

// Forgot handles POST /password/forgot: the same page whatever the address.
func (h *Passwords) Forgot(c *fiber.Ctx) error {
	if err := h.requestReset(c, c.FormValue("email")); err != nil {
		return err
	}
	return c.Redirect("/password/forgot?sent=1", fiber.StatusSeeOther)
}

// ResetForm shows GET /password/reset/:token.
func (h *Passwords) ResetForm(c *fiber.Ctx) error {
	if _, err := h.Store.PasswordResetUser(Ctx(c), c.Params("token")); err != nil {
		return h.renderReset(c, fiber.StatusGone, true, nil)
	}
	return h.renderReset(c, fiber.StatusOK, false, nil)
}

func (h *Passwords) renderReset(c *fiber.Ctx, status int, gone bool, errs map[string]string) error {
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer") // the token is in the address
	d := Page(c, h.Views, "page.reset", map[string]any{"gone": gone, "token": c.Params("token")})
	d.Errors = errs
	return Render(c, h.Views, status, "password_reset", d)
}

// Reset handles POST /password/reset/:token.
func (h *Passwords) Reset(c *fiber.Ctx) error {
	fields, err := h.redeem(c, c.Params("token"), c.FormValue("password"))
	switch {
	case errors.Is(err, models.ErrResetGone):
		return h.renderReset(c, fiber.StatusGone, true, nil)
	case err != nil:
		return err
	case fields != nil:
		return h.renderReset(c, fiber.StatusUnprocessableEntity, false, fields)
	}
	flash(c, "flash.password_reset")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// ChangeForm shows GET /account/password.
func (h *Passwords) ChangeForm(c *fiber.Ctx) error {
	return Render(c, h.Views, fiber.StatusOK, "account_password", Page(c, h.Views, "page.change_password", nil))
}

// Change handles POST /account/password; this browser stays signed in
// under a new session, every other session ends.
func (h *Passwords) Change(c *fiber.Ctx) error {
	fields, err := h.change(c, c.FormValue("current"), c.FormValue("new"))
	if err != nil {
		return err
	}
	if fields != nil {
		d := Page(c, h.Views, "page.change_password", nil)
		d.Errors = fields
		return Render(c, h.Views, fiber.StatusUnprocessableEntity, "account_password", d)
	}
	u, err := h.Store.UserByID(Ctx(c), CurrentUser(c).ID)
	if err != nil {
		return err
	}
	if err := signIn(c, u); err != nil {
		return err
	}
	flash(c, "flash.password_changed")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// adminReset mails the user with :id a reset link (an admin's action).
func (h *Passwords) adminReset(c *fiber.Ctx) error {
	u, err := h.Store.UserByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return h.SendReset(c, u, "admin")
}

// AdminReset handles POST /admin/users/:id/reset.
func (h *Passwords) AdminReset(c *fiber.Ctx) error {
	if err := h.adminReset(c); err != nil {
		return err
	}
	flash(c, "flash.reset_sent")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// APIAdminReset handles POST /api/v1/users/:id/reset.
func (h *Passwords) APIAdminReset(c *fiber.Ctx) error {
	if err := h.adminReset(c); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusAccepted, map[string]string{"status": "sent"})
}
