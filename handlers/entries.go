package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// EntryStore is what entry handlers need.
type EntryStore interface {
	CompetitionByID(ctx context.Context, id string) (*models.Competition, error)
	CreateEntry(ctx context.Context, e *models.Entry) error
	EntryByID(ctx context.Context, id string) (*models.Entry, error)
	UpdateEntry(ctx context.Context, e *models.Entry, version int, by string) error
	SetEntryStatus(ctx context.Context, id string, from []models.EntryStatus, to models.EntryStatus, by, note string) (bool, error)
	UserByID(ctx context.Context, id string) (*models.User, error)
	MyEntryIn(ctx context.Context, compID, userID string) (*models.UserRow, error)
	CompetitionRows(ctx context.Context, compID string) ([]models.ListRow, error)
	QueueMail(ctx context.Context, to, subject, body string) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Entries is the applicant's journey: draft, edit, submit, withdraw.
type Entries struct {
	Store   EntryStore
	Views   *views.Views
	Valid   *Validator
	Now     func() time.Time
	BaseURL string
	// MailSends is whether an SMTP server is configured: without one,
	// mail waits in the outbox and the pages say so.
	MailSends bool
}

// entryRequest lists the fields an applicant may set; status, leader,
// version bumps and decks are never taken from a body.
type entryRequest struct {
	Title         *string          `json:"title" validate:"omitempty,max=200"`
	Track         *string          `json:"track" validate:"omitempty,oneof=idea project"`
	Sector        *string          `json:"sector" validate:"omitempty,max=40"`
	Stage         *string          `json:"stage" validate:"omitempty,oneof=idea prototype revenue"`
	Summary       *string          `json:"summary" validate:"omitempty,max=3000"`
	Problem       *string          `json:"problem" validate:"omitempty,max=6000"`
	Solution      *string          `json:"solution" validate:"omitempty,max=6000"`
	Customers     *string          `json:"customers" validate:"omitempty,max=6000"`
	Market        *string          `json:"market" validate:"omitempty,max=6000"`
	Advantage     *string          `json:"advantage" validate:"omitempty,max=6000"`
	BusinessModel *string          `json:"business_model" validate:"omitempty,max=6000"`
	Technology    *string          `json:"technology" validate:"omitempty,max=6000"`
	Plan          *string          `json:"plan" validate:"omitempty,max=6000"`
	FundingNeed   *int64           `json:"funding_need" validate:"omitempty,min=0,max=1000000000000"`
	Impact        *string          `json:"impact" validate:"omitempty,max=6000"`
	Commune       *string          `json:"commune" validate:"omitempty,max=100"`
	FoundedYear   *int             `json:"founded_year" validate:"omitempty,min=1900,max=2200"`
	Team          *[]models.Member `json:"team" validate:"omitempty,max=19,dive"`
	Version       int              `json:"version"`
}

func (r *entryRequest) apply(e *models.Entry) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&e.Title, r.Title)
	set(&e.Track, r.Track)
	set(&e.Sector, r.Sector)
	set(&e.Stage, r.Stage)
	set(&e.Summary, r.Summary)
	set(&e.Problem, r.Problem)
	set(&e.Solution, r.Solution)
	set(&e.Customers, r.Customers)
	set(&e.Market, r.Market)
	set(&e.Advantage, r.Advantage)
	set(&e.BusinessModel, r.BusinessModel)
	set(&e.Technology, r.Technology)
	set(&e.Plan, r.Plan)
	set(&e.Impact, r.Impact)
	set(&e.Commune, r.Commune)
	if r.FundingNeed != nil {
		e.FundingNeed = *r.FundingNeed
	}
	if r.FoundedYear != nil {
		e.FoundedYear = *r.FoundedYear
	}
	if r.Team != nil {
		e.Team = []models.Member{}
		for _, m := range *r.Team {
			m.Name, m.Email = strings.TrimSpace(m.Name), models.NormalizeEmail(m.Email)
			if m.Name != "" {
				e.Team = append(e.Team, m)
			}
		}
	}
}

