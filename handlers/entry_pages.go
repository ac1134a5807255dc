package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// competitionPage is the data of /competitions/:id.
type competitionPage struct {
	Comp     *models.Competition
	Mine     *models.UserRow
	CanEnter bool
	Open     bool
}

// CompetitionPage shows GET /competitions/:id: rules, deadline and the way
// in (or back to one's own entry).
func (h *Entries) CompetitionPage(c *fiber.Ctx) error {
	return h.renderCompetition(c, fiber.StatusOK, nil, nil)
}

// renderCompetition shows the competition page, with the start-entry form's
// errors and typed text when it was refused.
func (h *Entries) renderCompetition(c *fiber.Ctx, status int, errs, form map[string]string) error {
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	if !visible(c, comp) {
		return models.ErrNotFound
	}
	p := competitionPage{Comp: comp, Open: comp.AcceptsEntries(h.Now())}
	if u := CurrentUser(c); u != nil {
		if p.Mine, err = h.Store.MyEntryIn(Ctx(c), comp.ID, u.ID); err != nil {
			return err
		}
		p.CanEnter = p.Open && p.Mine == nil && u.HasRole(models.RoleApplicant)
	}
	d := Page(c, h.Views, "page.competition", p)
	d.Errors, d.Form = errs, form
	return Render(c, h.Views, status, "competition", d)
}

// StartEntry handles POST /competitions/:id/entries: a blank draft, then
// the edit page.
func (h *Entries) StartEntry(c *fiber.Ctx) error {
	title := strings.TrimSpace(c.FormValue("title"))
	e, fields, err := h.create(c, c.Params("id"), &entryRequest{Title: &title})
	if err != nil {
		return err
	}
	if fields != nil {
		// The page again, with the message and what was typed.
		return h.renderCompetition(c, fiber.StatusUnprocessableEntity, fields, map[string]string{"title": title})
	}
	flash(c, "flash.entry_started")
	return c.Redirect("/entries/"+e.ID, fiber.StatusSeeOther)
}

// entryPage is the data of /entries/:id.
type entryPage struct {
	Entry    *models.Entry
	Comp     *models.Competition
	Open     bool
	Sectors  []string
	Stages   []string
	TeamRows []models.Member
	Problem  string            // translated message of a failed action
	Fields   map[string]string // dossier text, for read-only views
	Leader   *models.User      // staff's view: whom to contact
}

func (h *Entries) renderEntry(c *fiber.Ctx, status int, e *models.Entry, errs, form map[string]string, problem string) error {
	comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return err
	}
	rows := append([]models.Member(nil), e.Team...)
	for len(rows) < comp.Eligibility.MaxTeam-1 {
		rows = append(rows, models.Member{})
	}
	d := Page(c, h.Views, "page.entry", entryPage{Entry: e, Comp: comp, Open: comp.AcceptsEntries(h.Now()),
		Sectors: comp.Sectors, Stages: models.Stages, TeamRows: rows, Problem: problem})
	d.Errors = errs
	if form == nil {
		form = entryFormValues(e)
	}
	d.Form = form
	return Render(c, h.Views, status, "entry", d)
}

// dossierFields are the text fields of the entry form, in order.
var dossierFields = []string{"title", "summary", "problem", "solution", "customers", "market", "advantage",
	"business_model", "technology", "plan", "impact", "commune"}

func entryFormValues(e *models.Entry) map[string]string {
	f := map[string]string{
		"title": e.Title, "summary": e.Summary, "problem": e.Problem, "solution": e.Solution, "customers": e.Customers,
		"market": e.Market, "advantage": e.Advantage, "business_model": e.BusinessModel, "technology": e.Technology,
		"plan": e.Plan, "impact": e.Impact, "commune": e.Commune, "track": e.Track, "sector": e.Sector, "stage": e.Stage,
		"version": strconv.Itoa(e.Version),
	}
	if e.FundingNeed > 0 {
		f["funding_need"] = strconv.FormatInt(e.FundingNeed, 10)
	}
	if e.FoundedYear > 0 {
		f["founded_year"] = strconv.Itoa(e.FoundedYear)
	}
	return f
}

// EntryPage shows GET /entries/:id.
func (h *Entries) EntryPage(c *fiber.Ctx) error {
	e, err := h.ownEntry(c, c.Params("id"), false)
	if err != nil {
		return err
	}
	return h.renderEntry(c, fiber.StatusOK, e, nil, nil, "")
}

