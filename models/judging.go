package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// Judging errors.
var (
	ErrNotOnPanel     = errors.New("not a member of this competition's panel")
	ErrNotJudge       = errors.New("the user is not a council member")
	ErrRoundUnknown   = errors.New("no such round")
	ErrAlreadyAssigns = errors.New("the round already has assignments")
	ErrReleased       = errors.New("the round's assignments are released")
	ErrRoundLocked    = errors.New("scores can no longer change")
	ErrConflicted     = errors.New("the judge has a conflict of interest with the entry")
)

// PanelMember is a council member on a competition's panel.
type PanelMember struct {
	UserID  string    `bson:"user_id" json:"user_id"`
	Name    string    `bson:"name" json:"name"`
	Email   string    `bson:"email" json:"-"`
	Sectors []string  `bson:"sectors" json:"sectors"`
	Chair   bool      `bson:"chair" json:"chair"`
	AddedAt time.Time `bson:"added_at" json:"added_at"`
	// Conflicts are the entries this judge declared a conflict with (and
	// that no chair overrode): they are never assigned to the judge again.
	Conflicts []string `bson:"conflicts,omitempty" json:"-"`
}

// Panel is a competition's council: one document per competition, read by
// _id (the competition's id).
type Panel struct {
	ID       string        `bson:"_id" json:"competition_id"`
	Members  []PanelMember `bson:"members" json:"judges"`
	Released []string      `bson:"released,omitempty" json:"released"` // round keys whose assignments judges see
	// PerEntry is, per round key, how many judges each entry was given
	// when the round was assigned.
	PerEntry  map[string]int `bson:"per_entry,omitempty" json:"per_entry"`
	Version   int            `bson:"version" json:"version"`
	UpdatedAt time.Time      `bson:"updated_at" json:"updated_at"`
}

// Member returns the panel member with userID.
func (p *Panel) Member(userID string) (*PanelMember, bool) {
	if p == nil {
		return nil, false
	}
	for i := range p.Members {
		if p.Members[i].UserID == userID {
			return &p.Members[i], true
		}
	}
	return nil, false
}

// IsChair reports whether userID chairs the panel.
func (p *Panel) IsChair(userID string) bool {
	m, ok := p.Member(userID)
	return ok && m.Chair
}

// IsReleased reports whether a round's assignments reach the judges.
func (p *Panel) IsReleased(round string) bool { return p != nil && slices.Contains(p.Released, round) }

// AssignmentStatus is where one judge's review of one entry is.
type AssignmentStatus string

// Assignment states.
const (
	AssignPending   AssignmentStatus = "pending"
	AssignDraft     AssignmentStatus = "draft"
	AssignSubmitted AssignmentStatus = "submitted"
	AssignConflict  AssignmentStatus = "conflict" // declared by the judge: the slot is free
)

// ScoreEdit is one change to a submitted review (who, when, old → new).
type ScoreEdit struct {
	At        time.Time `bson:"at" json:"at"`
	By        string    `bson:"by" json:"-"`
	Criterion string    `bson:"criterion" json:"criterion"`
	Old       int       `bson:"old" json:"old"`
	New       int       `bson:"new" json:"new"`
}

// Assignment is one judge's work on one entry in one round, with the
// review inside it, so a review changes in one conditional update.
type Assignment struct {
	ID             string           `bson:"_id" json:"id"`
	CompetitionID  string           `bson:"competition_id" json:"competition_id"`
	Round          string           `bson:"round" json:"round"`
	EntryID        string           `bson:"entry_id" json:"entry_id"`
	JudgeID        string           `bson:"judge_id" json:"-"`
	Status         AssignmentStatus `bson:"status" json:"status"`
	ConflictReason string           `bson:"conflict_reason,omitempty" json:"-"`
	Scores         map[string]int   `bson:"scores,omitempty" json:"scores"`
	Comment        string           `bson:"comment,omitempty" json:"comment"`
	Note           string           `bson:"note,omitempty" json:"note"`
	Total          float64          `bson:"total" json:"total"`
	History        []ScoreEdit      `bson:"history,omitempty" json:"history"`
	SubmittedAt    *time.Time       `bson:"submitted_at,omitempty" json:"submitted_at,omitempty"`
	Version        int              `bson:"version" json:"version"`
	CreatedAt      time.Time        `bson:"created_at" json:"created_at"`
	UpdatedAt      time.Time        `bson:"updated_at" json:"updated_at"`
}

