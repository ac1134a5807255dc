package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// MeStore is what the account page needs.
type MeStore interface {
	ListEntries(ctx context.Context, f models.EntryFilter, limit int64) ([]models.Entry, error)
	ListCompetitions(ctx context.Context) ([]models.Competition, error)
}

// Me shows the signed-in user's own account.
type Me struct {
	Views *views.Views
	Store MeStore
}

// myEntry is one line of "my entries".
type myEntry struct {
	models.Entry
	Competition models.Text
}

// Account shows GET /account: the profile and the entries the user leads.
func (h *Me) Account(c *fiber.Ctx) error {
	entries, err := h.Store.ListEntries(Ctx(c), models.EntryFilter{LeaderID: CurrentUser(c).ID}, 50)
	if err != nil {
		return err
	}
	var mine []myEntry
	if len(entries) > 0 {
		comps, err := h.Store.ListCompetitions(Ctx(c))
		if err != nil {
			return err
		}
		titles := map[string]models.Text{}
		for _, comp := range comps {
			titles[comp.ID] = comp.Title
		}
		for _, e := range entries {
			mine = append(mine, myEntry{Entry: e, Competition: titles[e.CompetitionID]})
		}
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
