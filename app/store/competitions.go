package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

// CreateCompetition inserts c as a draft.
func (s *Store) CreateCompetition(ctx context.Context, c *models.Competition) error {
	now := s.now()
	c.ID = uuid.NewString()
	c.Status = models.CompDraft
	c.Version = 1
	c.CreatedAt, c.UpdatedAt = now, now
	if _, err := s.db.Collection("competitions").InsertOne(ctx, c); err != nil {
		return unavailable(fmt.Errorf("store: insert competition: %w", err))
	}
	return nil
}

// CompetitionByID returns one competition.
func (s *Store) CompetitionByID(ctx context.Context, id string) (*models.Competition, error) {
	var c models.Competition
	if err := s.db.Collection("competitions").FindOne(ctx, bson.M{"_id": id}).Decode(&c); err != nil {
		return nil, unavailable(fmt.Errorf("store: competition %s: %w", id, notFound(err)))
	}
	return &c, nil
}

// ListCompetitions returns every competition, newest first (a handful per
// year, so one plain find).
func (s *Store) ListCompetitions(ctx context.Context) ([]models.Competition, error) {
	cur, err := s.db.Collection("competitions").Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "opens_at", Value: -1}}))
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list competitions: %w", err))
	}
	out := []models.Competition{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: list competitions: %w", err))
	}
	return out, nil
}

// UpdateCompetition saves c's settings if its version is still version;
// otherwise models.ErrStale.
func (s *Store) UpdateCompetition(ctx context.Context, c *models.Competition, version int) error {
	c.UpdatedAt = s.now()
	set := bson.M{
		"title": c.Title, "description": c.Description, "year": c.Year, "tracks": c.Tracks, "sectors": c.Sectors,
		"eligibility": c.Eligibility, "opens_at": c.OpensAt, "closes_at": c.ClosesAt, "deck": c.Deck,
		"rounds": c.Rounds, "prizes": c.Prizes, "updated_at": c.UpdatedAt,
	}
	if err := s.claimVersion(ctx, "competitions", c.ID, version, s.compVersion(ctx, c.ID)); err != nil {
		return err
	}
	matched, err := s.updateIf(ctx, s.db.Collection("competitions"), c.ID, bson.M{"version": version},
		bson.M{"$set": set, "$inc": bson.M{"version": 1}})
	if err != nil {
		return unavailable(fmt.Errorf("store: update competition: %w", err))
	}
	if !matched {
		if _, err := s.CompetitionByID(ctx, c.ID); err != nil {
			return err
		}
		return models.ErrStale
	}
	c.Version = version + 1
	return nil
}

// TransitionCompetition moves a competition from → to, only if it is still
// in from (a conditional update: two staff clicking at once change it once).
func (s *Store) TransitionCompetition(ctx context.Context, id string, from, to models.CompetitionStatus) error {
	c, err := s.CompetitionByID(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != from {
		return models.ErrBadTransition
	}
	if err := s.claimVersion(ctx, "competitions", id, c.Version, s.compVersion(ctx, id)); err != nil {
		if errors.Is(err, models.ErrStale) {
			return models.ErrBadTransition
		}
		return err
	}
	matched, err := s.updateIf(ctx, s.db.Collection("competitions"), id, bson.M{"status": from, "version": c.Version},
		bson.M{"$set": bson.M{"status": to, "updated_at": s.now()}, "$inc": bson.M{"version": 1}})
	if err != nil {
		return unavailable(fmt.Errorf("store: transition competition: %w", err))
	}
	if !matched {
		if _, err := s.CompetitionByID(ctx, id); err != nil {
			return err
		}
		return models.ErrBadTransition
	}
	return nil
}

func (s *Store) compVersion(ctx context.Context, id string) func() (int, error) {
	return func() (int, error) {
		c, err := s.CompetitionByID(ctx, id)
		if err != nil {
			return 0, err
		}
		return c.Version, nil
	}
}
