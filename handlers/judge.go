package handlers

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/uploads"
)

// judgeWork is one assignment as its judge may see it, with what the pages
// around it need. Every judge path goes through judgeWork, and judgeWork
// through authorize.
type judgeWork struct {
	A     *models.Assignment
	Comp  *models.Competition
	Round *models.Round
	Panel *models.Panel
	Entry *models.Entry
}

func (h *Council) judgeWork(c *fiber.Ctx, id string, act Action) (*judgeWork, error) {
	a, err := h.Store.AssignmentByID(Ctx(c), id)
	if err != nil {
		return nil, err
	}
	p, err := h.Store.PanelByCompetition(Ctx(c), a.CompetitionID)
	if err != nil {
		return nil, err
	}
	e, err := h.Store.EntryByID(Ctx(c), a.EntryID)
	if err != nil {
		return nil, err
	}
	if err := authorize(CurrentUser(c), act, Target{Assignment: a, Panel: p, Entry: e}); err != nil {
		return nil, err
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), a.CompetitionID)
	if err != nil {
		return nil, err
	}
	r, ok := comp.RoundByKey(a.Round)
	if !ok {
		return nil, models.ErrRoundUnknown
	}
	return &judgeWork{A: a, Comp: comp, Round: r, Panel: p, Entry: e}, nil
}

func rowOf(w *judgeWork) models.QueueRow {
	return models.QueueRow{Title: w.Entry.Title, Track: w.Entry.Track, Sector: w.Entry.Sector}
}

// QueueRound is one round of a judge's home.
type QueueRound struct {
	CompetitionID string             `json:"competition_id"`
	Competition   string             `json:"competition"`
	Round         string             `json:"round"`
	RoundName     string             `json:"round_name"`
	ClosesAt      *time.Time         `json:"closes_at,omitempty"`
	Counts        models.QueueCounts `json:"counts"`
	Rows          []models.QueueRow  `json:"rows"`
	Next          string             `json:"next,omitempty"` // the next assignment without a submitted review
}

