package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// localInput is the format of <input type="datetime-local">; staff enter
// times in Asia/Ho_Chi_Minh and they are stored in UTC.
const localInput = "2006-01-02T15:04"

type competitionForm struct {
	Comp        *models.Competition
	Transitions []models.CompetitionStatus
	Statuses    []models.CompetitionStatus
	Tracks      []string
}

func nextStates(s models.CompetitionStatus) []models.CompetitionStatus {
	var out []models.CompetitionStatus
	for _, to := range []models.CompetitionStatus{models.CompOpen, models.CompClosed, models.CompJudging, models.CompFinalized, models.CompPublished} {
		if models.CanTransition(s, to) {
			out = append(out, to)
		}
	}
	return out
}

// StaffList shows GET /staff: every competition with its state.
func (h *Competitions) StaffList(c *fiber.Ctx) error {
	all, err := h.Store.ListCompetitions(Ctx(c))
	if err != nil {
		return err
	}
	return Render(c, h.Views, fiber.StatusOK, "staff_competitions", Page(c, h.Views, "page.staff", all))
}

// NewForm shows GET /staff/competitions/new.
func (h *Competitions) NewForm(c *fiber.Ctx) error {
	now := h.Now().In(models.VietnamZone)
	d := Page(c, h.Views, "page.competition_new", competitionForm{Comp: &models.Competition{}, Tracks: models.DefaultTracks})
	d.Form = map[string]string{
		"year": strconv.Itoa(now.Year()), "min_age": "18", "max_age": "35", "max_team": "3", "deck_mb": "20",
		"opens_at": now.Format("2006-01-02") + "T00:00", "closes_at": now.AddDate(0, 1, 0).Format("2006-01-02") + "T23:59",
		"track_idea": "1", "track_project": "1", "preset_rounds": "1",
	}
	return Render(c, h.Views, fiber.StatusOK, "competition_form", d)
}

