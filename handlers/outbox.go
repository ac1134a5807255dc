package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// outboxLimit is how many of the newest messages the page lists.
const outboxLimit = 200

// Outbox shows staff the e-mails Sprout has queued. Without an SMTP server
// this page is how confirmations reach people (staff forward them by hand);
// with one it shows what went out and what keeps failing.
type Outbox struct {
	Store interface {
		ListOutbox(ctx context.Context, limit int64) ([]models.OutboxMail, error)
	}
	Views   *views.Views
	Sending bool // an SMTP server is configured
}

type outboxPage struct {
	Mail    []models.OutboxMail
	Sending bool
}

// Page shows GET /staff/outbox.
func (h *Outbox) Page(c *fiber.Ctx) error {
	mail, err := h.Store.ListOutbox(Ctx(c), outboxLimit)
	if err != nil {
		return err
	}
	return Render(c, h.Views, fiber.StatusOK, "staff_outbox", Page(c, h.Views, "page.outbox", outboxPage{Mail: mail, Sending: h.Sending}))
}