// queue is what still needs the judge: the released rounds of every panel
// they sit on, without the entries they declared a conflict with.
func (h *Council) queue(c *fiber.Ctx) ([]QueueRound, error) {
	u := CurrentUser(c)
	comps, err := h.Store.ListCompetitions(Ctx(c))
	if err != nil {
		return nil, err
	}
	lang := Lang(c)
	out := []QueueRound{}
	for i := range comps {
		comp := &comps[i]
		p, err := h.Store.PanelByCompetition(Ctx(c), comp.ID)
		if err != nil {
			return nil, err
		}
		if _, on := p.Member(u.ID); !on || len(p.Released) == 0 {
			continue
		}
		q, err := h.Store.QueueOf(Ctx(c), comp.ID, u.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range comp.Rounds {
			if !p.IsReleased(r.Key) {
				continue
			}
			qr := QueueRound{CompetitionID: comp.ID, Competition: comp.Title.In(lang), Round: r.Key, RoundName: r.Name.In(lang), ClosesAt: r.ClosesAt, Rows: []models.QueueRow{}}
			for _, row := range q.Rows {
				if row.Round != r.Key || row.Status == models.AssignConflict {
					continue
				}
				qr.Rows = append(qr.Rows, row)
				if qr.Next == "" && row.Status != models.AssignSubmitted {
					qr.Next = row.AssignmentID
				}
			}
			if len(qr.Rows) == 0 {
				continue
			}
			sort.SliceStable(qr.Rows, func(i, j int) bool {
				return statusOrder(qr.Rows[i].Status) < statusOrder(qr.Rows[j].Status)
			})
			qr.Counts = models.Count(qr.Rows)
			out = append(out, qr)
		}
	}
	return out, nil
}

func statusOrder(s models.AssignmentStatus) int {
	switch s {
	case models.AssignDraft:
		return 0
	case models.AssignPending:
		return 1
	default:
		return 2
	}
}

// APIQueue handles GET /api/v1/assignments: the caller's queue.
func (h *Council) APIQueue(c *fiber.Ctx) error {
	rounds, err := h.queue(c)
	if err != nil {
		return err
	}
	rows := []models.QueueRow{}
	for _, r := range rounds {
		rows = append(rows, r.Rows...)
	}
	return writeJSON(c, fiber.StatusOK, map[string]any{"rows": rows, "counts": models.Count(rows), "rounds": rounds})
}

// view is the entry as the judge sees it, with their own review and, once
// they have submitted it, the others'.
func (h *Council) view(c *fiber.Ctx, w *judgeWork) (models.JudgeEntry, error) {
	// Put the judge's queue row right if a crash between the assignment's
	// write and its row's left the row behind.
	if q, err := h.Store.QueueOf(Ctx(c), w.A.CompetitionID, w.A.JudgeID); err == nil {
		fresh := false
		for _, row := range q.Rows {
			if row.AssignmentID == w.A.ID {
				fresh = row.Status == w.A.Status && row.Total == w.A.Total
			}
		}
		if !fresh {
			if err := h.Store.SyncQueueRow(Ctx(c), w.A, rowOf(w)); err != nil {
				return models.JudgeEntry{}, err
			}
		}
	}
	v := models.ViewForJudge(w.Entry, w.Round, w.A)
	if w.A.Status == models.AssignSubmitted {
		others, err := h.others(c, w, false)
		if err != nil {
			return v, err
		}
		v.Others = others
	}
	return v, nil
}

// others lists the other judges' submitted reviews of the entry in the
// round, numbered in panel order, never naming them; notes only for leads.
func (h *Council) others(c *fiber.Ctx, w *judgeWork, withNotes bool) ([]models.OtherScore, error) {
	out := []models.OtherScore{}
	for i, m := range w.Panel.Members {
		if m.UserID == w.A.JudgeID {
			continue
		}
		o, err := h.Store.FindAssignment(Ctx(c), w.A.CompetitionID, w.A.Round, w.A.EntryID, m.UserID)
		if err != nil || o.Status != models.AssignSubmitted {
			continue
		}
		s := models.OtherScore{Judge: i + 1, Scores: o.Scores, Total: o.Total, Comment: o.Comment}
		if withNotes && o.Note != "" {
			s.Comment = strings.TrimSpace(s.Comment + "\n— " + o.Note)
		}
		out = append(out, s)
	}
	return out, nil
}

// APIJudgeEntry handles GET /api/v1/assignments/:id/entry.
func (h *Council) APIJudgeEntry(c *fiber.Ctx) error {
	w, err := h.judgeWork(c, c.Params("id"), ReadAsJudge)
	if err != nil {
		return err
	}
	v, err := h.view(c, w)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, v)
}

// APIReviews handles GET /api/v1/assignments/:id/reviews: 403 until the
// caller has submitted their own review.
func (h *Council) APIReviews(c *fiber.Ctx) error {
	w, err := h.judgeWork(c, c.Params("id"), ReadReviews)
	if err != nil {
		return err
	}
	lead := w.A.JudgeID != CurrentUser(c).ID
	others, err := h.others(c, w, lead)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, map[string]any{"reviews": others})
}

// Deck streams the deck to the assignment's judge (the judge's pages).
func (h *Council) Deck(c *fiber.Ctx) error { return h.deck(c, ActAsJudge) }

// APIDeck streams the deck to the assignment's judge or a council lead.
func (h *Council) APIDeck(c *fiber.Ctx) error { return h.deck(c, ReadAsJudge) }

// deck streams the deck: in a blind round the copy without authoring
// metadata, made once per deck version. Each download is logged.
func (h *Council) deck(c *fiber.Ctx, act Action) error {
	w, err := h.judgeWork(c, c.Params("id"), act)
	if err != nil {
		return err
	}
	d := w.Entry.Deck
	if d == nil {
		return models.ErrNotFound
	}
	key, name := d.Key, "deck"+deckExt(d.ContentType)
	detail := "original"
	if w.Round.Blind {
		bk, sum, _, err := h.Decks.BlindCopy(Ctx(c), d.Key, deckKind(d.ContentType))
		if err != nil {
			return deckError(err)
		}
		key, detail = bk, "blind sha256="+sum
	} else if d.Filename != "" {
		name = d.Filename
	}
	obj, size, err := h.Decks.Open(Ctx(c), key)
	if err != nil {
		return deckError(err)
	}
	h.audit(c, "deck:judge_download", w.A.ID, detail)
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, uploads.ContentDisposition(name))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendStream(obj, int(size))
}