// formRequest reads the staff form into a competition request and keeps
// the raw values to re-fill the form.
func formRequest(c *fiber.Ctx) (*competitionRequest, map[string]string, map[string]string) {
	raw := map[string]string{}
	for _, k := range []string{"title_vi", "title_en", "description_vi", "description_en", "year", "opens_at", "closes_at",
		"min_age", "max_age", "province", "max_team", "project_max_years", "deck_mb", "track_idea", "track_project", "preset_rounds", "version"} {
		raw[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]string{}
	num := func(k string) int {
		if raw[k] == "" {
			return 0
		}
		n, err := strconv.Atoi(raw[k])
		if err != nil {
			errs[k] = "error.number"
		}
		return n
	}
	when := func(k string) *time.Time {
		t, err := time.ParseInLocation(localInput, raw[k], models.VietnamZone)
		if err != nil {
			errs[k] = "error.date_required"
			return &time.Time{}
		}
		return &t
	}
	year := num("year")
	el := models.Eligibility{MinAge: num("min_age"), MaxAge: num("max_age"), Province: raw["province"], MaxTeam: num("max_team"), ProjectMaxYears: num("project_max_years")}
	var tracks []string
	if raw["track_idea"] == "1" {
		tracks = append(tracks, "idea")
	}
	if raw["track_project"] == "1" {
		tracks = append(tracks, "project")
	}
	if len(tracks) == 0 {
		errs["tracks"] = "error.track_invalid"
	}
	deck := models.DeckRules{MaxBytes: int64(num("deck_mb")) << 20}
	req := &competitionRequest{
		Title:       &models.Text{VI: raw["title_vi"], EN: raw["title_en"]},
		Description: &models.Text{VI: raw["description_vi"], EN: raw["description_en"]},
		Year:        &year, Tracks: &tracks, Eligibility: &el, OpensAt: when("opens_at"), ClosesAt: when("closes_at"), Deck: &deck,
		Version: num("version"),
	}
	if raw["preset_rounds"] == "1" {
		rounds := defaultRounds()
		req.Rounds = &rounds
	}
	return req, raw, errs
}

// defaultRounds are the usual three judged rounds with the default rubric.
func defaultRounds() []models.Round {
	return []models.Round{
		{Key: "so-khao", Name: models.Text{VI: "Sơ khảo", EN: "Preliminary"}, Blind: true, JudgesPerEntry: 3, Criteria: models.DefaultRubric()},
		{Key: "ban-ket", Name: models.Text{VI: "Bán kết", EN: "Semi-final"}, JudgesPerEntry: 5, Criteria: models.DefaultRubric()},
		{Key: "chung-ket", Name: models.Text{VI: "Chung kết", EN: "Final"}, JudgesPerEntry: 7, Criteria: models.DefaultRubric()},
	}
}

func compFormValues(comp *models.Competition) map[string]string {
	f := map[string]string{
		"title_vi": comp.Title.VI, "title_en": comp.Title.EN, "description_vi": comp.Description.VI, "description_en": comp.Description.EN,
		"year": strconv.Itoa(comp.Year), "opens_at": comp.OpensAt.In(models.VietnamZone).Format(localInput),
		"closes_at": comp.ClosesAt.In(models.VietnamZone).Format(localInput), "min_age": strconv.Itoa(comp.Eligibility.MinAge),
		"max_age": strconv.Itoa(comp.Eligibility.MaxAge), "province": comp.Eligibility.Province, "max_team": strconv.Itoa(comp.Eligibility.MaxTeam),
		"project_max_years": strconv.Itoa(comp.Eligibility.ProjectMaxYears), "deck_mb": strconv.FormatInt(comp.Deck.MaxBytes>>20, 10),
		"version": strconv.Itoa(comp.Version),
	}
	if comp.Eligibility.ProjectMaxYears == 0 {
		f["project_max_years"] = "" // no limit: blank, as the hint says
	}
	for _, t := range comp.Tracks {
		f["track_"+t] = "1"
	}
	return f
}

func (h *Competitions) renderForm(c *fiber.Ctx, status int, comp *models.Competition, raw, errs map[string]string) error {
	title := "page.competition_new"
	if comp.ID != "" {
		title = "page.competition_edit"
	}
	d := Page(c, h.Views, title, competitionForm{Comp: comp, Transitions: nextStates(comp.Status), Tracks: models.DefaultTracks})
	d.Form, d.Errors = raw, errs
	return Render(c, h.Views, status, "competition_form", d)
}

func (h *Competitions) translateErrs(c *fiber.Ctx, errs map[string]string, fields map[string]string) map[string]string {
	tr := h.Views.I18n.For(Lang(c))
	out := map[string]string{}
	for k, key := range errs {
		out[k] = tr.T(key)
	}
	for k, v := range fields {
		// Form field names differ from JSON paths in a few places.
		switch k {
		case "title.vi":
			k = "title_vi"
		case "eligibility.max_age":
			k = "max_age"
		case "eligibility.max_team":
			k = "max_team"
		case "deck.max_bytes":
			k = "deck_mb"
		}
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}

// Create handles POST /staff/competitions.
func (h *Competitions) Create(c *fiber.Ctx) error {
	req, raw, errs := formRequest(c)
	comp := &models.Competition{}
	req.apply(comp)
	comp.ApplyDefaults()
	fields := h.check(c, req, comp)
	if len(errs) > 0 || len(fields) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, &models.Competition{}, raw, h.translateErrs(c, errs, fields))
	}
	comp.CreatedBy = CurrentUser(c).ID
	if err := h.Store.CreateCompetition(Ctx(c), comp); err != nil {
		return err
	}
	flash(c, "flash.competition_saved")
	return c.Redirect("/staff/competitions/"+comp.ID, fiber.StatusSeeOther)
}

// EditForm shows GET /staff/competitions/:id.
func (h *Competitions) EditForm(c *fiber.Ctx) error {
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return h.renderForm(c, fiber.StatusOK, comp, compFormValues(comp), nil)
}

// Update handles POST /staff/competitions/:id.
func (h *Competitions) Update(c *fiber.Ctx) error {
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	req, raw, errs := formRequest(c)
	if raw["preset_rounds"] != "1" {
		req.Rounds = nil // keep the rounds staff set up through the API
	}
	req.apply(comp)
	comp.ApplyDefaults()
	fields := h.check(c, req, comp)
	if len(errs) > 0 || len(fields) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, comp, raw, h.translateErrs(c, errs, fields))
	}
	if err := h.Store.UpdateCompetition(Ctx(c), comp, req.Version); err != nil {
		return err
	}
	flash(c, "flash.competition_saved")
	return c.Redirect("/staff/competitions/"+comp.ID, fiber.StatusSeeOther)
}

// Transition handles POST /staff/competitions/:id/transition.
// Closing stops every applicant from submitting, so it asks first, on a
// page of its own (without JavaScript too).
func (h *Competitions) Transition(c *fiber.Ctx) error {
	if to := c.FormValue("to"); to == string(models.CompClosed) && c.FormValue("confirm") != "1" {
		comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
		if err != nil {
			return err
		}
		return Render(c, h.Views, fiber.StatusOK, "competition_close", Page(c, h.Views, "page.competition_close", comp))
	}
	comp, err := h.transition(c, c.Params("id"), c.FormValue("to"))
	if err != nil {
		return err
	}
	flash(c, "flash.competition_moved")
	return c.Redirect("/staff/competitions/"+comp.ID, fiber.StatusSeeOther)
}
