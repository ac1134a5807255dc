package models

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// EntryStatus is where an entry is.
type EntryStatus string

// Entry states.
const (
	EntryDraft     EntryStatus = "draft"
	EntrySubmitted EntryStatus = "submitted"
	EntryWithdrawn EntryStatus = "withdrawn"
)

// EntryStatuses lists them in display order.
var EntryStatuses = []EntryStatus{EntryDraft, EntrySubmitted, EntryWithdrawn}

// Member is one person of a team besides the leader.
type Member struct {
	Name      string `bson:"name" json:"name" validate:"required,max=120"`
	Role      string `bson:"role" json:"role" validate:"max=80"`
	BirthYear int    `bson:"birth_year" json:"birth_year" validate:"omitempty,min=1900,max=2100"`
	Gender    string `bson:"gender" json:"gender" validate:"omitempty,oneof=female male other"`
	Email     string `bson:"email" json:"email" validate:"omitempty,email,max=254"`
}

// Deck is a stored pitch-deck version.
type Deck struct {
	Key         string    `bson:"key" json:"-"`
	Filename    string    `bson:"filename" json:"filename"`
	Size        int64     `bson:"size" json:"size"`
	SHA256      string    `bson:"sha256" json:"sha256"`
	ContentType string    `bson:"content_type" json:"content_type"`
	UploadedAt  time.Time `bson:"uploaded_at" json:"uploaded_at"`
	UploadedBy  string    `bson:"uploaded_by" json:"-"`
}

// Event is one line of an entry's timeline.
type Event struct {
	At   time.Time `bson:"at" json:"at"`
	Kind string    `bson:"kind" json:"kind"` // created, edited, deck, submitted, withdrawn, reopened
	By   string    `bson:"by" json:"-"`
	Note string    `bson:"note,omitempty" json:"note,omitempty"`
}

// Dossier holds the fields of DOMAIN.md an applicant fills in.
type Dossier struct {
	Title         string `bson:"title" json:"title"`
	Track         string `bson:"track" json:"track"`
	Sector        string `bson:"sector" json:"sector"`
	Stage         string `bson:"stage" json:"stage"`
	Summary       string `bson:"summary" json:"summary"`
	Problem       string `bson:"problem" json:"problem"`
	Solution      string `bson:"solution" json:"solution"`
	Customers     string `bson:"customers" json:"customers"`
	Market        string `bson:"market" json:"market"`
	Advantage     string `bson:"advantage" json:"advantage"`
	BusinessModel string `bson:"business_model" json:"business_model"`
	Technology    string `bson:"technology" json:"technology"`
	Plan          string `bson:"plan" json:"plan"`
	FundingNeed   int64  `bson:"funding_need" json:"funding_need"`
	Impact        string `bson:"impact" json:"impact"`
	Commune       string `bson:"commune" json:"commune"`
	FoundedYear   int    `bson:"founded_year,omitempty" json:"founded_year,omitempty"` // project track
}

// Entry is an applicant's idea in one competition. Everything that must
// change together lives in this one document; changes are conditional
// updates on version.
type Entry struct {
	ID            string `bson:"_id" json:"id"`
	CompetitionID string `bson:"competition_id" json:"competition_id"`
	LeaderID      string `bson:"leader_id" json:"leader_id"`
	LeaderName    string `bson:"leader_name" json:"leader_name"`
	Dossier       `bson:",inline"`
	Team          []Member    `bson:"team" json:"team"`
	Status        EntryStatus `bson:"status" json:"status"`
	Version       int         `bson:"version" json:"version"`
	Deck          *Deck       `bson:"deck,omitempty" json:"deck,omitempty"`
	DeckHistory   []Deck      `bson:"deck_history" json:"deck_history"`
	Timeline      []Event     `bson:"timeline" json:"timeline"`
	WomenLed      bool        `bson:"women_led" json:"women_led"`
	Search        string      `bson:"search" json:"-"` // diacritics-folded text for search
	SubmittedAt   *time.Time  `bson:"submitted_at,omitempty" json:"submitted_at,omitempty"`
	CreatedAt     time.Time   `bson:"created_at" json:"created_at"`
	UpdatedAt     time.Time   `bson:"updated_at" json:"updated_at"`
}

