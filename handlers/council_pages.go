package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// The council's pages: the panel and a round's assignments for leads
// (/council/…), the judge's home and scoring page (/judge/…). Every form
// posts, then redirects (post/redirect/get); an error re-renders the page
// with the message in the user's language.

// panelPage is what council_panel.html shows.
type panelPage struct {
	Comp   *models.Competition
	Panel  *models.Panel
	Staff  bool
	Rounds []models.Round
}

// PanelPage handles GET /council/:id.
func (h *Council) PanelPage(c *fiber.Ctx) error {
	return h.renderPanel(c, fiber.StatusOK, nil, nil)
}

func (h *Council) renderPanel(c *fiber.Ctx, status int, errs, form map[string]string) error {
	comp, p, err := h.lead(c, c.Params("id"))
	if err != nil {
		return err
	}
	d := Page(c, h.Views, "page.council_panel", panelPage{Comp: comp, Panel: p, Rounds: comp.Rounds,
		Staff: CurrentUser(c).HasRole(models.RoleStaff, models.RoleAdmin)})
	d.Errors, d.Form = errs, form
	return Render(c, h.Views, status, "council_panel", d)
}

// pageError turns an error into field messages for a re-rendered page, or
// returns it when it is not the user's to fix.
func (h *Council) pageError(c *fiber.Ctx, err error, field string) (int, map[string]string, error) {
	p := Classify(err, h.Views.I18n.For(Lang(c)))
	if p.Status >= 500 || p.Status == fiber.StatusNotFound || p.Status == fiber.StatusUnauthorized {
		return 0, nil, err
	}
	if len(p.Fields) > 0 {
		return p.Status, p.Fields, nil
	}
	return p.Status, map[string]string{field: p.Message}, nil
}

// AddJudge handles POST /council/:id/judges.
func (h *Council) AddJudge(c *fiber.Ctx) error {
	req := &judgeRequest{Email: strings.TrimSpace(c.FormValue("email")), Chair: c.FormValue("chair") == "1"}
	for _, s := range strings.Split(c.FormValue("sectors"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			req.Sectors = append(req.Sectors, s)
		}
	}
	if _, err := h.addJudge(c, c.Params("id"), req); err != nil {
		status, errs, err := h.pageError(c, err, "email")
		if err != nil {
			return err
		}
		return h.renderPanel(c, status, errs, map[string]string{"email": req.Email, "sectors": c.FormValue("sectors")})
	}
	flash(c, "flash.judge_added")
	return c.Redirect("/council/"+c.Params("id"), fiber.StatusSeeOther)
}

// RemoveJudge handles POST /council/:id/judges/:user_id/remove.
func (h *Council) RemoveJudge(c *fiber.Ctx) error {
	if err := h.removeJudge(c, c.Params("id"), c.Params("user_id")); err != nil {
		return err
	}
	flash(c, "flash.judge_removed")
	return c.Redirect("/council/"+c.Params("id"), fiber.StatusSeeOther)
}

// RoundPage handles GET /council/:id/rounds/:round.
func (h *Council) RoundPage(c *fiber.Ctx) error {
	return h.renderRound(c, fiber.StatusOK, nil)
}

func (h *Council) renderRound(c *fiber.Ctx, status int, errs map[string]string) error {
	comp, r, p, err := h.round(c, c.Params("id"), c.Params("round"))
	if err != nil {
		return err
	}
	sh, err := h.sheet(c, comp, r, p)
	if err != nil {
		return err
	}
	sh.Count = len(sh.Entries)
	sh.Pages = max(1, (sh.Count+sheetPageSize-1)/sheetPageSize)
	sh.Page = min(max(1, c.QueryInt("page", 1)), sh.Pages)
	sh.Entries = sh.Entries[(sh.Page-1)*sheetPageSize : min(sh.Count, sh.Page*sheetPageSize)]
	d := Page(c, h.Views, "page.council_round", sh)
	d.Errors = errs
	d.Form = map[string]string{"per_entry": strconv.Itoa(r.JudgesPerEntry), "seed": c.FormValue("seed", "1")}
	return Render(c, h.Views, status, "council_round", d)
}

func (h *Council) roundURL(c *fiber.Ctx) string {
	return "/council/" + c.Params("id") + "/rounds/" + c.Params("round")
}

// Assign handles POST /council/:id/rounds/:round/assign.
func (h *Council) Assign(c *fiber.Ctx) error {
	k, _ := strconv.Atoi(strings.TrimSpace(c.FormValue("per_entry")))
	seed, _ := strconv.ParseInt(strings.TrimSpace(c.FormValue("seed")), 10, 64)
	if _, err := h.assign(c, c.Params("id"), c.Params("round"), &assignRequest{PerEntry: k, Seed: seed}); err != nil {
		status, errs, err := h.pageError(c, err, "per_entry")
		if err != nil {
			return err
		}
		return h.renderRound(c, status, errs)
	}
	flash(c, "flash.assigned")
	return c.Redirect(h.roundURL(c), fiber.StatusSeeOther)
}

// Release handles POST /council/:id/rounds/:round/release.
func (h *Council) Release(c *fiber.Ctx) error {
	if err := h.release(c, c.Params("id"), c.Params("round")); err != nil {
		return err
	}
	flash(c, "flash.released")
	return c.Redirect(h.roundURL(c), fiber.StatusSeeOther)
}

