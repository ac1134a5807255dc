package handlers

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// Comment and note limits (characters).
const (
	maxReviewComment = 5000
	maxReviewNote    = 3000
)

type reviewRequest struct {
	Scores  map[string]int `json:"scores"`
	Comment string         `json:"comment"`
	Note    string         `json:"note"`
	Submit  bool           `json:"submit"`
	Version int            `json:"version"`
}

// saveReview checks a judge's scores against the round's rubric and saves
// them as a draft or submitted review. Scores of a submitted review may
// change until the round is locked; every change is kept in its history.
func (h *Council) saveReview(c *fiber.Ctx, id string, req *reviewRequest) (*models.Assignment, map[string]string, error) {
	w, err := h.judgeWork(c, id, ActAsJudge)
	if err != nil {
		return nil, nil, err
	}
	u := CurrentUser(c)
	if w.Comp.ScoresLocked() {
		return nil, nil, models.ErrRoundLocked
	}
	tr := h.Views.I18n.For(Lang(c))
	req.Comment, req.Note = strings.TrimSpace(req.Comment), strings.TrimSpace(req.Note)
	fields := map[string]string{}
	for _, re := range models.CheckScores(w.Round.Criteria, req.Scores, req.Submit) {
		if _, seen := fields[re.Field]; !seen {
			fields[re.Field] = criterionMessage(tr.T, re, w.Round, Lang(c))
		}
	}
	switch {
	case len([]rune(req.Comment)) > maxReviewComment:
		fields["comment"] = tr.T("error.too_long")
	case HasNUL(req.Comment):
		fields["comment"] = tr.T("error.nul_byte")
	}
	switch {
	case len([]rune(req.Note)) > maxReviewNote:
		fields["note"] = tr.T("error.too_long")
	case HasNUL(req.Note):
		fields["note"] = tr.T("error.nul_byte")
	}
	if len(fields) > 0 {
		return nil, fields, nil
	}
	a := w.A
	if req.Version != 0 && req.Version != a.Version {
		return nil, nil, models.ErrStale
	}
	version := a.Version
	now := h.Now().UTC()
	if a.Status == models.AssignSubmitted {
		for _, ch := range models.DiffScores(w.Round.Criteria, a.Scores, req.Scores) {
			a.History = append(a.History, models.ScoreEdit{At: now, By: u.ID, Criterion: ch.Criterion, Old: ch.Old, New: ch.New})
		}
	}
	a.Scores, a.Comment, a.Note = req.Scores, req.Comment, req.Note
	a.Total = models.ReviewTotal(w.Round.Criteria, req.Scores)
	switch {
	case req.Submit || a.Status == models.AssignSubmitted:
		if a.Status != models.AssignSubmitted {
			a.SubmittedAt = &now
		}
		a.Status = models.AssignSubmitted
	default:
		a.Status = models.AssignDraft
	}
	if err := h.Store.SaveAssignment(Ctx(c), a, version, rowOf(w)); err != nil {
		return nil, nil, err
	}
	action := "review:saved"
	if req.Submit {
		action = "review:submitted"
	}
	h.audit(c, action, a.ID, fmt.Sprintf("total=%g version=%d", a.Total, a.Version))
	return a, nil, nil
}

// criterionMessage translates a score error naming the criterion in the
// judge's language.
func criterionMessage(t func(string, ...any) string, re *models.RuleError, r *models.Round, lang string) string {
	key := strings.TrimPrefix(re.Field, "scores.")
	name, max := key, 0
	for _, cr := range r.Criteria {
		if cr.Key == key {
			name, max = cr.Label.In(lang), cr.Max
		}
	}
	return t(re.Key, "Criterion", name, "Max", max)
}

// APIReview handles PUT /api/v1/assignments/:id/review.
func (h *Council) APIReview(c *fiber.Ctx) error {
	var req reviewRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if v := c.Get(fiber.HeaderIfMatch); v != "" && req.Version == 0 {
		fmt.Sscanf(strings.Trim(v, `"W/`), "%d", &req.Version)
	}
	a, fields, err := h.saveReview(c, c.Params("id"), &req)
	if err != nil {
		return err
	}
	if fields != nil {
		return validationFailed(fields)
	}
	return writeJSON(c, fiber.StatusOK, a)
}
