package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// AdminStore is what user administration needs from the store.
type AdminStore interface {
	CreateUser(ctx context.Context, u *models.User) error
	ListUsers(ctx context.Context, limit int64) ([]models.User, error)
	SetUserDisabled(ctx context.Context, id string, disabled bool) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Admin lets administrators create judges, mentors, staff and admins, and
// disable accounts.
type Admin struct {
	Store  AdminStore
	Hasher *Hasher
	Views  *views.Views
	Valid  *Validator
}

type createUserRequest struct {
	Email    string   `json:"email" validate:"required,email,max=254"`
	Name     string   `json:"name" validate:"required,max=120"`
	Password string   `json:"password" validate:"required"`
	Roles    []string `json:"roles" validate:"max=5"`
}

type adminUsersPage struct {
	Users []models.User
	Roles []models.Role
}

func (h *Admin) create(c *fiber.Ctx, req *createUserRequest) (*models.User, map[string]string, error) {
	tr := h.Views.I18n.For(Lang(c))
	req.Email, req.Name = strings.TrimSpace(req.Email), strings.TrimSpace(req.Name)
	fields := h.Valid.Check(req, tr)
	var rules models.RuleErrors
	if err := models.CheckPassword(req.Password, req.Email); err != nil {
		rules = append(rules, err.(*models.RuleError))
	}
	var roles []models.Role
	for _, s := range req.Roles {
		r, ok := models.ParseRole(s)
		if !ok {
			rules = append(rules, &models.RuleError{Field: "roles", Key: "error.roles_required"})
			break
		}
		roles = append(roles, r)
	}
	if len(roles) == 0 {
		rules = append(rules, &models.RuleError{Field: "roles", Key: "error.roles_required"})
	}
	if len(fields) > 0 || len(rules) > 0 {
		return nil, ruleMessages(rules, tr, fields), nil
	}
	hash, err := h.Hasher.Hash(Ctx(c), req.Password)
	if err != nil {
		return nil, nil, err
	}
	u := &models.User{Email: req.Email, Name: req.Name, PasswordHash: hash, Roles: roles, Locale: Lang(c)}
	if err := h.Store.CreateUser(Ctx(c), u); err != nil {
		return nil, nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: models.AuditUserCreated, Target: u.ID, IP: c.IP(), Detail: joinRoles(roles)})
	return u, nil, nil
}

func joinRoles(rs []models.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// Users shows GET /admin/users.
func (h *Admin) Users(c *fiber.Ctx) error {
	return h.renderUsers(c, fiber.StatusOK, nil, nil)
}

func (h *Admin) renderUsers(c *fiber.Ctx, status int, errs, form map[string]string) error {
	users, err := h.Store.ListUsers(Ctx(c), 500)
	if err != nil {
		return err
	}
	d := Page(c, h.Views, "page.admin_users", adminUsersPage{Users: users, Roles: models.AllRoles})
	d.Errors, d.Form = errs, form
	return Render(c, h.Views, status, "admin_users", d)
}

// CreateUser handles POST /admin/users.
func (h *Admin) CreateUser(c *fiber.Ctx) error {
	req := createUserRequest{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	for _, v := range c.Request().PostArgs().PeekMulti("roles") {
		req.Roles = append(req.Roles, string(v))
	}
	_, fields, err := h.create(c, &req)
	if err == nil && fields == nil {
		flash(c, "flash.user_created")
		return c.Redirect("/admin/users", fiber.StatusSeeOther)
	}
	if fields == nil {
		p := Classify(err, h.Views.I18n.For(Lang(c)))
		if p.Fields == nil {
			return err
		}
		fields = p.Fields
	}
	form := map[string]string{"email": req.Email, "name": req.Name}
	for _, r := range req.Roles {
		form["role_"+r] = "1" // the ticked roles stay ticked
	}
	return h.renderUsers(c, fiber.StatusUnprocessableEntity, fields, form)
}

// SetDisabled returns the handler for POST /admin/users/:id/disable|enable.
func (h *Admin) SetDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h.setDisabled(c, disabled); err != nil {
			return err
		}
		key := "flash.user_enabled"
		if disabled {
			key = "flash.user_disabled"
		}
		flash(c, key)
		return c.Redirect("/admin/users", fiber.StatusSeeOther)
	}
}

func (h *Admin) setDisabled(c *fiber.Ctx, disabled bool) error {
	id := c.Params("id")
	if id == CurrentUser(c).ID {
		return models.ErrForbidden // an admin cannot lock themselves out
	}
	if err := h.Store.SetUserDisabled(Ctx(c), id, disabled); err != nil {
		return err
	}
	action := models.AuditUserEnable
	if disabled {
		action = models.AuditUserDisable
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: action, Target: id, IP: c.IP()})
	return nil
}

// APICreateUser handles POST /api/v1/users.
func (h *Admin) APICreateUser(c *fiber.Ctx) error {
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, fields, err := h.create(c, &req)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusCreated, toUserResponse(u))
}

// APISetDisabled returns the handler for POST /api/v1/users/:id/disable|enable.
func (h *Admin) APISetDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h.setDisabled(c, disabled); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
