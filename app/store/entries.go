package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

func (s *Store) entries() *mongo.Collection { return s.db.Collection("entries") }

// CreateEntry inserts a draft. The unique index on (competition_id,
// leader_id) makes "one entry per leader" hold even under concurrent
// requests: no check-then-insert.
func (s *Store) CreateEntry(ctx context.Context, e *models.Entry) error {
	now := s.now()
	e.ID = uuid.NewString()
	e.Status = models.EntryDraft
	e.Version = 1
	e.CreatedAt, e.UpdatedAt = now, now
	e.Timeline = []models.Event{{At: now, Kind: "created", By: e.LeaderID}}
	if e.Team == nil {
		e.Team = []models.Member{}
	}
	e.DeckHistory = []models.Deck{}
	// The claim of version 0 names the new entry for RepairRecent, should
	// the process die before its derived rows are written.
	if err := s.claimVersion(ctx, "entries", e.ID, 0, func() (int, error) { return 0, models.ErrStale }); err != nil {
		return err
	}
	if _, err := s.entries().InsertOne(ctx, e); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			s.repairLeader(ctx, e.CompetitionID, e.LeaderID)
			return models.ErrAlreadyLeads
		}
		return unavailable(fmt.Errorf("store: insert entry: %w", err))
	}
	s.afterEntryWritten(ctx, e)
	return nil
}

// EntryByID returns one entry.
func (s *Store) EntryByID(ctx context.Context, id string) (*models.Entry, error) {
	var e models.Entry
	if err := s.entries().FindOne(ctx, bson.M{"_id": id}).Decode(&e); err != nil {
		return nil, unavailable(fmt.Errorf("store: entry %s: %w", id, notFound(err)))
	}
	return &e, nil
}

// explainMiss turns a conditional update that matched nothing into the
// reason: gone, no longer a draft, or changed by someone else.
func (s *Store) explainMiss(ctx context.Context, id string) error {
	e, err := s.EntryByID(ctx, id)
	if err != nil {
		return err
	}
	if e.Status != models.EntryDraft {
		return models.ErrNotEditable
	}
	return models.ErrStale
}

// UpdateEntry saves the dossier and team of e if the entry is still a
// draft at version; otherwise models.ErrStale or models.ErrNotEditable, and
// nothing is written.
func (s *Store) UpdateEntry(ctx context.Context, e *models.Entry, version int, by string) error {
	now := s.now()
	set := bson.M{
		"title": e.Title, "track": e.Track, "sector": e.Sector, "stage": e.Stage, "summary": e.Summary,
		"problem": e.Problem, "solution": e.Solution, "customers": e.Customers, "market": e.Market,
		"advantage": e.Advantage, "business_model": e.BusinessModel, "technology": e.Technology,
		"plan": e.Plan, "funding_need": e.FundingNeed, "impact": e.Impact, "commune": e.Commune,
		"founded_year": e.FoundedYear, "team": e.Team, "search": e.Search, "women_led": e.WomenLed,
		"updated_at": now,
	}
	if err := s.claimVersion(ctx, "entries", e.ID, version, s.entryVersion(ctx, e.ID)); err != nil {
		if errors.Is(err, models.ErrStale) {
			return s.explainMiss(ctx, e.ID)
		}
		return err
	}
	matched, err := s.updateIf(ctx, s.entries(), e.ID, bson.M{"version": version, "status": models.EntryDraft},
		bson.M{"$set": set, "$inc": bson.M{"version": 1}, "$push": bson.M{"timeline": models.Event{At: now, Kind: "edited", By: by}}})
	if err != nil {
		return unavailable(fmt.Errorf("store: update entry: %w", err))
	}
	if !matched {
		return s.explainMiss(ctx, e.ID)
	}
	e.Version, e.UpdatedAt = version+1, now
	s.afterEntryWrite(ctx, e.ID)
	return nil
}

// AttachDeck makes d the entry's current deck and keeps it in the history,
// in one claimed, conditional update (the "ready" step of the upload
// protocol). A concurrent edit is retried, since the deck does not depend
// on the dossier text.
func (s *Store) AttachDeck(ctx context.Context, entryID string, d models.Deck) error {
	return s.AttachDeckAt(ctx, entryID, 0, d)
}

