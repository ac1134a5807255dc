package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

// What a person's data export gathers besides their account and entries.
// These are plain finds on fields other than _id: they scan the
// collection on FerretDB, which is acceptable for a request a person makes
// a few times at most (Law 91/2025/QH15 gives the controller days, not
// milliseconds); no page reads them.

// AuditAbout returns the audit events a user made or that name them
// (oldest first, at most limit).
func (s *Store) AuditAbout(ctx context.Context, userID string, limit int64) ([]models.AuditEvent, error) {
	out := []models.AuditEvent{}
	for _, f := range []bson.M{{"actor": userID}, {"target": userID}} {
		cur, err := s.audit.Find(ctx, f, options.Find().SetSort(bson.D{{Key: "at", Value: 1}}).SetLimit(limit))
		if err != nil {
			return nil, unavailable(fmt.Errorf("store: audit about user: %w", err))
		}
		var evs []models.AuditEvent
		if err := cur.All(ctx, &evs); err != nil {
			return nil, unavailable(fmt.Errorf("store: audit about user: %w", err))
		}
		for _, e := range evs {
			if f["target"] != nil && e.Actor == userID {
				continue // already in the first list
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// MailTo returns the outbox messages addressed to email.
func (s *Store) MailTo(ctx context.Context, email string) ([]models.OutboxMail, error) {
	cur, err := s.db.Collection("outbox").Find(ctx, bson.M{"to": email}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}))
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: mail to: %w", err))
	}
	out := []models.OutboxMail{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: mail to: %w", err))
	}
	return out, nil
}

// AssignmentsOf returns a judge's assignments with their reviews.
func (s *Store) AssignmentsOf(ctx context.Context, judgeID string) ([]models.Assignment, error) {
	cur, err := s.assignments().Find(ctx, bson.M{"judge_id": judgeID})
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: assignments of judge: %w", err))
	}
	out := []models.Assignment{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, unavailable(fmt.Errorf("store: assignments of judge: %w", err))
	}
	return out, nil
}
