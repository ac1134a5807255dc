package handlers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
)

// staffFilter is the filter form of the staff entry list.
type staffFilter struct {
	Status, Track, Sector, Commune, WomenLed, Q string

	q, commune string            // Q and Commune folded, once per request
	folded     map[string]string // communes of the rows, folded (they repeat)
}

func readStaffFilter(c *fiber.Ctx) staffFilter {
	f := staffFilter{Status: c.Query("status"), Track: c.Query("track"), Sector: c.Query("sector"),
		Commune: strings.TrimSpace(c.Query("commune")), WomenLed: c.Query("women_led"), Q: strings.TrimSpace(c.Query("q"))}
	f.q, f.commune, f.folded = models.Fold(f.Q), models.Fold(f.Commune), map[string]string{}
	return f
}

// foldCommune folds a row's commune, remembering the answer.
func (f staffFilter) foldCommune(s string) string {
	v, ok := f.folded[s]
	if !ok {
		v = models.Fold(s)
		f.folded[s] = v
	}
	return v
}

// match applies the filter to one row. The search and the commune ignore
// Vietnamese diacritics and case: "bac ha" finds "Bắc Hà".
func (f staffFilter) match(e *models.ListRow) bool {
	switch {
	case f.Status != "" && string(e.Status) != f.Status,
		f.Track != "" && e.Track != f.Track,
		f.Sector != "" && e.Sector != f.Sector,
		f.WomenLed == "1" && !e.WomenLed,
		f.WomenLed == "0" && e.WomenLed,
		f.Commune != "" && !strings.Contains(f.foldCommune(e.Commune), f.commune),
		f.Q != "" && !strings.Contains(e.Search, f.q):
		return false
	}
	return true
}

