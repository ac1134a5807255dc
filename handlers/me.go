package handlers

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// MeStore is what the account page needs.
type MeStore interface {
	MyEntries(ctx context.Context, userID string) ([]models.UserRow, error)
	CompetitionByID(ctx context.Context, id string) (*models.Competition, error)
}

// Me shows the signed-in user's own account.
type Me struct {
	Views *views.Views
	Store MeStore
}

// myEntry is one line of "my entries".
type myEntry struct {
	models.UserRow
	Competition models.Text
}

// Account shows GET /account: the profile and the entries the user leads
// (one derived document by _id, then each competition by _id).
func (h *Me) Account(c *fiber.Ctx) error {
	entries, err := h.Store.MyEntries(Ctx(c), CurrentUser(c).ID)
	if err != nil {
		return err
	}
	var mine []myEntry
	titles := map[string]models.Text{}
	for _, e := range entries {
		t, ok := titles[e.CompetitionID]
		if !ok {
			comp, err := h.Store.CompetitionByID(Ctx(c), e.CompetitionID)
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return err
			}
			if comp != nil {
				t = comp.Title
			}
			titles[e.CompetitionID] = t
		}
		mine = append(mine, myEntry{UserRow: e, Competition: t})
	}
	return Render(c, h.Views, fiber.StatusOK, "account", Page(c, h.Views, "page.account", mine))
}

// APIMe handles GET /api/v1/me.
func (h *Me) APIMe(c *fiber.Ctx) error {
	u := CurrentUser(c)
	if u == nil {
		return models.ErrUnauthorized
	}
	return writeJSON(c, fiber.StatusOK, toUserResponse(u))
}
