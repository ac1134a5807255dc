package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/sprout-vn/sprout/models"
)

// Audit appends e to the audit log.
func (s *Store) Audit(ctx context.Context, e models.AuditEvent) error {
	e.ID = uuid.NewString()
	e.At = s.now()
	if _, err := s.audit.InsertOne(ctx, e); err != nil {
		return unavailable(fmt.Errorf("store: audit %s: %w", e.Action, err))
	}
	return nil
}