// check validates the request and the team size against the edition.
func (h *Entries) check(c *fiber.Ctx, req *entryRequest, comp *models.Competition, e *models.Entry) map[string]string {
	tr := h.Views.I18n.For(Lang(c))
	fields := h.Valid.Check(req, tr)
	var rules models.RuleErrors
	if max := comp.Eligibility.MaxTeam; max > 0 && len(e.Team)+1 > max {
		rules = append(rules, &models.RuleError{Field: "team", Key: "error.team_too_large"})
	}
	if e.Sector != "" && len(comp.Sectors) > 0 && !containsStr(comp.Sectors, e.Sector) {
		rules = append(rules, &models.RuleError{Field: "sector", Key: "error.sector_invalid"})
	}
	if len(fields) == 0 && len(rules) == 0 {
		return nil
	}
	return ruleMessages(rules, tr, fields)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ownEntry loads an entry the caller may act on as its owner. Anyone else
// gets 404, for every method (SECURITY.md 17); staff may read.
func (h *Entries) ownEntry(c *fiber.Ctx, id string, staffMayRead bool) (*models.Entry, error) {
	e, err := h.Store.EntryByID(Ctx(c), id)
	if err != nil {
		return nil, err
	}
	act := EditEntry
	if staffMayRead {
		act = ReadEntry
	}
	if err := authorize(CurrentUser(c), act, Target{Entry: e}); err != nil {
		return nil, fmt.Errorf("handlers: entry %s of another user: %w", id, models.ErrNotFound)
	}
	return e, nil
}

// create makes a draft in an open competition.
func (h *Entries) create(c *fiber.Ctx, compID string, req *entryRequest) (*models.Entry, map[string]string, error) {
	comp, err := h.Store.CompetitionByID(Ctx(c), compID)
	if err != nil {
		return nil, nil, err
	}
	if comp.Status == models.CompDraft {
		return nil, nil, models.ErrNotFound
	}
	if !comp.AcceptsEntries(h.Now()) {
		return nil, nil, deadlineError(comp, h.Now())
	}
	u := CurrentUser(c)
	e := &models.Entry{CompetitionID: comp.ID, LeaderID: u.ID, LeaderName: u.Name}
	req.apply(e)
	if fields := h.check(c, req, comp, e); fields != nil {
		return nil, fields, nil
	}
	e.Refresh(u.Gender)
	if err := h.Store.CreateEntry(Ctx(c), e); err != nil {
		return nil, nil, err
	}
	return e, nil, nil
}

func deadlineError(comp *models.Competition, now time.Time) error {
	if comp.Status == models.CompOpen && now.Before(comp.OpensAt) {
		return models.ErrNotOpen
	}
	if comp.Status == models.CompOpen || comp.Status == models.CompClosed || !now.Before(comp.ClosesAt) {
		return models.ErrDeadlinePassed
	}
	return models.ErrNotOpen
}

// APICreate handles POST /api/v1/competitions/:id/entries.
func (h *Entries) APICreate(c *fiber.Ctx) error {
	var req entryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, fields, err := h.create(c, c.Params("id"), &req)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusCreated, e)
}

// APIGet handles GET /api/v1/entries/:id.
func (h *Entries) APIGet(c *fiber.Ctx) error {
	e, err := h.ownEntry(c, c.Params("id"), true)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, fmt.Sprintf(`"%d"`, e.Version))
	return writeJSON(c, fiber.StatusOK, e)
}

// update applies req to the entry at the expected version.
func (h *Entries) update(c *fiber.Ctx, id string, req *entryRequest, version int) (*models.Entry, map[string]string, error) {
	e, err := h.ownEntry(c, id, false)
	if err != nil {
		return nil, nil, err
	}
	if !e.Editable() {
		return nil, nil, models.ErrNotEditable
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return nil, nil, err
	}
	req.apply(e)
	if fields := h.check(c, req, comp, e); fields != nil {
		return nil, fields, nil
	}
	e.Refresh(CurrentUser(c).Gender)
	if err := h.Store.UpdateEntry(Ctx(c), e, version, CurrentUser(c).ID); err != nil {
		return nil, nil, err
	}
	return e, nil, nil
}

// APIPatch handles PATCH /api/v1/entries/:id. The expected version comes
// from If-Match or the body; a stale one is 409 and changes nothing.
func (h *Entries) APIPatch(c *fiber.Ctx) error {
	var req entryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	// Whether the entry exists is nobody else's business: ownership is
	// checked before anything is said about the request.
	if _, err := h.ownEntry(c, c.Params("id"), false); err != nil {
		return err
	}
	version := ifMatch(c, req.Version)
	if version == 0 {
		return &HTTPError{Status: fiber.StatusPreconditionRequired, Code: "version_required", Key: "error.version_required"}
	}
	e, fields, err := h.update(c, c.Params("id"), &req, version)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusOK, e)
}

