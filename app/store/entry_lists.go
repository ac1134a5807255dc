package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sprout-vn/sprout/models"
)

// Page reads: each is a handful of finds by _id on derived documents
// (entry_index.go, docs/DATA.md), whatever the size of the collections.

// CompetitionRows returns one row per entry of the competition, newest
// first: listBuckets finds by _id, sent at once.
func (s *Store) CompetitionRows(ctx context.Context, compID string) ([]models.ListRow, error) {
	var (
		wg   sync.WaitGroup
		docs [listBuckets]derivedDoc[models.ListRow]
		errs [listBuckets]error
	)
	for i := range listBuckets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.entryLists().FindOne(ctx, bson.M{"_id": fmt.Sprintf("%s:%d", compID, i)}).Decode(&docs[i])
			if !errors.Is(err, mongo.ErrNoDocuments) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, unavailable(fmt.Errorf("store: entry list of %s: %w", compID, err))
	}
	n := 0
	for i := range docs {
		n += len(docs[i].Rows)
	}
	out := make([]models.ListRow, 0, n)
	for i := range docs {
		for _, r := range docs[i].Rows {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// MyEntries returns the rows of the entries userID leads, newest first
// (one find by _id).
func (s *Store) MyEntries(ctx context.Context, userID string) ([]models.UserRow, error) {
	var d derivedDoc[models.UserRow]
	err := s.userEntries().FindOne(ctx, bson.M{"_id": userID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return []models.UserRow{}, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: entries of %s: %w", userID, err))
	}
	out := make([]models.UserRow, 0, len(d.Rows))
	for _, r := range d.Rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// MyEntryIn returns the row of the entry userID leads in compID, or nil.
func (s *Store) MyEntryIn(ctx context.Context, compID, userID string) (*models.UserRow, error) {
	rows, err := s.MyEntries(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].CompetitionID == compID {
			return &rows[i], nil
		}
	}
	return nil, nil
}
