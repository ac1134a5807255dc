package handlers

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// rankMethods are shown side by side on the ranking page, in this order.
var rankMethods = []models.RankMethod{models.RankMean, models.RankMedian, models.RankZScore, models.RankTrimmed}

// RankingView is a round's ranking: the chosen method's rows, with each
// row's rank under every method, and the rules that made it.
type RankingView struct {
	Competition *models.Competition `json:"-"`
	Round       *models.Round       `json:"-"`
	Method      models.RankMethod   `json:"method"`
	PerTrack    bool                `json:"per_track"`
	Rule        models.AdvanceRule  `json:"rule"`
	TieBreaks   []models.TieBreak   `json:"tie_breaks"`
	Settings    models.RankSettings `json:"settings"`
	Rows        []RankingRow        `json:"rows"`
	Methods     []models.RankMethod `json:"methods"`
}

// RankingRow is one entry's line with its rank under each method.
type RankingRow struct {
	models.RankRow
	Ranks map[models.RankMethod]int `json:"ranks"`
}

// ranking computes the round's ranking for the caller. Leads see it at any
// time; a judge on the panel only once every review assigned to them in the
// round is submitted. Nobody sees the entries they have a conflict with.
// It reads the panel, each member's queue and the competition's list rows,
// all by _id.
func (h *Council) ranking(c *fiber.Ctx, compID, key, method, track string) (*RankingView, error) {
	comp, err := h.Store.CompetitionByID(Ctx(c), compID)
	if err != nil {
		return nil, err
	}
	r, ok := comp.RoundByKey(key)
	if !ok {
		return nil, models.ErrRoundUnknown
	}
	p, err := h.Store.PanelByCompetition(Ctx(c), compID)
	if err != nil {
		return nil, err
	}
	u := CurrentUser(c)
	var hidden []string
	if authorize(u, LeadCouncil, Target{Panel: p}) != nil {
		m, on := p.Member(u.ID)
		if !on || !u.HasRole(models.RoleJudge) {
			return nil, fmt.Errorf("handlers: ranking: %w", models.ErrNotFound)
		}
		q, err := h.Store.QueueOf(Ctx(c), compID, u.ID)
		if err != nil {
			return nil, err
		}
		for _, row := range q.Rows {
			if row.Round == key && row.Status != models.AssignSubmitted && row.Status != models.AssignConflict {
				return nil, fmt.Errorf("handlers: ranking before own reviews: %w", models.ErrForbidden)
			}
		}
		hidden = m.Conflicts
	} else if !u.HasRole(models.RoleStaff, models.RoleAdmin) {
		if m, ok := p.Member(u.ID); ok {
			hidden = m.Conflicts
		}
	}
	var reviews []models.Assignment
	for _, m := range p.Members {
		q, err := h.Store.QueueOf(Ctx(c), compID, m.UserID)
		if err != nil {
			return nil, err
		}
		for _, row := range q.Rows {
			if row.Round == key {
				reviews = append(reviews, models.Assignment{ID: row.AssignmentID, CompetitionID: compID, Round: key,
					EntryID: row.EntryID, JudgeID: m.UserID, Status: row.Status, Scores: row.Scores, Total: row.Total})
			}
		}
	}
	rows, err := h.Store.CompetitionRows(Ctx(c), compID)
	if err != nil {
		return nil, err
	}
	var entries []models.RankEntry
	for _, row := range rows {
		if row.Status != models.EntrySubmitted || slices.Contains(hidden, row.ID) || (track != "" && row.Track != track) {
			continue
		}
		e := models.RankEntry{ID: row.ID, Title: row.Title, Track: row.Track}
		if row.SubmittedAt != nil {
			e.SubmittedAt = *row.SubmittedAt
		}
		entries = append(entries, e)
	}
	set := r.Ranking
	m := models.RankMethod(method)
	if !m.Valid() {
		m = set.Method
	}
	if !m.Valid() {
		m = models.RankMean
	}
	v := &RankingView{Competition: comp, Round: r, Method: m, PerTrack: set.PerTrack, Rule: set.Rule,
		TieBreaks: set.TieBreaks, Settings: set.Settings, Methods: rankMethods}
	if v.TieBreaks == nil {
		v.TieBreaks = []models.TieBreak{}
	}
	ranks := map[string]map[models.RankMethod]int{}
	for _, other := range rankMethods {
		for _, row := range models.Rank(r.Criteria, entries, reviews, other, set.Settings, set.TieBreaks, set.PerTrack) {
			if ranks[row.EntryID] == nil {
				ranks[row.EntryID] = map[models.RankMethod]int{}
			}
			ranks[row.EntryID][other] = row.Rank
		}
	}
	chosen := models.Rank(r.Criteria, entries, reviews, m, set.Settings, set.TieBreaks, set.PerTrack)
	models.Propose(chosen, set.Rule)
	v.Rows = make([]RankingRow, 0, len(chosen))
	for _, row := range chosen {
		v.Rows = append(v.Rows, RankingRow{RankRow: row, Ranks: ranks[row.EntryID]})
	}
	h.audit(c, "ranking:viewed", compID+"/"+key, string(m))
	return v, nil
}

// APIRanking handles GET /api/v1/competitions/:id/rounds/:round/ranking.
func (h *Council) APIRanking(c *fiber.Ctx) error {
	v, err := h.ranking(c, c.Params("id"), c.Params("round"), c.Query("method"), c.Query("track"))
	if err != nil {
		return err
	}
	return writeJSON(c, fiber.StatusOK, v)
}

// RankingPage handles GET /council/:id/rounds/:round/ranking (and .csv).
func (h *Council) RankingPage(c *fiber.Ctx) error {
	v, err := h.ranking(c, c.Params("id"), c.Params("round"), c.Query("method"), c.Query("track"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return Render(c, h.Views, fiber.StatusOK, "council_ranking", Page(c, h.Views, "page.council_ranking", v))
}

// RankingCSV handles GET /council/:id/rounds/:round/ranking.csv: the same
// rows for a spreadsheet (UTF-8 with a BOM so Excel reads Vietnamese).
func (h *Council) RankingCSV(c *fiber.Ctx) error {
	v, err := h.ranking(c, c.Params("id"), c.Params("round"), c.Query("method"), c.Query("track"))
	if err != nil {
		return err
	}
	tr := h.Views.I18n.For(Lang(c))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="ranking-%s-%s.csv"`, v.Round.Key, time.Now().UTC().Format("20060102")))
	c.Set(fiber.HeaderCacheControl, "no-store")
	w := c.Response().BodyWriter()
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	head := []string{tr.T("ranking.rank"), tr.T("council.entry_title"), tr.T("entry.track"), tr.T("ranking.score")}
	for _, m := range rankMethods {
		head = append(head, tr.T("ranking.method."+string(m)))
	}
	head = append(head, tr.T("ranking.stddev"), tr.T("ranking.range"), tr.T("ranking.judges"), tr.T("ranking.missing"), tr.T("ranking.flags"), tr.T("ranking.proposed"))
	_ = cw.Write(head)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	for _, r := range v.Rows {
		flags := ""
		for i, fl := range r.Flags {
			if i > 0 {
				flags += ", "
			}
			flags += tr.T("ranking.flag." + fl)
		}
		rec := []string{strconv.Itoa(r.Rank), csvSafe(r.Title), tr.T("track." + r.Track), f(r.Score), f(r.Mean), f(r.Median), f(r.ZScore), f(r.Trimmed),
			f(r.StdDev), f(r.Range), strconv.Itoa(r.Judges), strconv.Itoa(r.Missing), flags, tr.T("ranking.proposed." + r.Proposed)}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
