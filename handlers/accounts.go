package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// AccountStore is what registration needs from the store.
type AccountStore interface {
	CreateUser(ctx context.Context, u *models.User) error
	QueueMail(ctx context.Context, to, subject, body string) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Accounts registers applicants, from the HTML form and the JSON API.
type Accounts struct {
	Store   AccountStore
	Hasher  *Hasher
	Views   *views.Views
	Valid   *Validator
	Now     func() time.Time
	BaseURL string // links in mail are built from it, never from Host
}

// errAddressTaken marks a registration whose address already has an
// account: the caller answers as for a new address (no enumeration) and the
// owner has been sent a mail instead.
var errAddressTaken = errors.New("handlers: address already registered")

type consentRequest struct {
	Terms         bool   `json:"terms"`
	Publish       bool   `json:"publish"`
	NoticeVersion string `json:"notice_version"`
}

// registerRequest lists every field an applicant may set; anything else in
// the body (roles, status…) is ignored.
type registerRequest struct {
	Email     string         `json:"email" validate:"required,email,max=254"`
	Password  string         `json:"password" validate:"required"`
	Name      string         `json:"name" validate:"required,max=120"`
	BirthYear int            `json:"birth_year" validate:"required"`
	Gender    string         `json:"gender" validate:"omitempty,oneof=female male other"`
	Province  string         `json:"province" validate:"required,max=100"`
	Commune   string         `json:"commune" validate:"required,max=100"`
	Phone     string         `json:"phone" validate:"omitempty,max=20"`
	Consent   consentRequest `json:"consent"`
}

type userResponse struct {
	ID        string        `json:"id"`
	Email     string        `json:"email"`
	Name      string        `json:"name"`
	Roles     []models.Role `json:"roles"`
	BirthYear int           `json:"birth_year,omitempty"`
	Gender    string        `json:"gender,omitempty"`
	Province  string        `json:"province,omitempty"`
	Commune   string        `json:"commune,omitempty"`
	Phone     string        `json:"phone,omitempty"`
	Disabled  bool          `json:"disabled"`
	CreatedAt time.Time     `json:"created_at"`
}

func toUserResponse(u *models.User) userResponse {
	return userResponse{ID: u.ID, Email: u.Email, Name: u.Name, Roles: u.Roles, BirthYear: u.BirthYear,
		Gender: u.Gender, Province: u.Province, Commune: u.Commune, Phone: u.Phone, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// register validates req and creates the applicant. It returns field errors
// (translated) for a 422, or another error.
func (h *Accounts) register(c *fiber.Ctx, req *registerRequest, channel string) (*models.User, map[string]string, error) {
	tr := h.Views.I18n.For(Lang(c))
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	req.Province = strings.TrimSpace(req.Province)
	req.Commune = strings.TrimSpace(req.Commune)
	fields := h.Valid.Check(req, tr)
	phone, phoneOK := models.NormalizePhone(req.Phone)
	rules := models.CheckRegistration(models.Registration{
		Email: req.Email, Password: req.Password, Name: req.Name, BirthYear: req.BirthYear,
		Terms: req.Consent.Terms,
	}, h.Now())
	if !phoneOK {
		rules = append(rules, &models.RuleError{Field: "phone", Key: "error.phone_invalid"})
	}
	if channel == "api" && req.Consent.Terms && req.Consent.NoticeVersion != models.NoticeVersion {
		rules = append(rules, &models.RuleError{Field: "consent", Key: "error.notice_version"})
	}
	if len(fields) > 0 || len(rules) > 0 {
		return nil, ruleMessages(rules, tr, fields), nil
	}
	hash, err := h.Hasher.Hash(Ctx(c), req.Password)
	if err != nil {
		return nil, nil, err
	}
	now := h.Now().UTC()
	notice := models.HashNotice(tr.T("consent.notice"))
	consents := []models.Consent{{Purpose: models.PurposeTerms, NoticeVersion: models.NoticeVersion, TextHash: notice, Channel: channel, At: now}}
	if req.Consent.Publish {
		consents = append(consents, models.Consent{Purpose: models.PurposePublish, NoticeVersion: models.NoticeVersion, TextHash: notice, Channel: channel, At: now})
	}
	u := &models.User{
		Email: req.Email, Name: req.Name, PasswordHash: hash, Roles: []models.Role{models.RoleApplicant},
		BirthYear: req.BirthYear, Gender: req.Gender, Province: req.Province, Commune: req.Commune,
		Phone: phone, Consents: consents, Locale: Lang(c),
	}
	if err := h.Store.CreateUser(Ctx(c), u); err != nil {
		if errors.Is(err, models.ErrEmailTaken) {
			if err := h.warnOwner(c, u, tr); err != nil {
				return nil, nil, err
			}
			// u (with the id CreateUser gave it) is the decoy answer.
			return u, nil, errAddressTaken
		}
		return nil, nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: models.AuditUserCreated, Target: u.ID, IP: c.IP(), Detail: "self-registration/" + channel})
	return u, nil, nil
}

// warnOwner mails the owner of an address someone tried to register again,
// instead of telling the person at the form that the address is taken.
func (h *Accounts) warnOwner(c *fiber.Ctx, u *models.User, tr *views.Translator) error {
	body := tr.T("mail.register_taken_body", "URL", h.BaseURL+"/login")
	if err := h.Store.QueueMail(Ctx(c), u.Email, tr.T("mail.register_taken_subject"), body); err != nil {
		return err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Action: models.AuditRegisterTaken, Target: u.Email, IP: c.IP()})
	return nil
}

// APIRegister handles POST /api/v1/accounts.
func (h *Accounts) APIRegister(c *fiber.Ctx) error {
	var req registerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, fields, err := h.register(c, &req, "api")
	if err != nil && !errors.Is(err, errAddressTaken) {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusCreated, toUserResponse(u))
}

// RegisterForm shows GET /register.
func (h *Accounts) RegisterForm(c *fiber.Ctx) error {
	if CurrentUser(c) != nil {
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	return Render(c, h.Views, fiber.StatusOK, "register", Page(c, h.Views, "page.register", nil))
}

// Register handles POST /register: create, sign in, redirect; or re-render
// the form with every error.
func (h *Accounts) Register(c *fiber.Ctx) error {
	year, _ := strconv.Atoi(strings.TrimSpace(c.FormValue("birth_year")))
	req := registerRequest{
		Email: c.FormValue("email"), Password: c.FormValue("password"), Name: c.FormValue("name"),
		BirthYear: year, Gender: c.FormValue("gender"), Province: c.FormValue("province"),
		Commune: c.FormValue("commune"), Phone: c.FormValue("phone"),
		Consent: consentRequest{Terms: c.FormValue("consent_terms") == "1", Publish: c.FormValue("consent_publish") == "1"},
	}
	u, fields, err := h.register(c, &req, "web")
	if errors.Is(err, errAddressTaken) {
		// The same answer as for a new address; the owner got a mail.
		flash(c, "flash.registered_check_mail")
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	if err == nil && fields == nil {
		if err := signIn(c, u); err != nil {
			return err
		}
		flash(c, "flash.registered")
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	if fields == nil {
		p := Classify(err, h.Views.I18n.For(Lang(c)))
		if p.Fields == nil {
			return err
		}
		fields = p.Fields
	}
	d := Page(c, h.Views, "page.register", nil)
	d.Errors = fields
	d.Form = map[string]string{
		"email": req.Email, "name": req.Name, "birth_year": c.FormValue("birth_year"), "gender": req.Gender,
		"province": req.Province, "commune": req.Commune, "phone": req.Phone,
		"consent_terms": c.FormValue("consent_terms"), "consent_publish": c.FormValue("consent_publish"),
	}
	return Render(c, h.Views, fiber.StatusUnprocessableEntity, "register", d)
}
