package app

import (
	"context"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/uploads"
)

// councilRoutes are the advisory council's pages and API. Every handler
// checks who may act through handlers' one authorisation function; the
// role guards here only turn away those who can never qualify.
func councilRoutes(w, api fiber.Router, h *handlers.Council) {
	// Council leads: staff, admins and the panel's chairs (judges), so the
	// pages live outside /staff.
	lead := requireRole(models.RoleStaff, models.RoleAdmin, models.RoleJudge)
	w.Get("/council/:id", lead, h.PanelPage)
	w.Post("/council/:id/judges", lead, h.AddJudge)
	w.Post("/council/:id/judges/:user_id/remove", lead, h.RemoveJudge)
	w.Get("/council/:id/rounds/:round", lead, h.RoundPage)
	w.Get("/council/:id/rounds/:round/ranking", lead, h.RankingPage)
	w.Get("/council/:id/rounds/:round/ranking.csv", lead, h.RankingCSV)
	w.Post("/council/:id/rounds/:round/assign", lead, h.Assign)
	w.Post("/council/:id/rounds/:round/release", lead, h.Release)
	w.Post("/council/:id/rounds/:round/slots", lead, h.AddSlot)
	w.Post("/council/:id/rounds/:round/slots/:aid/:action", lead, h.SlotAction)

	judge := requireRole(models.RoleJudge)
	w.Get("/judge", judge, h.JudgeHome)
	w.Get("/judge/assignments/:id", judge, h.AssignmentPage)
	w.Post("/judge/assignments/:id", judge, h.SaveReview)
	w.Post("/judge/assignments/:id/conflict", judge, h.DeclareConflict)
	w.Get("/judge/assignments/:id/deck", judge, h.Deck)

	api.Get("/competitions/:id/judges", lead, h.APIPanel)
	api.Post("/competitions/:id/judges", lead, h.APIAddJudge)
	api.Delete("/competitions/:id/judges/:user_id", lead, h.APIRemoveJudge)
	api.Post("/competitions/:id/rounds/:round/assign", lead, h.APIAssign)
	api.Post("/competitions/:id/rounds/:round/release", lead, h.APIRelease)
	api.Get("/competitions/:id/rounds/:round/assignments", lead, h.APIRoundAssignments)
	api.Get("/competitions/:id/rounds/:round/ranking", lead, h.APIRanking)
	api.Post("/competitions/:id/rounds/:round/assignments", lead, h.APIAddSlot)
	api.Get("/assignments", judge, h.APIQueue)
	api.Delete("/assignments/:id", lead, h.APIRemoveSlot)
	api.Post("/assignments/:id/move", lead, h.APIMoveSlot)
	api.Post("/assignments/:id/override", judge, h.APIOverride)
	api.Post("/assignments/:id/conflict", judge, h.APIConflict)
	api.Get("/assignments/:id/entry", lead, h.APIJudgeEntry)
	api.Get("/assignments/:id/deck", lead, h.APIDeck)
	api.Put("/assignments/:id/review", judge, h.APIReview)
	api.Get("/assignments/:id/reviews", lead, h.APIReviews)
}

// blindDecks gives the council's handlers the deck store: originals and
// their metadata-free copies.
type blindDecks struct{ d *uploads.Decks }

func (b blindDecks) BlindCopy(ctx context.Context, key, kind string) (string, string, int64, error) {
	return b.d.BlindCopy(ctx, key, kind)
}

func (b blindDecks) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	open := b.d.Open
	if uploads.ValidBlindKey(key) {
		open = b.d.OpenBlind
	}
	obj, info, err := open(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	return obj, info.Size, nil
}