// AttachDeckAt is AttachDeck for a caller that has read the entry at
// version seen (0: unknown): the first attempt claims and updates that
// version without reading the entry again, which saves a round trip per
// upload when nobody changed the entry meanwhile (the usual case). If the
// entry moved on, or is no longer a draft, it reads the entry and goes on
// as AttachDeck does.
func (s *Store) AttachDeckAt(ctx context.Context, entryID string, seen int, d models.Deck) error {
	version := seen
	for attempt := 0; attempt < 10; attempt++ {
		guessed := version > 0
		if !guessed {
			e, err := s.EntryByID(ctx, entryID)
			if err != nil {
				return err
			}
			if e.Status != models.EntryDraft {
				return models.ErrNotEditable
			}
			version = e.Version
		}
		if err := s.claimVersion(ctx, "entries", entryID, version, s.entryVersion(ctx, entryID)); err != nil {
			if errors.Is(err, models.ErrStale) {
				version = 0
				if !guessed {
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			return err
		}
		matched, err := s.updateIf(ctx, s.entries(), entryID, bson.M{"version": version, "status": models.EntryDraft},
			bson.M{"$set": bson.M{"deck": d, "updated_at": d.UploadedAt}, "$inc": bson.M{"version": 1},
				"$push": bson.M{"deck_history": d, "timeline": models.Event{At: d.UploadedAt, Kind: "deck", By: d.UploadedBy, Note: d.Filename}}})
		if err != nil {
			return unavailable(fmt.Errorf("store: attach deck: %w", err))
		}
		if matched {
			s.afterEntryWrite(ctx, entryID)
			return nil
		}
		version = 0
	}
	return models.ErrStale
}

// entryVersion reads an entry's current version (for stale-claim recovery).
func (s *Store) entryVersion(ctx context.Context, id string) func() (int, error) {
	return func() (int, error) {
		e, err := s.EntryByID(ctx, id)
		if err != nil {
			return 0, err
		}
		return e.Version, nil
	}
}

// SetEntryStatus moves an entry from one of from to to, with a claimed,
// conditional update. It reports changed=false when the entry was already
// in to (a repeated submit), so repeats are harmless and happen once.
func (s *Store) SetEntryStatus(ctx context.Context, id string, from []models.EntryStatus, to models.EntryStatus, by, note string) (changed bool, err error) {
	for attempt := 0; attempt < 20; attempt++ {
		e, err := s.EntryByID(ctx, id)
		if err != nil {
			return false, err
		}
		if e.Status == to {
			return false, nil
		}
		ok := false
		for _, f := range from {
			ok = ok || e.Status == f
		}
		if !ok {
			return false, models.ErrNotEditable
		}
		if err := s.claimVersion(ctx, "entries", id, e.Version, s.entryVersion(ctx, id)); err != nil {
			if errors.Is(err, models.ErrStale) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return false, err
		}
		now := s.now()
		set := bson.M{"status": to, "updated_at": now}
		if to == models.EntrySubmitted {
			set["submitted_at"] = now
		}
		matched, err := s.updateIf(ctx, s.entries(), id, bson.M{"version": e.Version, "status": e.Status},
			bson.M{"$set": set, "$inc": bson.M{"version": 1}, "$push": bson.M{"timeline": models.Event{At: now, Kind: string(to), By: by, Note: note}}})
		if err != nil {
			return false, unavailable(fmt.Errorf("store: entry status: %w", err))
		}
		if matched {
			s.afterEntryWrite(ctx, id)
			return true, nil
		}
	}
	return false, models.ErrStale
}

// listProjection leaves the long dossier text out of list queries.
var listProjection = bson.M{"problem": 0, "solution": 0, "customers": 0, "market": 0, "advantage": 0,
	"business_model": 0, "technology": 0, "plan": 0, "impact": 0, "timeline": 0, "deck_history": 0}

// ListEntries returns the entries matching f, newest first, at most limit.
func (s *Store) ListEntries(ctx context.Context, f models.EntryFilter, limit int64) ([]models.Entry, error) {
	q := bson.M{}
	for k, v := range map[string]string{"competition_id": f.CompetitionID, "leader_id": f.LeaderID, "status": f.Status, "track": f.Track, "sector": f.Sector} {
		if v != "" {
			q[k] = v
		}
	}
	if f.WomenLed != nil {
		q["women_led"] = *f.WomenLed
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetProjection(listProjection)
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := s.entries().Find(ctx, q, opts)
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list entries: %w", err))
	}
	out := []models.Entry{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: list entries: %w", err))
	}
	return out, nil
}

// QueueMail puts a message in the outbox.
func (s *Store) QueueMail(ctx context.Context, to, subject, body string) error {
	m := models.OutboxMail{ID: uuid.NewString(), To: to, Subject: subject, Body: body, CreatedAt: s.now()}
	if _, err := s.db.Collection("outbox").InsertOne(ctx, m); err != nil {
		return unavailable(fmt.Errorf("store: queue mail: %w", err))
	}
	return nil
}

// ListOutbox returns the newest messages.
func (s *Store) ListOutbox(ctx context.Context, limit int64) ([]models.OutboxMail, error) {
	cur, err := s.db.Collection("outbox").Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: outbox: %w", err))
	}
	out := []models.OutboxMail{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: outbox: %w", err))
	}
	return out, nil
}

// UnsentMail returns messages not yet sent and not given up on (fewer than
// models.MailMaxAttempts attempts), oldest first.
func (s *Store) UnsentMail(ctx context.Context, limit int64) ([]models.OutboxMail, error) {
	cur, err := s.db.Collection("outbox").Find(ctx, bson.M{"sent_at": nil, "attempts": bson.M{"$lt": models.MailMaxAttempts}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: unsent mail: %w", err))
	}
	out := []models.OutboxMail{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: unsent mail: %w", err))
	}
	return out, nil
}

// MarkMail records a send attempt.
func (s *Store) MarkMail(ctx context.Context, id string, sendErr error) error {
	upd := bson.M{"$inc": bson.M{"attempts": 1}}
	if sendErr == nil {
		upd["$set"] = bson.M{"sent_at": s.now()}
	} else {
		upd["$set"] = bson.M{"last_error": sendErr.Error()}
	}
	_, err := s.db.Collection("outbox").UpdateOne(ctx, bson.M{"_id": id}, upd)
	return unavailable(wrap("store: mark mail", err))
}