// submit checks the deadline and every rule, then changes the state once.
func (h *Entries) submit(c *fiber.Ctx, id string) (*models.Entry, error) {
	e, err := h.ownEntry(c, id, false)
	if err != nil {
		return nil, err
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return nil, err
	}
	if e.Status == models.EntrySubmitted {
		return e, nil // a repeated submit is harmless
	}
	if e.Status != models.EntryDraft {
		return nil, models.ErrNotEditable
	}
	if !comp.AcceptsEntries(h.Now()) {
		return nil, deadlineError(comp, h.Now())
	}
	u := CurrentUser(c)
	if errs := models.CheckSubmission(comp, e, models.Leader{BirthYear: u.BirthYear, Province: u.Province}); len(errs) > 0 {
		return nil, errs
	}
	changed, err := h.Store.SetEntryStatus(Ctx(c), e.ID, []models.EntryStatus{models.EntryDraft}, models.EntrySubmitted, u.ID, "")
	if err != nil {
		return nil, err
	}
	if changed {
		tr := h.Views.I18n.For(Lang(c))
		body := tr.T("mail.submitted_body", "Name", u.Name, "Title", e.Title, "Competition", comp.Title.In(Lang(c)),
			"URL", h.BaseURL+"/entries/"+e.ID)
		if err := h.Store.QueueMail(Ctx(c), u.Email, tr.T("mail.submitted_subject", "Title", e.Title), body); err != nil {
			return nil, err
		}
	}
	return h.Store.EntryByID(Ctx(c), e.ID)
}

// APISubmit handles POST /api/v1/entries/:id/submit.
func (h *Entries) APISubmit(c *fiber.Ctx) error {
	e, err := h.submit(c, c.Params("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, e)
}

func (h *Entries) withdraw(c *fiber.Ctx, id string) error {
	e, err := h.ownEntry(c, id, false)
	if err != nil {
		return err
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return err
	}
	if !h.Now().Before(comp.ClosesAt) {
		return models.ErrDeadlinePassed
	}
	_, err = h.Store.SetEntryStatus(Ctx(c), e.ID, []models.EntryStatus{models.EntryDraft, models.EntrySubmitted}, models.EntryWithdrawn, CurrentUser(c).ID, "")
	return err
}

// APIWithdraw handles POST /api/v1/entries/:id/withdraw.
func (h *Entries) APIWithdraw(c *fiber.Ctx) error {
	if err := h.withdraw(c, c.Params("id")); err != nil {
		return err
	}
	e, err := h.Store.EntryByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, e)
}

// reopen lets staff turn a submitted entry back into a draft (logged).
func (h *Entries) reopen(c *fiber.Ctx, id, note string) error {
	if HasNUL(note) {
		return validationFailed(map[string]string{"reason": h.Views.I18n.For(Lang(c)).T("error.nul_byte")})
	}
	if _, err := h.Store.EntryByID(Ctx(c), id); err != nil {
		return err
	}
	changed, err := h.Store.SetEntryStatus(Ctx(c), id, []models.EntryStatus{models.EntrySubmitted}, models.EntryDraft, CurrentUser(c).ID, note)
	if err != nil {
		return err
	}
	if changed {
		_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: "entry:reopened", Target: id, IP: c.IP(), Detail: note})
	}
	return nil
}

// restore lets staff bring a withdrawn entry back as a draft (logged with
// the reason), for an applicant who withdrew by mistake.
func (h *Entries) restore(c *fiber.Ctx, id, reason string) error {
	tr := h.Views.I18n.For(Lang(c))
	if reason == "" || HasNUL(reason) || len([]rune(reason)) > 500 {
		return validationFailed(map[string]string{"reason": tr.T("error.reason_required")})
	}
	if _, err := h.Store.EntryByID(Ctx(c), id); err != nil {
		return err
	}
	changed, err := h.Store.SetEntryStatus(Ctx(c), id, []models.EntryStatus{models.EntryWithdrawn}, models.EntryDraft, CurrentUser(c).ID, reason)
	if err != nil {
		return err
	}
	if !changed {
		return fmt.Errorf("handlers: restore a %s entry: %w", id, models.ErrBadTransition)
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: "entry:restored", Target: id, IP: c.IP(), Detail: reason})
	return nil
}

// APIRestore handles POST /api/v1/entries/:id/restore {"reason"} (staff).
func (h *Entries) APIRestore(c *fiber.Ctx) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.restore(c, c.Params("id"), strings.TrimSpace(req.Reason)); err != nil {
		return err
	}
	e, err := h.Store.EntryByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, e)
}

// StaffRestore handles POST /staff/entries/:id/restore.
func (h *Entries) StaffRestore(c *fiber.Ctx) error {
	if err := h.restore(c, c.Params("id"), strings.TrimSpace(c.FormValue("reason"))); err != nil {
		return err
	}
	flash(c, "flash.entry_restored")
	return c.Redirect("/staff/entries/"+c.Params("id"), fiber.StatusSeeOther)
}

// APIReopen handles POST /api/v1/entries/:id/reopen (staff).
func (h *Entries) APIReopen(c *fiber.Ctx) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if err := h.reopen(c, c.Params("id"), req.Reason); err != nil {
		return err
	}
	e, err := h.Store.EntryByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, e)
}
