package handlers

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// CouncilStore is what the advisory council's handlers need.
type CouncilStore interface {
	CompetitionByID(ctx context.Context, id string) (*models.Competition, error)
	ListCompetitions(ctx context.Context) ([]models.Competition, error)
	EntryByID(ctx context.Context, id string) (*models.Entry, error)
	ListEntries(ctx context.Context, f models.EntryFilter, limit int64) ([]models.Entry, error)
	CompetitionRows(ctx context.Context, compID string) ([]models.ListRow, error)
	UserByID(ctx context.Context, id string) (*models.User, error)
	UserByEmail(ctx context.Context, email string) (*models.User, error)
	PanelByCompetition(ctx context.Context, compID string) (*models.Panel, error)
	ChangePanel(ctx context.Context, compID string, change func(*models.Panel) error) (*models.Panel, error)
	AssignmentByID(ctx context.Context, id string) (*models.Assignment, error)
	FindAssignment(ctx context.Context, compID, round, entryID, judgeID string) (*models.Assignment, error)
	InsertAssignments(ctx context.Context, as []*models.Assignment) error
	DeleteAssignment(ctx context.Context, a *models.Assignment) error
	SaveAssignment(ctx context.Context, a *models.Assignment, version int, row models.QueueRow) error
	SyncQueueRow(ctx context.Context, a *models.Assignment, row models.QueueRow) error
	QueueOf(ctx context.Context, compID, judgeID string) (*models.JudgeQueue, error)
	RebuildQueues(ctx context.Context, compID string, judges []string, titles map[string]models.QueueRow) error
	QueueMail(ctx context.Context, to, subject, body string) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// BlindDecks makes and opens the metadata-free copies of decks that judges
// of blind rounds download.
type BlindDecks interface {
	BlindCopy(ctx context.Context, key, kind string) (blindKey, sha256hex string, size int64, err error)
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
}

// Council runs panels, conflicts, assignment, release and scoring.
type Council struct {
	Store   CouncilStore
	Decks   BlindDecks
	Views   *views.Views
	Valid   *Validator
	Now     func() time.Time
	BaseURL string
}

// lead loads a competition and its panel for a council lead (staff, admin
// or a chair of that panel).
func (h *Council) lead(c *fiber.Ctx, compID string) (*models.Competition, *models.Panel, error) {
	comp, err := h.Store.CompetitionByID(Ctx(c), compID)
	if err != nil {
		return nil, nil, err
	}
	p, err := h.Store.PanelByCompetition(Ctx(c), compID)
	if err != nil {
		return nil, nil, err
	}
	if err := authorize(CurrentUser(c), LeadCouncil, Target{Panel: p}); err != nil {
		return nil, nil, err
	}
	return comp, p, nil
}

func (h *Council) audit(c *fiber.Ctx, action, target, detail string) {
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: action, Target: target, IP: c.IP(), Detail: detail})
}

type judgeRequest struct {
	UserID  string   `json:"user_id" validate:"omitempty,max=64"`
	Email   string   `json:"email" validate:"omitempty,email,max=254"`
	Sectors []string `json:"sectors" validate:"max=20,dive,max=40"`
	Chair   bool     `json:"chair"`
}

// addJudge puts a council member on the panel (or updates their sectors
// and chair flag).
func (h *Council) addJudge(c *fiber.Ctx, compID string, req *judgeRequest) (*models.Panel, error) {
	comp, _, err := h.lead(c, compID)
	if err != nil {
		return nil, err
	}
	if !CurrentUser(c).HasRole(models.RoleStaff, models.RoleAdmin) {
		return nil, fmt.Errorf("handlers: panel changes are staff's: %w", models.ErrForbidden)
	}
	tr := h.Views.I18n.For(Lang(c))
	if fields := h.Valid.Check(req, tr); fields != nil {
		return nil, validationFailed(fields)
	}
	if req.UserID == "" && req.Email == "" {
		return nil, validationFailed(map[string]string{"user_id": tr.T("error.judge_required")})
	}
	var u *models.User
	if req.UserID != "" {
		u, err = h.Store.UserByID(Ctx(c), req.UserID)
	} else {
		u, err = h.Store.UserByEmail(Ctx(c), req.Email)
	}
	if err != nil {
		return nil, fmt.Errorf("handlers: judge: %w", models.ErrNotJudge)
	}
	if !u.HasRole(models.RoleJudge) || u.Disabled {
		return nil, models.ErrNotJudge
	}
	var sectors []string
	for _, s := range req.Sectors {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(comp.Sectors) > 0 && !slices.Contains(comp.Sectors, s) {
			return nil, validationFailed(map[string]string{"sectors": h.Views.I18n.For(Lang(c)).T("error.sector_invalid")})
		}
		sectors = append(sectors, s)
	}
	p, err := h.Store.ChangePanel(Ctx(c), compID, func(p *models.Panel) error {
		if m, ok := p.Member(u.ID); ok {
			m.Sectors, m.Chair, m.Name, m.Email = sectors, req.Chair, u.Name, u.Email
			return nil
		}
		p.Members = append(p.Members, models.PanelMember{UserID: u.ID, Name: u.Name, Email: u.Email, Sectors: sectors, Chair: req.Chair, AddedAt: h.Now().UTC()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.audit(c, "panel:judge_added", compID, fmt.Sprintf("user=%s chair=%t sectors=%s", u.ID, req.Chair, strings.Join(sectors, ",")))
	return p, nil
}

// removeJudge takes a member off the panel. Their assignments stay (with
// any reviews) until a chair moves them.
func (h *Council) removeJudge(c *fiber.Ctx, compID, userID string) error {
	if _, _, err := h.lead(c, compID); err != nil {
		return err
	}
	if !CurrentUser(c).HasRole(models.RoleStaff, models.RoleAdmin) {
		return fmt.Errorf("handlers: panel changes are staff's: %w", models.ErrForbidden)
	}
	_, err := h.Store.ChangePanel(Ctx(c), compID, func(p *models.Panel) error {
		i := slices.IndexFunc(p.Members, func(m models.PanelMember) bool { return m.UserID == userID })
		if i < 0 {
			return models.ErrNotFound
		}
		p.Members = slices.Delete(p.Members, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	h.audit(c, "panel:judge_removed", compID, "user="+userID)
	return nil
}

type panelResponse struct {
	CompetitionID string               `json:"competition_id"`
	Judges        []models.PanelMember `json:"judges"`
	Released      []string             `json:"released"`
	Version       int                  `json:"version"`
}

func toPanelResponse(p *models.Panel) panelResponse {
	r := panelResponse{CompetitionID: p.ID, Judges: p.Members, Released: p.Released, Version: p.Version}
	if r.Judges == nil {
		r.Judges = []models.PanelMember{}
	}
	if r.Released == nil {
		r.Released = []string{}
	}
	return r
}

// APIPanel handles GET /api/v1/competitions/:id/judges.
func (h *Council) APIPanel(c *fiber.Ctx) error {
	_, p, err := h.lead(c, c.Params("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, toPanelResponse(p))
}

// APIAddJudge handles POST /api/v1/competitions/:id/judges.
func (h *Council) APIAddJudge(c *fiber.Ctx) error {
	var req judgeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := h.addJudge(c, c.Params("id"), &req)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusCreated, toPanelResponse(p))
}

// APIRemoveJudge handles DELETE /api/v1/competitions/:id/judges/:user_id.
func (h *Council) APIRemoveJudge(c *fiber.Ctx) error {
	if err := h.removeJudge(c, c.Params("id"), c.Params("user_id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