// formEntry reads the entry form. Team rows are team_name_0, team_role_0…
func formEntry(c *fiber.Ctx) (*entryRequest, map[string]string, int) {
	raw := map[string]string{}
	req := &entryRequest{}
	for _, k := range append(dossierFields, "track", "sector", "stage", "funding_need", "founded_year", "version") {
		raw[k] = c.FormValue(k)
	}
	str := func(k string) *string { v := raw[k]; return &v }
	req.Title, req.Summary, req.Problem, req.Solution = str("title"), str("summary"), str("problem"), str("solution")
	req.Customers, req.Market, req.Advantage, req.BusinessModel = str("customers"), str("market"), str("advantage"), str("business_model")
	req.Technology, req.Plan, req.Impact, req.Commune = str("technology"), str("plan"), str("impact"), str("commune")
	req.Track, req.Sector, req.Stage = str("track"), str("sector"), str("stage")
	if raw["track"] == "" {
		req.Track = nil
	}
	if raw["stage"] == "" {
		req.Stage = nil
	}
	if n, err := strconv.ParseInt(strings.ReplaceAll(strings.ReplaceAll(raw["funding_need"], ".", ""), ",", ""), 10, 64); err == nil {
		req.FundingNeed = &n
	}
	if n, err := strconv.Atoi(raw["founded_year"]); err == nil {
		req.FoundedYear = &n
	}
	team := []models.Member{}
	for i := 0; i < 19; i++ {
		name := strings.TrimSpace(c.FormValue("team_name_" + strconv.Itoa(i)))
		role := c.FormValue("team_role_" + strconv.Itoa(i))
		by, _ := strconv.Atoi(c.FormValue("team_birth_year_" + strconv.Itoa(i)))
		gender := c.FormValue("team_gender_" + strconv.Itoa(i))
		email := c.FormValue("team_email_" + strconv.Itoa(i))
		if name == "" && role == "" && email == "" {
			continue
		}
		team = append(team, models.Member{Name: name, Role: role, BirthYear: by, Gender: gender, Email: email})
	}
	req.Team = &team
	version, _ := strconv.Atoi(raw["version"])
	return req, raw, version
}

// SaveEntry handles POST /entries/:id. A stale version re-renders the form
// with what the applicant typed and the conflict explained: nothing lost.
func (h *Entries) SaveEntry(c *fiber.Ctx) error {
	req, raw, version := formEntry(c)
	e, fields, err := h.update(c, c.Params("id"), req, version)
	if err == nil && fields == nil {
		flash(c, "flash.entry_saved")
		return c.Redirect("/entries/"+e.ID, fiber.StatusSeeOther)
	}
	cur, lerr := h.ownEntry(c, c.Params("id"), false)
	if lerr != nil {
		return lerr
	}
	if fields != nil {
		raw["version"] = strconv.Itoa(cur.Version)
		return h.renderEntry(c, fiber.StatusUnprocessableEntity, withTeam(cur, req), fields, raw, "")
	}
	p := Classify(err, h.Views.I18n.For(Lang(c)))
	if p.Status >= 500 || p.Status == fiber.StatusNotFound {
		return err
	}
	// Keep the typed text; the next save goes against the current version
	// only if the applicant presses save again after reading the message.
	raw["version"] = strconv.Itoa(cur.Version)
	return h.renderEntry(c, p.Status, withTeam(cur, req), nil, raw, p.Message)
}

// withTeam shows the submitted team rows on a re-rendered form.
func withTeam(e *models.Entry, req *entryRequest) *models.Entry {
	cp := *e
	if req.Team != nil {
		cp.Team = *req.Team
	}
	return &cp
}

// SubmitEntry handles POST /entries/:id/submit.
func (h *Entries) SubmitEntry(c *fiber.Ctx) error {
	_, err := h.submit(c, c.Params("id"))
	if err == nil {
		if h.MailSends {
			flash(c, "flash.entry_submitted")
		} else {
			flash(c, "flash.entry_submitted_outbox")
		}
		return c.Redirect("/entries/"+c.Params("id"), fiber.StatusSeeOther)
	}
	return h.entryActionFailed(c, err)
}

// WithdrawEntry handles POST /entries/:id/withdraw.
// Withdrawing is permanent, so the first post only asks for confirmation
// (a page of its own: it works without JavaScript); the second, with
// confirm=1, withdraws.
func (h *Entries) WithdrawEntry(c *fiber.Ctx) error {
	if c.FormValue("confirm") != "1" {
		e, err := h.ownEntry(c, c.Params("id"), false)
		if err != nil {
			return err
		}
		return Render(c, h.Views, fiber.StatusOK, "entry_withdraw", Page(c, h.Views, "page.entry_withdraw", e))
	}
	if err := h.withdraw(c, c.Params("id")); err != nil {
		return h.entryActionFailed(c, err)
	}
	flash(c, "flash.entry_withdrawn")
	return c.Redirect("/entries/"+c.Params("id"), fiber.StatusSeeOther)
}

// entryActionFailed shows the entry page with every unmet rule listed.
func (h *Entries) entryActionFailed(c *fiber.Ctx, err error) error {
	e, lerr := h.ownEntry(c, c.Params("id"), false)
	if lerr != nil {
		return lerr
	}
	tr := h.Views.I18n.For(Lang(c))
	p := Classify(err, tr)
	if p.Status >= 500 || errors.Is(err, models.ErrNotFound) {
		return err
	}
	return h.renderEntry(c, p.Status, e, p.Fields, nil, p.Message)
}
