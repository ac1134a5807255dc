package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// ProfileStore is what correcting one's profile needs.
type ProfileStore interface {
	UpdateProfile(ctx context.Context, userID string, p models.Profile) error
	UserByID(ctx context.Context, id string) (*models.User, error)
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Profiles lets people correct their own data.
type Profiles struct {
	Store ProfileStore
	Views *views.Views
	Valid *Validator
}

// save checks and stores p for the signed-in user; field messages for a
// 422, or nil.
func (h *Profiles) save(c *fiber.Ctx, p *models.Profile) (*models.User, map[string]string, error) {
	tr := h.Views.I18n.For(Lang(c))
	p.Name, p.Province, p.Commune = strings.TrimSpace(p.Name), strings.TrimSpace(p.Province), strings.TrimSpace(p.Commune)
	fields := h.Valid.Check(p, tr)
	phone, ok := models.NormalizePhone(p.Phone)
	if !ok {
		if fields == nil {
			fields = map[string]string{}
		}
		fields["phone"] = tr.T("error.phone_invalid")
	}
	if fields != nil {
		return nil, fields, nil
	}
	p.Phone = phone
	u := CurrentUser(c)
	if err := h.Store.UpdateProfile(Ctx(c), u.ID, *p); err != nil {
		return nil, nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: "user:profile_corrected", Target: u.ID, IP: c.IP()})
	nu, err := h.Store.UserByID(Ctx(c), u.ID)
	return nu, nil, err
}

// APIPatch handles PATCH /api/v1/me: every field of the profile (send
// what GET /api/v1/me gave, changed).
func (h *Profiles) APIPatch(c *fiber.Ctx) error {
	u := CurrentUser(c)
	p := models.Profile{Name: u.Name, Phone: u.Phone, BirthYear: u.BirthYear, Province: u.Province, Commune: u.Commune}
	if err := decodeJSONBytes(c.Body(), &p); err != nil {
		return err
	}
	nu, fields, err := h.save(c, &p)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusOK, toUserResponse(nu))
}

// Form shows GET /account/profile.
func (h *Profiles) Form(c *fiber.Ctx) error {
	u := CurrentUser(c)
	d := Page(c, h.Views, "page.profile", nil)
	d.Form = map[string]string{"name": u.Name, "phone": u.Phone, "province": u.Province, "commune": u.Commune}
	if u.BirthYear != 0 {
		d.Form["birth_year"] = strconv.Itoa(u.BirthYear)
	}
	return Render(c, h.Views, fiber.StatusOK, "account_profile", d)
}

// Save handles POST /account/profile.
func (h *Profiles) Save(c *fiber.Ctx) error {
	form := map[string]string{}
	for _, k := range []string{"name", "phone", "birth_year", "province", "commune"} {
		form[k] = c.FormValue(k)
	}
	year, err := strconv.Atoi(strings.TrimSpace(form["birth_year"]))
	tr := h.Views.I18n.For(Lang(c))
	if err != nil && strings.TrimSpace(form["birth_year"]) != "" {
		d := Page(c, h.Views, "page.profile", nil)
		d.Form, d.Errors = form, map[string]string{"birth_year": tr.T("error.birth_year_range")}
		return Render(c, h.Views, fiber.StatusUnprocessableEntity, "account_profile", d)
	}
	p := models.Profile{Name: form["name"], Phone: form["phone"], BirthYear: year, Province: form["province"], Commune: form["commune"]}
	_, fields, err := h.save(c, &p)
	if err != nil {
		return err
	}
	if fields != nil {
		d := Page(c, h.Views, "page.profile", nil)
		d.Form, d.Errors = form, fields
		return Render(c, h.Views, fiber.StatusUnprocessableEntity, "account_profile", d)
	}
	flash(c, "flash.profile_saved")
	return c.Redirect("/account", fiber.StatusSeeOther)
}