// Editable reports whether the applicant may still change the entry.
func (e *Entry) Editable() bool { return e.Status == EntryDraft }

// Fold lower-cases s and strips Vietnamese diacritics (đ → d), so that
// "bac ha" finds "Bắc Hà". FerretDB has no text indexes, so entries keep a
// folded copy of their searchable text.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.NewReplacer("đ", "d", "Đ", "d").Replace(out)
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

// Refresh recomputes the derived fields (search text, women-led flag)
// from the dossier and team. leaderGender is the leader's stated gender.
func (e *Entry) Refresh(leaderGender string) {
	parts := []string{e.Title, e.LeaderName, e.Commune, e.Summary}
	women, total := 0, 1
	if leaderGender == "female" {
		women++
	}
	for _, m := range e.Team {
		parts = append(parts, m.Name)
		total++
		if m.Gender == "female" {
			women++
		}
	}
	e.Search = Fold(strings.Join(parts, " "))
	// Contest-stage proxy for "women-led": the leader is a woman or women
	// are the majority of the team (ownership is checked in the programme).
	e.WomenLed = leaderGender == "female" || women*2 > total
}

// Leader is what submission rules need to know about the leader.
type Leader struct {
	BirthYear int
	Province  string
}

// CheckSubmission returns every unmet rule for submitting e to c: dossier
// completeness, a deck, team size, ages on the closing date, province and
// the project track's founding year. The deadline is checked separately
// (it is a 409, not a 422).
func CheckSubmission(c *Competition, e *Entry, leader Leader) RuleErrors {
	var errs RuleErrors
	add := func(field, key string) { errs = append(errs, &RuleError{Field: field, Key: key}) }
	required := map[string]string{
		"title": e.Title, "track": e.Track, "sector": e.Sector, "stage": e.Stage, "summary": e.Summary,
		"problem": e.Problem, "solution": e.Solution, "customers": e.Customers, "market": e.Market,
		"business_model": e.BusinessModel, "plan": e.Plan, "commune": e.Commune,
	}
	for _, f := range []string{"title", "track", "sector", "stage", "summary", "problem", "solution", "customers", "market", "business_model", "plan", "commune"} {
		if strings.TrimSpace(required[f]) == "" {
			add(f, "error.required_for_submit")
		}
	}
	if e.Deck == nil {
		add("deck", "error.deck_required")
	}
	el := c.Eligibility
	if el.MaxTeam > 0 && len(e.Team)+1 > el.MaxTeam {
		add("team", "error.team_too_large")
	}
	closeYear := c.ClosesAt.In(VietnamZone).Year()
	ageOK := func(birthYear int) bool {
		if birthYear == 0 {
			return false
		}
		// Age on the closing date, by year of birth (the forms ask for the
		// year only): the most generous reading of the rule.
		age := closeYear - birthYear
		return (el.MinAge == 0 || age >= el.MinAge) && (el.MaxAge == 0 || age-1 <= el.MaxAge)
	}
	if !ageOK(leader.BirthYear) {
		add("leader", "error.leader_age")
	}
	for _, m := range e.Team {
		if m.BirthYear != 0 && !ageOK(m.BirthYear) {
			add("team", "error.member_age")
			break
		}
	}
	if el.Province != "" && Fold(leader.Province) != Fold(el.Province) {
		add("leader", "error.province")
	}
	if e.Track == "project" && el.ProjectMaxYears > 0 {
		if e.FoundedYear == 0 || closeYear-e.FoundedYear > el.ProjectMaxYears {
			add("founded_year", "error.founded_year")
		}
	}
	if e.Track != "" && !contains(c.Tracks, e.Track) {
		add("track", "error.track_invalid")
	}
	if e.Sector != "" && len(c.Sectors) > 0 && !contains(c.Sectors, e.Sector) {
		add("sector", "error.sector_invalid")
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// VietnamZone is Asia/Ho_Chi_Minh: UTC+7 all year (no DST since 1975).
var VietnamZone = time.FixedZone("ICT", 7*3600)

// EntryFilter selects entries for lists. Only top-level equality filters
// go to the database (FerretDB pushes those down on PostgreSQL); search and
// commune are matched on the folded text in Go.
type EntryFilter struct {
	CompetitionID string
	LeaderID      string
	Status        string
	Track         string
	Sector        string
	WomenLed      *bool
}