func deckKind(contentType string) string {
	if strings.Contains(contentType, "pdf") {
		return "pdf"
	}
	return "pptx"
}

func deckExt(contentType string) string {
	if strings.Contains(contentType, "pdf") {
		return ".pdf"
	}
	return ".pptx"
}

// declare records the judge's conflict with the entry: the slot is freed,
// the entry leaves every view of the judge, and it is never assigned to
// them again unless a chair overrides.
func (h *Council) declare(c *fiber.Ctx, id, reason string) error {
	w, err := h.judgeWork(c, id, ActAsJudge)
	if err != nil {
		return err
	}
	tr := h.Views.I18n.For(Lang(c))
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return validationFailed(map[string]string{"reason": tr.T("error.reason_required")})
	case len([]rune(reason)) > 500:
		return validationFailed(map[string]string{"reason": tr.T("error.too_long")})
	case HasNUL(reason):
		return validationFailed(map[string]string{"reason": tr.T("error.nul_byte")})
	}
	if _, err := h.Store.ChangePanel(Ctx(c), w.A.CompetitionID, func(p *models.Panel) error {
		if m, ok := p.Member(w.A.JudgeID); ok && !slices.Contains(m.Conflicts, w.A.EntryID) {
			m.Conflicts = append(m.Conflicts, w.A.EntryID)
		}
		return nil
	}); err != nil {
		return err
	}
	v := w.A.Version
	w.A.Status, w.A.ConflictReason = models.AssignConflict, reason
	if err := h.Store.SaveAssignment(Ctx(c), w.A, v, rowOf(w)); err != nil {
		return err
	}
	h.audit(c, "conflict:declared", w.A.ID, reason)
	return nil
}

// override lets a chair put a judge back on an entry they declared a
// conflict with (logged with the reason).
func (h *Council) override(c *fiber.Ctx, id, reason string) error {
	a, err := h.Store.AssignmentByID(Ctx(c), id)
	if err != nil {
		return err
	}
	p, err := h.Store.PanelByCompetition(Ctx(c), a.CompetitionID)
	if err != nil {
		return err
	}
	if err := authorize(CurrentUser(c), OverrideConflict, Target{Panel: p}); err != nil {
		if !CurrentUser(c).HasRole(models.RoleStaff, models.RoleAdmin) && !p.IsChair(CurrentUser(c).ID) {
			return fmt.Errorf("handlers: override: %w", models.ErrNotFound)
		}
		return err
	}
	tr := h.Views.I18n.For(Lang(c))
	reason = strings.TrimSpace(reason)
	if reason == "" || HasNUL(reason) || len([]rune(reason)) > 500 {
		return validationFailed(map[string]string{"reason": tr.T("error.reason_required")})
	}
	if a.Status != models.AssignConflict {
		return fmt.Errorf("handlers: no conflict to override: %w", models.ErrConflict)
	}
	e, err := h.Store.EntryByID(Ctx(c), a.EntryID)
	if err != nil {
		return err
	}
	if _, err := h.Store.ChangePanel(Ctx(c), a.CompetitionID, func(p *models.Panel) error {
		if m, ok := p.Member(a.JudgeID); ok {
			m.Conflicts = slices.DeleteFunc(m.Conflicts, func(x string) bool { return x == a.EntryID })
		}
		return nil
	}); err != nil {
		return err
	}
	v := a.Version
	a.Status = models.AssignPending
	if len(a.Scores) > 0 {
		a.Status = models.AssignDraft
	}
	a.ConflictReason = ""
	if err := h.Store.SaveAssignment(Ctx(c), a, v, models.QueueRow{Title: e.Title, Track: e.Track, Sector: e.Sector}); err != nil {
		return err
	}
	h.audit(c, "conflict:overridden", a.ID, reason)
	return nil
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

// APIConflict handles POST /api/v1/assignments/:id/conflict.
func (h *Council) APIConflict(c *fiber.Ctx) error {
	var req reasonRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.declare(c, c.Params("id"), req.Reason); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, map[string]string{"status": string(models.AssignConflict)})
}

// APIOverride handles POST /api/v1/assignments/:id/override (chairs).
func (h *Council) APIOverride(c *fiber.Ctx) error {
	var req reasonRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.override(c, c.Params("id"), req.Reason); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, map[string]string{"status": "overridden"})
}
