package app

import (
	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
)

// accountRoutes let people recover their account and correct their data.
func accountRoutes(w, api fiber.Router, pw *handlers.Passwords, pr *handlers.Profiles, ex *handlers.Exports) {
	w.Get("/password/forgot", pw.ForgotForm)
	w.Post("/password/forgot", pw.Forgot)
	w.Get("/password/reset/:token", pw.ResetForm)
	w.Post("/password/reset/:token", pw.Reset)
	w.Get("/account/password", requireUser, pw.ChangeForm)
	w.Post("/account/password", requireUser, pw.Change)
	w.Get("/account/export", requireUser, ex.Export)
	api.Get("/me/export", requireUser, ex.Export)
	w.Get("/account/profile", requireUser, pr.Form)
	w.Post("/account/profile", requireUser, pr.Save)

	admin := requireRole(models.RoleAdmin)
	w.Post("/admin/users/:id/reset", admin, pw.AdminReset)
	api.Post("/users/:id/reset", admin, pw.APIAdminReset)

	api.Post("/password-resets", pw.APIRequestReset)
	api.Post("/password-resets/:token", pw.APIRedeemReset)
	api.Put("/me/password", requireUser, pw.APIChangePassword)
	api.Patch("/me", requireUser, pr.APIPatch)
}
