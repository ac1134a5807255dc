package handlers

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// round loads what a council lead needs to work on a round.
func (h *Council) round(c *fiber.Ctx, compID, key string) (*models.Competition, *models.Round, *models.Panel, error) {
	comp, p, err := h.lead(c, compID)
	if err != nil {
		return nil, nil, nil, err
	}
	r, ok := comp.RoundByKey(key)
	if !ok {
		return nil, nil, nil, models.ErrRoundUnknown
	}
	return comp, r, p, nil
}

// RoundSheet is a round's assignments as a chair sees them: per judge, and
// per entry with its free slots. It is made from the judges' queues (one
// read by _id per judge).
type RoundSheet struct {
	Competition *models.Competition `json:"-"`
	Round       *models.Round       `json:"-"`
	Panel       *models.Panel       `json:"-"`
	Released    bool                `json:"released"`
	Loads       map[string]int      `json:"loads"`
	Judges      []SheetJudge        `json:"judges"`
	Entries     []SheetEntry        `json:"entries"`
	Total       int                 `json:"assignments"`
	PerEntry    int                 `json:"per_entry"` // judges per entry: as assigned, else the round's setting
	// The page's slice of Entries (the HTML page shows sheetPageSize at a
	// time; the API returns them all).
	Page, Pages, Count int `json:"-"`
}

// sheetPageSize is how many entries the round page shows at a time.
const sheetPageSize = 50

// SheetJudge is one judge's line of the sheet.
type SheetJudge struct {
	UserID string             `json:"user_id"`
	Name   string             `json:"name"`
	Chair  bool               `json:"chair"`
	Load   int                `json:"load"`
	Counts models.QueueCounts `json:"counts"`
}

// SheetEntry is one entry's line: its judges and how many slots are free.
type SheetEntry struct {
	EntryID   string       `json:"entry_id"`
	Title     string       `json:"title"`
	Judges    []SheetJudge `json:"judges"`
	Conflicts []SheetJudge `json:"conflicts"`
	Free      int          `json:"free"`
	Rows      []string     `json:"assignment_ids"`
}

func (h *Council) sheet(c *fiber.Ctx, comp *models.Competition, r *models.Round, p *models.Panel) (*RoundSheet, error) {
	sh := &RoundSheet{Competition: comp, Round: r, Panel: p, Released: p.IsReleased(r.Key), Loads: map[string]int{}}
	// A chair who is not staff does not see the entries they have a
	// conflict with (declared, or detected at assignment).
	var hidden []string
	if u := CurrentUser(c); !u.HasRole(models.RoleStaff, models.RoleAdmin) {
		if m, ok := p.Member(u.ID); ok {
			hidden = m.Conflicts
		}
	}
	byEntry := map[string]*SheetEntry{}
	sh.PerEntry = r.JudgesPerEntry
	if n, ok := p.PerEntry[r.Key]; ok {
		sh.PerEntry = n
	}
	for _, m := range p.Members {
		q, err := h.Store.QueueOf(Ctx(c), comp.ID, m.UserID)
		if err != nil {
			return nil, err
		}
		var rows []models.QueueRow
		for _, row := range q.Rows {
			if row.Round == r.Key && !slices.Contains(hidden, row.EntryID) {
				rows = append(rows, row)
			}
		}
		j := SheetJudge{UserID: m.UserID, Name: m.Name, Chair: m.Chair, Counts: models.Count(rows)}
		for _, row := range rows {
			e := byEntry[row.EntryID]
			if e == nil {
				e = &SheetEntry{EntryID: row.EntryID, Title: row.Title}
				byEntry[row.EntryID] = e
			}
			if row.Status == models.AssignConflict {
				e.Conflicts = append(e.Conflicts, SheetJudge{UserID: m.UserID, Name: m.Name})
				continue
			}
			j.Load++
			e.Judges = append(e.Judges, SheetJudge{UserID: m.UserID, Name: m.Name, Counts: models.Count([]models.QueueRow{row})})
			e.Rows = append(e.Rows, row.AssignmentID)
		}
		sh.Loads[m.UserID] = j.Load
		sh.Total += j.Load
		sh.Judges = append(sh.Judges, j)
	}
	for _, e := range byEntry {
		k := sh.PerEntry
		if k > len(e.Judges) {
			e.Free = k - len(e.Judges)
		}
		sh.Entries = append(sh.Entries, *e)
	}
	sort.Slice(sh.Entries, func(i, j int) bool {
		if (sh.Entries[i].Free > 0) != (sh.Entries[j].Free > 0) {
			return sh.Entries[i].Free > 0 // entries needing a judge first
		}
		return sh.Entries[i].Title < sh.Entries[j].Title
	})
	return sh, nil
}