// AddSlot handles POST /council/:id/rounds/:round/slots.
func (h *Council) AddSlot(c *fiber.Ctx) error {
	_, err := h.addSlot(c, c.Params("id"), c.Params("round"), &slotRequest{EntryID: c.FormValue("entry_id"), JudgeID: c.FormValue("judge_id")})
	if err != nil {
		status, errs, err := h.pageError(c, err, "judge_id")
		if err != nil {
			return err
		}
		return h.renderRound(c, status, errs)
	}
	flash(c, "flash.slot_added")
	return c.Redirect(h.roundURL(c), fiber.StatusSeeOther)
}

// SlotAction handles POST /council/:id/rounds/:round/slots/:aid/{remove,move,override}.
func (h *Council) SlotAction(c *fiber.Ctx) error {
	var err error
	switch c.Params("action") {
	case "remove":
		err = h.removeSlot(c, c.Params("aid"))
	case "move":
		_, err = h.moveSlot(c, c.Params("aid"), c.FormValue("judge_id"))
	case "override":
		err = h.override(c, c.Params("aid"), c.FormValue("reason"))
	default:
		return models.ErrNotFound
	}
	if err != nil {
		status, errs, err := h.pageError(c, err, "judge_id")
		if err != nil {
			return err
		}
		return h.renderRound(c, status, errs)
	}
	flash(c, "flash.slot_changed")
	return c.Redirect(h.roundURL(c), fiber.StatusSeeOther)
}

// JudgeHome handles GET /judge.
func (h *Council) JudgeHome(c *fiber.Ctx) error {
	rounds, err := h.queue(c)
	if err != nil {
		return err
	}
	return Render(c, h.Views, fiber.StatusOK, "judge_home", Page(c, h.Views, "page.judge", rounds))
}

// scoringPage is what judge_assignment.html shows.
type scoringPage struct {
	View   models.JudgeEntry
	Round  *models.Round
	Comp   *models.Competition
	Scores map[string]string
}

// AssignmentPage handles GET /judge/assignments/:id.
func (h *Council) AssignmentPage(c *fiber.Ctx) error {
	return h.renderAssignment(c, fiber.StatusOK, nil, nil)
}

func (h *Council) renderAssignment(c *fiber.Ctx, status int, errs map[string]string, form map[string]string) error {
	w, err := h.judgeWork(c, c.Params("id"), ActAsJudge)
	if err != nil {
		return err
	}
	v, err := h.view(c, w)
	if err != nil {
		return err
	}
	sp := scoringPage{View: v, Round: w.Round, Comp: w.Comp, Scores: map[string]string{}}
	if form == nil {
		form = map[string]string{"comment": w.A.Comment, "note": w.A.Note}
		for k, s := range w.A.Scores {
			sp.Scores[k] = strconv.Itoa(s)
		}
	} else {
		for _, cr := range w.Round.Criteria {
			sp.Scores[cr.Key] = form["score_"+cr.Key]
		}
	}
	d := Page(c, h.Views, "page.judge_assignment", sp)
	d.Errors, d.Form = errs, form
	return Render(c, h.Views, status, "judge_assignment", d)
}

// SaveReview handles POST /judge/assignments/:id.
func (h *Council) SaveReview(c *fiber.Ctx) error {
	w, err := h.judgeWork(c, c.Params("id"), ActAsJudge)
	if err != nil {
		return err
	}
	form := map[string]string{"comment": c.FormValue("comment"), "note": c.FormValue("note")}
	req := &reviewRequest{Scores: map[string]int{}, Comment: form["comment"], Note: form["note"], Submit: c.FormValue("submit") == "1"}
	req.Version, _ = strconv.Atoi(c.FormValue("version"))
	errs := map[string]string{}
	tr := h.Views.I18n.For(Lang(c))
	for _, cr := range w.Round.Criteria {
		raw := strings.TrimSpace(c.FormValue("score_" + cr.Key))
		form["score_"+cr.Key] = raw
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			errs["scores."+cr.Key] = tr.T("error.score_integer", "Criterion", cr.Label.In(Lang(c)), "Max", cr.Max)
			continue
		}
		req.Scores[cr.Key] = n
	}
	if len(errs) > 0 {
		return h.renderAssignment(c, fiber.StatusUnprocessableEntity, errs, form)
	}
	_, fields, err := h.saveReview(c, c.Params("id"), req)
	if err != nil {
		status, errs, err := h.pageError(c, err, "comment")
		if err != nil {
			return err
		}
		return h.renderAssignment(c, status, errs, form)
	}
	if fields != nil {
		return h.renderAssignment(c, fiber.StatusUnprocessableEntity, fields, form)
	}
	if req.Submit {
		flash(c, "flash.review_submitted")
	} else {
		flash(c, "flash.review_saved")
	}
	return c.Redirect("/judge/assignments/"+c.Params("id"), fiber.StatusSeeOther)
}

// DeclareConflict handles POST /judge/assignments/:id/conflict.
func (h *Council) DeclareConflict(c *fiber.Ctx) error {
	if err := h.declare(c, c.Params("id"), c.FormValue("reason")); err != nil {
		status, errs, err := h.pageError(c, err, "reason")
		if err != nil {
			return err
		}
		return h.renderAssignment(c, status, errs, map[string]string{"reason": c.FormValue("reason")})
	}
	flash(c, "flash.conflict_declared")
	return c.Redirect("/judge", fiber.StatusSeeOther)
}