// AssignmentID is the _id of the assignment of judge to entry in round: a
// hash of the four ids, so each triple has exactly one document (the _id is
// unique on every backend) and the id says nothing about the entry to
// someone who does not already know the entry's id.
func AssignmentID(compID, round, entryID, judgeID string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{compID, round, entryID, judgeID}, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// QueueRow is one line of a judge's queue: what the judge's home lists.
type QueueRow struct {
	AssignmentID string           `bson:"id" json:"id"`
	Round        string           `bson:"round" json:"round"`
	EntryID      string           `bson:"entry_id" json:"entry_id"`
	Title        string           `bson:"title" json:"title"`
	Track        string           `bson:"track" json:"track"`
	Sector       string           `bson:"sector" json:"sector"`
	Status       AssignmentStatus `bson:"status" json:"status"`
	Total        float64          `bson:"total" json:"total"`
	// Scores per criterion, for the ranking (read from the queues, never
	// shown to the judge's peers before they submit).
	Scores map[string]int `bson:"scores,omitempty" json:"-"`
}

// JudgeQueue is the derived list of one judge's assignments in one
// competition (_id "<competition>:<judge>"), kept beside the assignments so
// the judge's home is one read by _id. The assignment documents are the
// truth; a row left behind by a crash is put right when the assignment is
// next read or written, and RebuildQueues makes all of them again.
type JudgeQueue struct {
	ID            string     `bson:"_id"`
	CompetitionID string     `bson:"competition_id"`
	JudgeID       string     `bson:"judge_id"`
	Rows          []QueueRow `bson:"rows"`
	UpdatedAt     time.Time  `bson:"updated_at"`
}

// QueueID is the _id of a judge's queue in a competition.
func QueueID(compID, judgeID string) string { return compID + ":" + judgeID }

// QueueCounts are a judge's assignments per state.
type QueueCounts struct {
	Pending   int `json:"pending"`
	Draft     int `json:"draft"`
	Submitted int `json:"submitted"`
}

// Count tallies rows (conflicts are not the judge's work and not counted).
func Count(rows []QueueRow) QueueCounts {
	var c QueueCounts
	for _, r := range rows {
		switch r.Status {
		case AssignPending:
			c.Pending++
		case AssignDraft:
			c.Draft++
		case AssignSubmitted:
			c.Submitted++
		}
	}
	return c
}

// ConflictsWith reports whether a judge (by id and e-mail) leads or is on
// the team of e: such a judge is never assigned e.
func ConflictsWith(e *Entry, judgeID, judgeEmail string) bool {
	if e.LeaderID == judgeID {
		return true
	}
	email := NormalizeEmail(judgeEmail)
	for _, m := range e.Team {
		if email != "" && NormalizeEmail(m.Email) == email {
			return true
		}
	}
	return false
}

// RoundByKey returns the competition's round with key.
func (c *Competition) RoundByKey(key string) (*Round, bool) {
	for i := range c.Rounds {
		if c.Rounds[i].Key == key {
			return &c.Rounds[i], true
		}
	}
	return nil, false
}

// ScoresLocked reports whether reviews of the competition may no longer
// change: once it is finalised or published.
func (c *Competition) ScoresLocked() bool {
	return c.Status == CompFinalized || c.Status == CompPublished
}

// JudgeEntry is an entry as a judge sees it. It is built field by field
// (an allow-list): in a blind round nothing that names the team is set, so
// nothing can reach a judge by being forgotten.
type JudgeEntry struct {
	AssignmentID  string       `json:"assignment_id"`
	Round         string       `json:"round"`
	Blind         bool         `json:"blind"`
	Title         string       `json:"title"`
	Track         string       `json:"track"`
	Sector        string       `json:"sector"`
	Stage         string       `json:"stage"`
	Summary       string       `json:"summary"`
	Problem       string       `json:"problem"`
	Solution      string       `json:"solution"`
	Customers     string       `json:"customers"`
	Market        string       `json:"market"`
	Advantage     string       `json:"advantage"`
	BusinessModel string       `json:"business_model"`
	Technology    string       `json:"technology"`
	Plan          string       `json:"plan"`
	FundingNeed   int64        `json:"funding_need"`
	Impact        string       `json:"impact"`
	Commune       string       `json:"commune,omitempty"`
	FoundedYear   int          `json:"founded_year,omitempty"`
	HasDeck       bool         `json:"has_deck"`
	DeckType      string       `json:"deck_type,omitempty"`
	LeaderName    string       `json:"leader_name,omitempty"`
	Team          []JudgeTeam  `json:"team,omitempty"`
	SubmittedAt   *time.Time   `json:"submitted_at,omitempty"`
	Criteria      []Criterion  `json:"criteria"`
	Review        *Assignment  `json:"review"`
	Others        []OtherScore `json:"others,omitempty"`
}

// JudgeTeam is a team member as a judge of an open (not blind) round sees
// them: name and role, never contact details.
type JudgeTeam struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// OtherScore is another judge's submitted review, shown to a judge who has
// submitted their own. Judges are numbered, not named.
type OtherScore struct {
	Judge   int            `json:"judge"`
	Scores  map[string]int `json:"scores"`
	Total   float64        `json:"total"`
	Comment string         `json:"comment"`
}

// ViewForJudge builds what a judge may see of e in round r.
func ViewForJudge(e *Entry, r *Round, a *Assignment) JudgeEntry {
	v := JudgeEntry{
		AssignmentID: a.ID, Round: r.Key, Blind: r.Blind,
		Title: e.Title, Track: e.Track, Sector: e.Sector, Stage: e.Stage, Summary: e.Summary,
		Problem: e.Problem, Solution: e.Solution, Customers: e.Customers, Market: e.Market,
		Advantage: e.Advantage, BusinessModel: e.BusinessModel, Technology: e.Technology, Plan: e.Plan,
		FundingNeed: e.FundingNeed, Impact: e.Impact, FoundedYear: e.FoundedYear,
		HasDeck: e.Deck != nil, SubmittedAt: e.SubmittedAt, Criteria: r.Criteria, Review: a,
	}
	if e.Deck != nil {
		v.DeckType = e.Deck.ContentType
	}
	if !r.Blind || !r.BlindCommune {
		v.Commune = e.Commune
	}
	if !r.Blind {
		v.LeaderName = e.LeaderName
		for _, m := range e.Team {
			v.Team = append(v.Team, JudgeTeam{Name: m.Name, Role: m.Role})
		}
	}
	return v
}