type assignRequest struct {
	PerEntry int   `json:"per_entry" validate:"omitempty,min=1,max=50"`
	Seed     int64 `json:"seed"`
}

type assignResponse struct {
	Assignments int            `json:"assignments"`
	Loads       map[string]int `json:"loads"`
	SectorMatch int            `json:"sector_matches"`
}

// assign gives every submitted entry of the round its judges.
func (h *Council) assign(c *fiber.Ctx, compID, key string, req *assignRequest) (*assignResponse, error) {
	comp, r, p, err := h.round(c, compID, key)
	if err != nil {
		return nil, err
	}
	tr := h.Views.I18n.For(Lang(c))
	if fields := h.Valid.Check(req, tr); fields != nil {
		return nil, validationFailed(fields)
	}
	if p.IsReleased(key) {
		return nil, models.ErrReleased
	}
	sh, err := h.sheet(c, comp, r, p)
	if err != nil {
		return nil, err
	}
	if sh.Total > 0 {
		return nil, models.ErrAlreadyAssigns
	}
	k := req.PerEntry
	if k == 0 {
		k = r.JudgesPerEntry
	}
	entries, err := h.Store.ListEntries(Ctx(c), models.EntryFilter{CompetitionID: compID, Status: string(models.EntrySubmitted)}, 100000)
	if err != nil {
		return nil, err
	}
	in := models.AssignInput{PerEntry: k, Seed: req.Seed, Conflicts: map[string][]string{}}
	titles := map[string]models.QueueRow{}
	autoConflicts := map[string][]string{} // judge → entries they lead or are on the team of
	for i := range entries {
		e := &entries[i]
		in.Entries = append(in.Entries, models.AssignEntry{ID: e.ID, Sector: e.Sector})
		titles[e.ID] = models.QueueRow{Title: e.Title, Track: e.Track, Sector: e.Sector}
		for _, m := range p.Members {
			auto := models.ConflictsWith(e, m.UserID, m.Email)
			if auto || slices.Contains(m.Conflicts, e.ID) {
				in.Conflicts[e.ID] = append(in.Conflicts[e.ID], m.UserID)
			}
			if auto && !slices.Contains(m.Conflicts, e.ID) {
				autoConflicts[m.UserID] = append(autoConflicts[m.UserID], e.ID)
			}
		}
	}
	judges := make([]string, 0, len(p.Members))
	for _, m := range p.Members {
		in.Judges = append(in.Judges, models.PanelJudge{UserID: m.UserID, Sectors: m.Sectors})
		judges = append(judges, m.UserID)
	}
	res, err := models.Assign(in)
	var ae *models.AssignError
	if errors.As(err, &ae) {
		return nil, &HTTPError{Status: fiber.StatusUnprocessableEntity, Code: "assignment_impossible", Key: ae.Key,
			Args: []any{"N", len(ae.Entries), "PerEntry", k, "Judges", len(p.Members)}}
	}
	if err != nil {
		return nil, err
	}
	var as []*models.Assignment
	for entryID, js := range res.ByEntry {
		for _, j := range js {
			as = append(as, &models.Assignment{CompetitionID: compID, Round: key, EntryID: entryID, JudgeID: j})
		}
	}
	if err := h.Store.InsertAssignments(Ctx(c), as); err != nil {
		return nil, err
	}
	if _, err := h.Store.ChangePanel(Ctx(c), compID, func(p *models.Panel) error {
		if p.PerEntry == nil {
			p.PerEntry = map[string]int{}
		}
		p.PerEntry[key] = k
		// Detected conflicts are kept with the declared ones, so the
		// judge never sees these entries anywhere, chairs included.
		for i := range p.Members {
			for _, id := range autoConflicts[p.Members[i].UserID] {
				if !slices.Contains(p.Members[i].Conflicts, id) {
					p.Members[i].Conflicts = append(p.Members[i].Conflicts, id)
				}
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := h.Store.RebuildQueues(Ctx(c), compID, judges, titles); err != nil {
		return nil, err
	}
	h.audit(c, "round:assigned", compID+"/"+key, fmt.Sprintf("per_entry=%d seed=%d assignments=%d", k, req.Seed, len(as)))
	return &assignResponse{Assignments: len(as), Loads: res.Loads, SectorMatch: res.SectorMatches}, nil
}

// release lets the judges see the round's assignments and mails each one.
func (h *Council) release(c *fiber.Ctx, compID, key string) error {
	comp, r, p, err := h.round(c, compID, key)
	if err != nil {
		return err
	}
	if p.IsReleased(key) {
		return nil
	}
	sh, err := h.sheet(c, comp, r, p)
	if err != nil {
		return err
	}
	if _, err := h.Store.ChangePanel(Ctx(c), compID, func(p *models.Panel) error {
		if !p.IsReleased(key) {
			p.Released = append(p.Released, key)
		}
		return nil
	}); err != nil {
		return err
	}
	h.audit(c, "round:released", compID+"/"+key, "assignments="+strconv.Itoa(sh.Total))
	for _, j := range sh.Judges {
		if j.Load == 0 {
			continue
		}
		m, _ := p.Member(j.UserID)
		u, err := h.Store.UserByID(Ctx(c), j.UserID)
		if err != nil {
			continue
		}
		lang := u.Locale
		if lang == "" {
			lang = "vi"
		}
		tr := h.Views.I18n.For(lang)
		body := tr.T("mail.assigned_body", "Name", m.Name, "N", j.Load, "Round", r.Name.In(lang),
			"Competition", comp.Title.In(lang), "URL", h.BaseURL+"/judge")
		if err := h.Store.QueueMail(Ctx(c), u.Email, tr.T("mail.assigned_subject", "Round", r.Name.In(lang)), body); err != nil {
			return err
		}
	}
	return nil
}

type slotRequest struct {
	EntryID string `json:"entry_id" validate:"required,max=64"`
	JudgeID string `json:"judge_id" validate:"required,max=64"`
}

// addSlot assigns a judge to an entry by hand (a chair filling a slot).
func (h *Council) addSlot(c *fiber.Ctx, compID, key string, req *slotRequest) (*models.Assignment, error) {
	_, _, p, err := h.round(c, compID, key)
	if err != nil {
		return nil, err
	}
	if fields := h.Valid.Check(req, h.Views.I18n.For(Lang(c))); fields != nil {
		return nil, validationFailed(fields)
	}
	m, ok := p.Member(req.JudgeID)
	if !ok {
		return nil, models.ErrNotOnPanel
	}
	e, err := h.Store.EntryByID(Ctx(c), req.EntryID)
	if err != nil || e.CompetitionID != compID || e.Status != models.EntrySubmitted {
		return nil, fmt.Errorf("handlers: entry for slot: %w", models.ErrNotFound)
	}
	if models.ConflictsWith(e, m.UserID, m.Email) || slices.Contains(m.Conflicts, e.ID) {
		return nil, models.ErrConflicted
	}
	if old, err := h.Store.FindAssignment(Ctx(c), compID, key, e.ID, m.UserID); err == nil {
		if old.Status == models.AssignConflict {
			return nil, models.ErrConflicted
		}
		return old, nil
	}
	a := &models.Assignment{CompetitionID: compID, Round: key, EntryID: e.ID, JudgeID: m.UserID}
	if err := h.Store.InsertAssignments(Ctx(c), []*models.Assignment{a}); err != nil {
		return nil, err
	}
	if err := h.Store.SyncQueueRow(Ctx(c), a, models.QueueRow{Title: e.Title, Track: e.Track, Sector: e.Sector}); err != nil {
		return nil, err
	}
	h.audit(c, "assignment:added", a.ID, fmt.Sprintf("entry=%s judge=%s round=%s", e.ID, m.UserID, key))
	return a, nil
}

// leadAssignment loads an assignment for a council lead.
func (h *Council) leadAssignment(c *fiber.Ctx, id string) (*models.Assignment, *models.Panel, error) {
	a, err := h.Store.AssignmentByID(Ctx(c), id)
	if err != nil {
		return nil, nil, err
	}
	if _, p, err := h.lead(c, a.CompetitionID); err == nil {
		return a, p, nil
	} else {
		return nil, nil, fmt.Errorf("handlers: assignment: %w", models.ErrNotFound)
	}
}

// removeSlot takes an assignment without a submitted review away.
func (h *Council) removeSlot(c *fiber.Ctx, id string) error {
	a, _, err := h.leadAssignment(c, id)
	if err != nil {
		return err
	}
	if a.Status == models.AssignSubmitted || a.Status == models.AssignDraft {
		return fmt.Errorf("handlers: assignment has a review: %w", models.ErrConflict)
	}
	if err := h.Store.DeleteAssignment(Ctx(c), a); err != nil {
		return err
	}
	h.audit(c, "assignment:removed", a.ID, fmt.Sprintf("entry=%s judge=%s round=%s", a.EntryID, a.JudgeID, a.Round))
	return nil
}

// moveSlot gives an assignment's entry to another judge.
func (h *Council) moveSlot(c *fiber.Ctx, id, judgeID string) (*models.Assignment, error) {
	a, _, err := h.leadAssignment(c, id)
	if err != nil {
		return nil, err
	}
	if a.Status == models.AssignSubmitted || a.Status == models.AssignDraft {
		return nil, fmt.Errorf("handlers: assignment has a review: %w", models.ErrConflict)
	}
	n, err := h.addSlot(c, a.CompetitionID, a.Round, &slotRequest{EntryID: a.EntryID, JudgeID: judgeID})
	if err != nil {
		return nil, err
	}
	if a.Status != models.AssignConflict {
		if err := h.Store.DeleteAssignment(Ctx(c), a); err != nil {
			return nil, err
		}
	}
	h.audit(c, "assignment:moved", n.ID, fmt.Sprintf("from=%s to=%s entry=%s", a.JudgeID, judgeID, a.EntryID))
	return n, nil
}

// APIAssign handles POST /api/v1/competitions/:id/rounds/:round/assign.
func (h *Council) APIAssign(c *fiber.Ctx) error {
	var req assignRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	res, err := h.assign(c, c.Params("id"), c.Params("round"), &req)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, res)
}

// APIRelease handles POST /api/v1/competitions/:id/rounds/:round/release.
func (h *Council) APIRelease(c *fiber.Ctx) error {
	if err := h.release(c, c.Params("id"), c.Params("round")); err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, map[string]any{"released": true})
}

// APIRoundAssignments handles GET /api/v1/competitions/:id/rounds/:round/assignments.
func (h *Council) APIRoundAssignments(c *fiber.Ctx) error {
	comp, r, p, err := h.round(c, c.Params("id"), c.Params("round"))
	if err != nil {
		return err
	}
	sh, err := h.sheet(c, comp, r, p)
	if err != nil {
		return err
	}
	if sh.Judges == nil {
		sh.Judges = []SheetJudge{}
	}
	if sh.Entries == nil {
		sh.Entries = []SheetEntry{}
	}
	return writeJSON(c, fiber.StatusOK, sh)
}

// APIAddSlot handles POST /api/v1/competitions/:id/rounds/:round/assignments.
func (h *Council) APIAddSlot(c *fiber.Ctx) error {
	var req slotRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := h.addSlot(c, c.Params("id"), c.Params("round"), &req)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusCreated, map[string]string{"id": a.ID, "status": string(a.Status)})
}

// APIRemoveSlot handles DELETE /api/v1/assignments/:id.
func (h *Council) APIRemoveSlot(c *fiber.Ctx) error {
	if err := h.removeSlot(c, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// APIMoveSlot handles POST /api/v1/assignments/:id/move {"judge_id":…}.
func (h *Council) APIMoveSlot(c *fiber.Ctx) error {
	var req struct {
		JudgeID string `json:"judge_id"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := h.moveSlot(c, c.Params("id"), req.JudgeID)
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, map[string]string{"id": a.ID, "status": string(a.Status)})
}
