package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sprout-vn/sprout/models"
)

// A competition's panel is one small document, _id = the competition's id:
// its members (with sectors, chair flags and declared conflicts) and the
// rounds whose assignments are released. Every change is a versioned write
// (claim, then update by _id), so two staff editing at once cannot lose
// each other's change.

func (s *Store) panels() *mongo.Collection { return s.db.Collection("panels") }

// PanelByCompetition returns the competition's panel; a competition without
// one gets an empty panel at version 0.
func (s *Store) PanelByCompetition(ctx context.Context, compID string) (*models.Panel, error) {
	var p models.Panel
	err := s.panels().FindOne(ctx, bson.M{"_id": compID}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &models.Panel{ID: compID, Members: []models.PanelMember{}}, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: panel %s: %w", compID, err))
	}
	return &p, nil
}

// SavePanel writes p if the stored panel is still at version; otherwise
// models.ErrStale. p.Version becomes the new version.
func (s *Store) SavePanel(ctx context.Context, p *models.Panel, version int) error {
	p.UpdatedAt = s.now()
	if version == 0 {
		p.Version = 1
		if _, err := s.panels().InsertOne(ctx, p); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return models.ErrStale
			}
			return unavailable(fmt.Errorf("store: insert panel: %w", err))
		}
		return nil
	}
	cur := func() (int, error) {
		q, err := s.PanelByCompetition(ctx, p.ID)
		if err != nil {
			return 0, err
		}
		return q.Version, nil
	}
	if err := s.claimVersion(ctx, "panels", p.ID, version, cur); err != nil {
		return err
	}
	ok, err := s.updateIf(ctx, s.panels(), p.ID, bson.M{"version": version}, bson.M{
		"$set": bson.M{"members": p.Members, "released": p.Released, "per_entry": p.PerEntry, "updated_at": p.UpdatedAt},
		"$inc": bson.M{"version": 1},
	})
	if err != nil {
		return unavailable(fmt.Errorf("store: update panel: %w", err))
	}
	if !ok {
		return models.ErrStale
	}
	p.Version = version + 1
	return nil
}

// ChangePanel applies change to the current panel and saves it, retrying a
// few times when another writer got there first.
func (s *Store) ChangePanel(ctx context.Context, compID string, change func(*models.Panel) error) (*models.Panel, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.PanelByCompetition(ctx, compID)
		if err != nil {
			return nil, err
		}
		v := p.Version
		if err := change(p); err != nil {
			return nil, err
		}
		err = s.SavePanel(ctx, p, v)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, models.ErrStale) || attempt >= 4 {
			return nil, err
		}
	}
}
