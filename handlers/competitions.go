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

// CompetitionStore is what competition handlers need.
type CompetitionStore interface {
	CreateCompetition(ctx context.Context, c *models.Competition) error
	CompetitionByID(ctx context.Context, id string) (*models.Competition, error)
	ListCompetitions(ctx context.Context) ([]models.Competition, error)
	UpdateCompetition(ctx context.Context, c *models.Competition, version int) error
	TransitionCompetition(ctx context.Context, id string, from, to models.CompetitionStatus) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Competitions lets staff run editions and everyone read published ones.
type Competitions struct {
	Store CompetitionStore
	Views *views.Views
	Valid *Validator
	Now   func() time.Time
}

// competitionRequest lists what staff may set. Pointers tell PATCH which
// fields were sent.
type competitionRequest struct {
	Title       *models.Text        `json:"title"`
	Description *models.Text        `json:"description"`
	Year        *int                `json:"year"`
	Tracks      *[]string           `json:"tracks"`
	Sectors     *[]string           `json:"sectors"`
	Eligibility *models.Eligibility `json:"eligibility"`
	OpensAt     *time.Time          `json:"opens_at"`
	ClosesAt    *time.Time          `json:"closes_at"`
	Deck        *models.DeckRules   `json:"deck"`
	Rounds      *[]models.Round     `json:"rounds" validate:"omitempty,max=10,dive"`
	Prizes      *[]models.Prize     `json:"prizes" validate:"omitempty,max=30,dive"`
	Version     int                 `json:"version"`
}

func (r *competitionRequest) apply(c *models.Competition) {
	if r.Title != nil {
		c.Title = trimText(*r.Title)
	}
	if r.Description != nil {
		c.Description = *r.Description
	}
	if r.Year != nil {
		c.Year = *r.Year
	}
	if r.Tracks != nil {
		c.Tracks = *r.Tracks
	}
	if r.Sectors != nil {
		c.Sectors = *r.Sectors
	}
	if r.Eligibility != nil {
		c.Eligibility = *r.Eligibility
	}
	if r.OpensAt != nil {
		c.OpensAt = r.OpensAt.UTC()
	}
	if r.ClosesAt != nil {
		c.ClosesAt = r.ClosesAt.UTC()
	}
	if r.Deck != nil {
		c.Deck = *r.Deck
	}
	if r.Rounds != nil {
		c.Rounds = *r.Rounds
	}
	if r.Prizes != nil {
		c.Prizes = *r.Prizes
	}
}

func trimText(t models.Text) models.Text {
	return models.Text{VI: strings.TrimSpace(t.VI), EN: strings.TrimSpace(t.EN)}
}

func (h *Competitions) check(c *fiber.Ctx, req *competitionRequest, comp *models.Competition) map[string]string {
	tr := h.Views.I18n.For(Lang(c))
	fields := h.Valid.Check(req, tr)
	return ruleMessages(models.CheckCompetition(comp), tr, fields)
}

// APICreate handles POST /api/v1/competitions.
func (h *Competitions) APICreate(c *fiber.Ctx) error {
	var req competitionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	comp := &models.Competition{}
	req.apply(comp)
	comp.ApplyDefaults()
	if fields := h.check(c, &req, comp); len(fields) > 0 {
		return validationFailed(fields)
	}
	comp.CreatedBy = CurrentUser(c).ID
	if err := h.Store.CreateCompetition(Ctx(c), comp); err != nil {
		return err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: comp.CreatedBy, Action: "competition:created", Target: comp.ID, IP: c.IP()})
	return writeJSON(c, fiber.StatusCreated, comp)
}

// visible reports whether the caller may see comp: staff see drafts too.
func visible(c *fiber.Ctx, comp *models.Competition) bool {
	if comp.Status != models.CompDraft {
		return true
	}
	u := CurrentUser(c)
	return u != nil && u.HasRole(models.RoleStaff, models.RoleAdmin)
}

// APIGet handles GET /api/v1/competitions/:id.
func (h *Competitions) APIGet(c *fiber.Ctx) error {
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	if !visible(c, comp) {
		return models.ErrNotFound
	}
	return writeJSON(c, fiber.StatusOK, comp)
}

// APIList handles GET /api/v1/competitions.
func (h *Competitions) APIList(c *fiber.Ctx) error {
	all, err := h.Store.ListCompetitions(Ctx(c))
	if err != nil {
		return err
	}
	out := []models.Competition{}
	for i := range all {
		if visible(c, &all[i]) {
			out = append(out, all[i])
		}
	}
	return writeJSON(c, fiber.StatusOK, fiber.Map{"competitions": out})
}

// ifMatch reads the expected version from If-Match, else from the body.
func ifMatch(c *fiber.Ctx, body int) int {
	if v := strings.Trim(c.Get(fiber.HeaderIfMatch), `W/" `); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return body
}

// APIPatch handles PATCH /api/v1/competitions/:id.
func (h *Competitions) APIPatch(c *fiber.Ctx) error {
	var req competitionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	version := ifMatch(c, req.Version)
	if version == 0 {
		version = comp.Version
	}
	req.apply(comp)
	comp.ApplyDefaults()
	if fields := h.check(c, &req, comp); len(fields) > 0 {
		return validationFailed(fields)
	}
	if err := h.Store.UpdateCompetition(Ctx(c), comp, version); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, comp)
}

type transitionRequest struct {
	To string `json:"to"`
}

func (h *Competitions) transition(c *fiber.Ctx, id, to string) (*models.Competition, error) {
	comp, err := h.Store.CompetitionByID(Ctx(c), id)
	if err != nil {
		return nil, err
	}
	target := models.CompetitionStatus(to)
	if !models.CanTransition(comp.Status, target) {
		return nil, &HTTPError{Status: fiber.StatusConflict, Code: "illegal_transition", Key: "error.illegal_transition",
			Args: []any{"From", string(comp.Status), "To", to}}
	}
	if err := h.Store.TransitionCompetition(Ctx(c), id, comp.Status, target); err != nil {
		if errors.Is(err, models.ErrBadTransition) {
			return nil, &HTTPError{Status: fiber.StatusConflict, Code: "illegal_transition", Key: "error.conflict"}
		}
		return nil, err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: "competition:" + to, Target: id, IP: c.IP()})
	comp.Status = target
	comp.Version++
	return comp, nil
}

// APITransition handles POST /api/v1/competitions/:id/transition.
func (h *Competitions) APITransition(c *fiber.Ctx) error {
	var req transitionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	comp, err := h.transition(c, c.Params("id"), req.To)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, comp)
}
