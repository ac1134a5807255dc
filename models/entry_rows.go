package models

import "time"

// Rows of the derived list documents (docs/DATA.md): what lists show of an
// entry, kept beside the entries so that a page reads a few small
// documents by _id instead of filtering the entries.

// ListRow is one entry's line in the staff list and the CSV export.
type ListRow struct {
	ID          string      `bson:"id"`
	Version     int         `bson:"v"`
	Title       string      `bson:"title"`
	LeaderName  string      `bson:"leader"`
	Status      EntryStatus `bson:"status"`
	Track       string      `bson:"track,omitempty"`
	Sector      string      `bson:"sector,omitempty"`
	Stage       string      `bson:"stage,omitempty"`
	Commune     string      `bson:"commune,omitempty"`
	WomenLed    bool        `bson:"women,omitempty"`
	Search      string      `bson:"q"` // folded title, leader, commune, members
	FundingNeed int64       `bson:"funding,omitempty"`
	TeamSize    int         `bson:"team"`
	Deck        string      `bson:"deck,omitempty"` // current deck's file name
	SubmittedAt *time.Time  `bson:"submitted_at,omitempty"`
	CreatedAt   time.Time   `bson:"created_at"`
	UpdatedAt   time.Time   `bson:"updated_at"`
}

// UserRow is one line of a user's own entries.
type UserRow struct {
	ID            string      `bson:"id"`
	Version       int         `bson:"v"`
	CompetitionID string      `bson:"competition_id"`
	Title         string      `bson:"title"`
	Status        EntryStatus `bson:"status"`
	CreatedAt     time.Time   `bson:"created_at"`
	UpdatedAt     time.Time   `bson:"updated_at"`
}

// RowVersion is the version of the entry the row was made from.
func (r ListRow) RowVersion() int { return r.Version }

// RowVersion is the version of the entry the row was made from.
func (r UserRow) RowVersion() int { return r.Version }

// RowID is the id of the entry the row shows.
func (r ListRow) RowID() string { return r.ID }

// RowID is the id of the entry the row shows.
func (r UserRow) RowID() string { return r.ID }
