package models

import (
	"fmt"
	"time"
)

// Text is a bilingual string: Vietnamese first, English second.
type Text struct {
	VI string `bson:"vi" json:"vi"`
	EN string `bson:"en" json:"en"`
}

// In returns the text in lang, falling back to the other language.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	if t.VI != "" {
		return t.VI
	}
	return t.EN
}

// CompetitionStatus is where an edition is in its life.
type CompetitionStatus string

// Competition states, in order.
const (
	CompDraft     CompetitionStatus = "draft"
	CompOpen      CompetitionStatus = "open"
	CompClosed    CompetitionStatus = "closed"
	CompJudging   CompetitionStatus = "judging"
	CompFinalized CompetitionStatus = "finalized"
	CompPublished CompetitionStatus = "published"
)

// compTransitions lists the legal steps of the state machine. Closing can
// be undone (to extend a deadline) until judging starts.
var compTransitions = map[CompetitionStatus][]CompetitionStatus{
	CompDraft:     {CompOpen},
	CompOpen:      {CompClosed},
	CompClosed:    {CompOpen, CompJudging},
	CompJudging:   {CompFinalized},
	CompFinalized: {CompPublished},
}

// CanTransition reports whether from → to is a legal step.
func CanTransition(from, to CompetitionStatus) bool {
	for _, s := range compTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Eligibility holds an edition's configurable rules (DOMAIN.md).
type Eligibility struct {
	MinAge          int    `bson:"min_age" json:"min_age"`
	MaxAge          int    `bson:"max_age" json:"max_age"`
	Province        string `bson:"province,omitempty" json:"province,omitempty"`
	MaxTeam         int    `bson:"max_team" json:"max_team"`                                       // members including the leader
	ProjectMaxYears int    `bson:"project_max_years,omitempty" json:"project_max_years,omitempty"` // project track: founded at most N years before closing
}

// DeckRules limit pitch-deck uploads.
type DeckRules struct {
	MaxBytes int64 `bson:"max_bytes" json:"max_bytes"`
}

// DefaultDeckMaxBytes is 20 MiB.
const DefaultDeckMaxBytes = 20 << 20

// Criterion is one line of a rubric.
type Criterion struct {
	Key    string  `bson:"key" json:"key" validate:"required,max=40"`
	Label  Text    `bson:"label" json:"label"`
	Max    int     `bson:"max" json:"max" validate:"min=1,max=1000"`
	Weight float64 `bson:"weight" json:"weight" validate:"min=0,max=100"`
}

// Round is one judging round with its rubric.
type Round struct {
	Key            string      `bson:"key" json:"key" validate:"required,max=40"`
	Name           Text        `bson:"name" json:"name"`
	Blind          bool        `bson:"blind" json:"blind"`
	JudgesPerEntry int         `bson:"judges_per_entry" json:"judges_per_entry" validate:"min=0,max=50"`
	Criteria       []Criterion `bson:"criteria" json:"criteria" validate:"max=30,dive"`
	// BlindCommune hides the entry's commune from judges of a blind round
	// (in a small province the commune can name the team).
	BlindCommune bool `bson:"blind_commune,omitempty" json:"blind_commune"`
	// ClosesAt is when judges should have finished (shown on their home).
	ClosesAt *time.Time `bson:"closes_at,omitempty" json:"closes_at,omitempty"`
	// Ranking is how the round is ranked and what its rule proposes,
	// published with the ranking.
	Ranking RoundRanking `bson:"ranking" json:"ranking"`
}

// RoundRanking is a round's published ranking rules.
type RoundRanking struct {
	Method    RankMethod   `bson:"method,omitempty" json:"method"` // "" = mean
	PerTrack  bool         `bson:"per_track" json:"per_track"`
	Settings  RankSettings `bson:"settings" json:"settings"`
	Rule      AdvanceRule  `bson:"rule" json:"rule"`
	TieBreaks []TieBreak   `bson:"tie_breaks,omitempty" json:"tie_breaks"`
}

// Prize is an award of an edition.
type Prize struct {
	Key   string `bson:"key" json:"key" validate:"required,max=40"`
	Name  Text   `bson:"name" json:"name"`
	Count int    `bson:"count" json:"count" validate:"min=0,max=100"`
}

// Competition is one edition of the contest.
type Competition struct {
	ID          string            `bson:"_id" json:"id"`
	Title       Text              `bson:"title" json:"title"`
	Description Text              `bson:"description" json:"description"`
	Year        int               `bson:"year" json:"year"`
	Tracks      []string          `bson:"tracks" json:"tracks"`
	Sectors     []string          `bson:"sectors" json:"sectors"`
	Eligibility Eligibility       `bson:"eligibility" json:"eligibility"`
	OpensAt     time.Time         `bson:"opens_at" json:"opens_at"`
	ClosesAt    time.Time         `bson:"closes_at" json:"closes_at"`
	Deck        DeckRules         `bson:"deck" json:"deck"`
	Rounds      []Round           `bson:"rounds" json:"rounds"`
	Prizes      []Prize           `bson:"prizes" json:"prizes"`
	Status      CompetitionStatus `bson:"status" json:"status"`
	Version     int               `bson:"version" json:"version"`
	CreatedBy   string            `bson:"created_by" json:"-"`
	CreatedAt   time.Time         `bson:"created_at" json:"created_at"`
	UpdatedAt   time.Time         `bson:"updated_at" json:"updated_at"`
}

// AcceptsEntries reports whether drafts may be created and submitted at now.
func (c *Competition) AcceptsEntries(now time.Time) bool {
	return c.Status == CompOpen && !now.Before(c.OpensAt) && now.Before(c.ClosesAt)
}

// Tracks and sectors offered by default (DOMAIN.md).
var (
	DefaultTracks  = []string{"idea", "project"}
	DefaultSectors = []string{"science_tech", "industry", "agriculture", "education_health", "services_tourism",
		"ecommerce", "traceability", "finance", "social_impact", "ocop", "other"}
	Stages = []string{"idea", "prototype", "revenue"}
)

// DefaultRubric is the 100-point rubric of DOMAIN.md, offered as a preset.
func DefaultRubric() []Criterion {
	c := func(key, vi, en string, max int) Criterion {
		return Criterion{Key: key, Label: Text{VI: vi, EN: en}, Max: max, Weight: 1}
	}
	return []Criterion{
		c("novelty", "Tính mới, sáng tạo", "Novelty", 20),
		c("problem", "Tính cấp thiết, giải quyết vấn đề thực tế", "Real problem", 10),
		c("market", "Thị trường, khả năng thương mại hoá", "Market", 15),
		c("feasibility", "Mô hình / kế hoạch kinh doanh, tính khả thi", "Feasibility", 20),
		c("team", "Đội ngũ, nguồn lực", "Team", 10),
		c("impact", "Tác động kinh tế–xã hội, môi trường", "Impact", 15),
		c("technology", "Ứng dụng KHCN, chuyển đổi số", "Technology", 5),
		c("pitch", "Thuyết trình, phản biện", "Pitch", 5),
	}
}

// ApplyDefaults fills what staff left out with the DOMAIN.md defaults.
func (c *Competition) ApplyDefaults() {
	if len(c.Tracks) == 0 {
		c.Tracks = append([]string(nil), DefaultTracks...)
	}
	if len(c.Sectors) == 0 {
		c.Sectors = append([]string(nil), DefaultSectors...)
	}
	if c.Eligibility.MaxTeam == 0 {
		c.Eligibility.MaxTeam = 3
	}
	if c.Eligibility.MinAge == 0 && c.Eligibility.MaxAge == 0 {
		c.Eligibility.MinAge, c.Eligibility.MaxAge = 18, 35
	}
	if c.Deck.MaxBytes == 0 {
		c.Deck.MaxBytes = DefaultDeckMaxBytes
	}
	for i := range c.Rounds {
		if len(c.Rounds[i].Criteria) == 0 {
			c.Rounds[i].Criteria = DefaultRubric()
		}
	}
}

// CheckCompetition returns the rule errors of a competition's settings.
func CheckCompetition(c *Competition) RuleErrors {
	var errs RuleErrors
	add := func(field, key string) { errs = append(errs, &RuleError{Field: field, Key: key}) }
	if c.Title.VI == "" {
		add("title.vi", "error.title_vi_required")
	}
	if c.Year < 2000 || c.Year > 2200 {
		add("year", "error.year_range")
	}
	if c.OpensAt.IsZero() {
		add("opens_at", "error.date_required")
	}
	if c.ClosesAt.IsZero() {
		add("closes_at", "error.date_required")
	} else if !c.ClosesAt.After(c.OpensAt) {
		add("closes_at", "error.closes_before_opens")
	}
	e := c.Eligibility
	if e.MinAge < 0 || e.MaxAge < e.MinAge || e.MaxAge > 120 {
		add("eligibility.max_age", "error.age_range")
	}
	if e.MaxTeam < 1 || e.MaxTeam > 20 {
		add("eligibility.max_team", "error.team_range")
	}
	if c.Deck.MaxBytes < 1<<20 || c.Deck.MaxBytes > 200<<20 {
		add("deck.max_bytes", "error.deck_size_range")
	}
	for _, t := range c.Tracks {
		if t != "idea" && t != "project" {
			add("tracks", "error.track_invalid")
			break
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Rounds {
		if seen[r.Key] {
			add(fmt.Sprintf("rounds.%d.key", i), "error.round_key_duplicate")
		}
		seen[r.Key] = true
		if m := r.Ranking.Method; m != "" && !m.Valid() {
			add(fmt.Sprintf("rounds.%d.ranking.method", i), "error.rank_method")
		}
		for _, tb := range r.Ranking.TieBreaks {
			switch tb.Kind {
			case TieCriterion, TieMedian, TieMean, TieZScore, TieTrimmed, TieEarliest:
			default:
				add(fmt.Sprintf("rounds.%d.ranking.tie_breaks", i), "error.tie_break")
			}
		}
	}
	return errs
}