// query returns the filter as a URL query (for the CSV link).
func (f staffFilter) query() string {
	v := url.Values{}
	for _, kv := range [][2]string{{"status", f.Status}, {"track", f.Track}, {"sector", f.Sector}, {"commune", f.Commune}, {"women_led", f.WomenLed}, {"q", f.Q}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v.Encode()
}

// staffPageSize is how many rows a page of the staff list shows.
const staffPageSize = 50

// staffEntriesPage is the data of the staff entry list.
type staffEntriesPage struct {
	Comp     *models.Competition
	Entries  []models.ListRow // the rows of this page
	Counts   map[models.EntryStatus]int
	Total    int // entries of the competition
	Matched  int // entries the filter matches
	Page     int // 1-based
	Pages    int
	PrevURL  string
	NextURL  string
	Filter   staffFilter
	CSVQuery string
	Statuses []models.EntryStatus
}

// filtered reads the competition's list rows (a few derived documents by
// _id; docs/DATA.md) and applies the filter in Go, counting every status
// over the whole competition. It returns all matching rows, newest first.
func (h *Entries) filtered(c *fiber.Ctx) (*staffEntriesPage, []models.ListRow, error) {
	comp, err := h.Store.CompetitionByID(Ctx(c), c.Params("id"))
	if err != nil {
		return nil, nil, err
	}
	all, err := h.Store.CompetitionRows(Ctx(c), comp.ID)
	if err != nil {
		return nil, nil, err
	}
	f := readStaffFilter(c)
	p := &staffEntriesPage{Comp: comp, Counts: map[models.EntryStatus]int{}, Filter: f, Statuses: models.EntryStatuses, Total: len(all)}
	matched := all[:0:0]
	for i := range all {
		p.Counts[all[i].Status]++
		if f.match(&all[i]) {
			matched = append(matched, all[i])
		}
	}
	p.Matched = len(matched)
	p.CSVQuery = f.query()
	return p, matched, nil
}

// StaffList shows GET /staff/competitions/:id/entries: one page of
// staffPageSize rows (?page=), the filter and search applied over all.
func (h *Entries) StaffList(c *fiber.Ctx) error {
	p, rows, err := h.filtered(c)
	if err != nil {
		return err
	}
	p.Pages = max(1, (len(rows)+staffPageSize-1)/staffPageSize)
	p.Page = min(max(1, c.QueryInt("page", 1)), p.Pages)
	from := (p.Page - 1) * staffPageSize
	p.Entries = rows[from:min(len(rows), from+staffPageSize)]
	link := func(n int) string {
		q := p.CSVQuery
		if n > 1 {
			if q != "" {
				q += "&"
			}
			q += "page=" + strconv.Itoa(n)
		}
		if q != "" {
			q = "?" + q
		}
		return "/staff/competitions/" + p.Comp.ID + "/entries" + q
	}
	if p.Page > 1 {
		p.PrevURL = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.NextURL = link(p.Page + 1)
	}
	d := Page(c, h.Views, "page.staff_entries", p)
	f := p.Filter
	d.Form = map[string]string{"status": f.Status, "track": f.Track, "sector": f.Sector, "commune": f.Commune, "women_led": f.WomenLed, "q": f.Q}
	return Render(c, h.Views, fiber.StatusOK, "staff_entries", d)
}

// StaffCSV handles GET /staff/competitions/:id/entries.csv: the filtered
// list as CSV that Excel opens correctly (UTF-8 with a byte-order mark),
// streamed row by row: the response is never held whole in memory.
func (h *Entries) StaffCSV(c *fiber.Ctx) error {
	p, rows, err := h.filtered(c)
	if err != nil {
		return err
	}
	tr := h.Views.I18n.For(Lang(c))
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: "entries:exported", Target: p.Comp.ID, IP: c.IP(), Detail: p.CSVQuery})
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="entries-%d.csv"`, p.Comp.Year))
	head := []string{"id", "entry.title", "csv.leader", "label.commune", "entry.track", "entry.sector", "entry.stage",
		"comp.status", "csv.women_led", "entry.funding_need", "csv.team_size", "csv.submitted_at", "entry.deck"}
	for i, k := range head {
		if k != "id" {
			head[i] = tr.T(k)
		}
	}
	yes, no := tr.T("csv.yes"), tr.T("csv.no")
	label := map[string]string{}
	t := func(k string) string {
		v, ok := label[k]
		if !ok {
			v = tr.T(k)
			label[k] = v
		}
		return v
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if _, err := w.WriteString("\ufeff"); err != nil {
			return
		}
		cw := csv.NewWriter(w)
		_ = cw.Write(head)
		for i := range rows {
			e := &rows[i]
			submitted, track, sector, stage := "", "", "", ""
			if e.SubmittedAt != nil {
				submitted = e.SubmittedAt.In(models.VietnamZone).Format("2006-01-02 15:04")
			}
			if e.Track != "" {
				track = t("track." + e.Track)
			}
			if e.Sector != "" {
				sector = t("sector." + e.Sector)
			}
			if e.Stage != "" {
				stage = t("stage." + e.Stage)
			}
			women := no
			if e.WomenLed {
				women = yes
			}
			if err := cw.Write([]string{e.ID, csvSafe(e.Title), csvSafe(e.LeaderName), csvSafe(e.Commune), track, sector, stage,
				t("entry_status." + string(e.Status)), women, strconv.FormatInt(e.FundingNeed, 10),
				strconv.Itoa(e.TeamSize), submitted, csvSafe(e.Deck)}); err != nil {
				return
			}
			if i%200 == 199 {
				cw.Flush()
				if cw.Error() != nil || w.Flush() != nil {
					return // the client went away
				}
			}
		}
		cw.Flush()
	})
	return nil
}

// csvSafe stops spreadsheet formula injection: a cell starting with = + - @
// (or a tab/CR) is prefixed with a quote so Excel shows it as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// StaffDetail shows GET /staff/entries/:id, audited: staff views of
// personal data are logged (DOMAIN.md).
func (h *Entries) StaffDetail(c *fiber.Ctx) error {
	e, err := h.Store.EntryByID(Ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return err
	}
	leader, err := h.Store.UserByID(Ctx(c), e.LeaderID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: CurrentUser(c).ID, Action: "entry:viewed", Target: e.ID, IP: c.IP()})
	return Render(c, h.Views, fiber.StatusOK, "staff_entry", Page(c, h.Views, "page.staff_entry", entryPage{Entry: e, Comp: comp, Fields: entryFormValues(e), Leader: leader}))
}

// StaffReopen handles POST /staff/entries/:id/reopen.
func (h *Entries) StaffReopen(c *fiber.Ctx) error {
	if err := h.reopen(c, c.Params("id"), strings.TrimSpace(c.FormValue("reason"))); err != nil {
		return err
	}
	flash(c, "flash.entry_reopened")
	return c.Redirect("/staff/entries/"+c.Params("id"), fiber.StatusSeeOther)
}
