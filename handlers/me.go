package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// Me shows the signed-in user's own account.
type Me struct {
	Views *views.Views
}

// Account shows GET /account.
func (h *Me) Account(c *fiber.Ctx) error {
	return Render(c, h.Views, fiber.StatusOK, "account", Page(c, h.Views, "page.account", nil))
}

// APIMe handles GET /api/v1/me.
func (h *Me) APIMe(c *fiber.Ctx) error {
	u := CurrentUser(c)
	if u == nil {
		return models.ErrUnauthorized
	}
	return writeJSON(c, fiber.StatusOK, toUserResponse(u))
}
