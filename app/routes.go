package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// isUpload reports whether a request streams a deck (it counts its own
// bytes, so the ordinary body cap does not apply).
func isUpload(c *fiber.Ctx) bool {
	return strings.HasSuffix(c.Path(), "/deck") && (c.Method() == fiber.MethodPut || c.Method() == fiber.MethodPost)
}

// routes wires middleware and handlers. Each handler gets only what it uses.
func (a *App) routes(valid *handlers.Validator) {
	w := a.web
	st := a.store
	w.Use(a.observe)
	w.Use(recover.New(recover.Config{EnableStackTrace: true}))
	w.Use(a.securityHeaders())
	w.Use("/static", filesystem.New(filesystem.Config{Root: httpFS(views.Static()), MaxAge: 3600}))

	health := &handlers.Health{Checks: []handlers.Check{
		{Name: "mongodb", Ping: st.Ping},
		{Name: "s3", Ping: a.bucket.Ping},
	}}
	w.Get("/healthz", health.Live)
	w.Get("/readyz", health.Ready)

	w.Use(rejectOperatorQueries)
	w.Use(limitBody(formBodyLimit, isUpload))
	w.Use(language)
	w.Use(a.loadSession)
	w.Use(a.authenticate)

	hasher := handlers.NewHasher(passwordHashSlots)
	home := &handlers.Home{Views: a.views, Store: st, Now: a.now}
	accounts := &handlers.Accounts{Store: nudgingStore{st, a.mailer}, Hasher: hasher, Views: a.views, Valid: valid, Now: a.now, BaseURL: a.cfg.BaseURL}
	auth := &handlers.Auth{Store: st, Hasher: hasher, Views: a.views, TokenTTL: TokenTTL}
	me := &handlers.Me{Views: a.views, Store: st}
	admin := &handlers.Admin{Store: st, Hasher: hasher, Views: a.views, Valid: valid}
	comps := &handlers.Competitions{Store: st, Views: a.views, Valid: valid, Now: a.now}
	entries := &handlers.Entries{Store: nudgingStore{st, a.mailer}, Views: a.views, Valid: valid, Now: a.now, BaseURL: a.cfg.BaseURL, MailSends: a.mailer != nil}
	outbox := &handlers.Outbox{Store: st, Views: a.views, Sending: a.mailer != nil}
	staffOnly := requireRole(models.RoleStaff, models.RoleAdmin)
	// Presigned redirects only to an S3 address browsers can reach.
	decks := &handlers.Decks{Entries: entries, Store: st, Decks: a.decks, Now: a.now, Redirect: a.cfg.S3PublicURL != ""}

	w.Get("/", home.Show)
	w.Post("/lang", home.SetLanguage)
	w.Get("/register", accounts.RegisterForm)
	w.Post("/register", accounts.Register)
	w.Get("/login", auth.LoginForm)
	w.Post("/login", auth.Login)
	w.Post("/logout", auth.Logout)
	w.Get("/account", requireUser, me.Account)
	w.Get("/competitions/:id", entries.CompetitionPage)
	w.Post("/competitions/:id/entries", requireRole(models.RoleApplicant), entries.StartEntry)
	w.Get("/entries/:id", requireUser, entries.EntryPage)
	w.Post("/entries/:id", requireUser, entries.SaveEntry)
	w.Post("/entries/:id/submit", requireUser, entries.SubmitEntry)
	w.Post("/entries/:id/deck", requireUser, decks.FormPost)
	w.Post("/entries/:id/withdraw", requireUser, entries.WithdrawEntry)

	staff := w.Group("/staff", staffOnly)
	staff.Get("/", comps.StaffList)
	staff.Get("/outbox", outbox.Page)
	staff.Get("/competitions/new", comps.NewForm)
	staff.Post("/competitions", comps.Create)
	staff.Get("/competitions/:id", comps.EditForm)
	staff.Post("/competitions/:id", comps.Update)
	staff.Post("/competitions/:id/transition", comps.Transition)
	staff.Get("/competitions/:id/entries", entries.StaffList)
	staff.Get("/competitions/:id/entries.csv", entries.StaffCSV)
	staff.Get("/entries/:id", entries.StaffDetail)
	staff.Post("/entries/:id/reopen", entries.StaffReopen)
	staff.Post("/entries/:id/restore", entries.StaffRestore)

	adm := w.Group("/admin", requireRole(models.RoleAdmin))
	adm.Get("/users", admin.Users)
	adm.Post("/users", admin.CreateUser)
	adm.Post("/users/:id/disable", admin.SetDisabled(true))
	adm.Post("/users/:id/enable", admin.SetDisabled(false))

	api := w.Group("/api/v1")
	api.Get("/openapi.json", handlers.OpenAPI)
	api.Post("/accounts", accounts.APIRegister)
	api.Post("/tokens", auth.APICreateToken)
	api.Delete("/tokens/current", requireUser, auth.APIDeleteToken)
	api.Get("/me", requireUser, me.APIMe)
	api.Get("/competitions", comps.APIList)
	api.Get("/competitions/:id", comps.APIGet)
	api.Post("/competitions", staffOnly, comps.APICreate)
	api.Patch("/competitions/:id", staffOnly, comps.APIPatch)
	api.Post("/competitions/:id/transition", staffOnly, comps.APITransition)
	api.Post("/competitions/:id/entries", requireRole(models.RoleApplicant), entries.APICreate)
	api.Get("/entries/:id", requireUser, entries.APIGet)
	api.Patch("/entries/:id", requireUser, entries.APIPatch)
	api.Post("/entries/:id/submit", requireUser, entries.APISubmit)
	api.Put("/entries/:id/deck", requireUser, decks.APIPut)
	api.Get("/entries/:id/deck", requireUser, decks.Download)
	api.Post("/entries/:id/withdraw", requireUser, entries.APIWithdraw)
	api.Post("/entries/:id/reopen", staffOnly, entries.APIReopen)
	api.Post("/entries/:id/restore", staffOnly, entries.APIRestore)
	apiAdmin := api.Group("/users", requireRole(models.RoleAdmin))
	apiAdmin.Post("/", admin.APICreateUser)
	apiAdmin.Post("/:id/disable", admin.APISetDisabled(true))
	apiAdmin.Post("/:id/enable", admin.APISetDisabled(false))

	council := &handlers.Council{Store: nudgingStore{st, a.mailer}, Decks: blindDecks{a.decks}, Views: a.views, Valid: valid, Now: a.now, BaseURL: a.cfg.BaseURL}
	councilRoutes(w, api, council)
	passwords := &handlers.Passwords{Store: nudgingStore{st, a.mailer}, Hasher: hasher, Views: a.views, BaseURL: a.cfg.BaseURL}
	profiles := &handlers.Profiles{Store: st, Views: a.views, Valid: valid}
	exports := &handlers.Exports{Store: st, Decks: blindDecks{a.decks}, Views: a.views, Now: a.now}
	accountRoutes(w, api, passwords, profiles, exports)

	w.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
