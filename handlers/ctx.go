// Package handlers holds Sprout's HTTP handlers: HTML pages and the JSON API
// under /api/v1, one resource or action per file. Each handler declares the
// few store methods it needs as a small interface.
package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// Typed keys for fiber Locals, so no other package can collide with them.
type localKey int

const (
	keyUser localKey = iota
	keyLang
	keyRequestID
	keyCSRF
	keyAuthVia
	keyFlash
)

// AuthVia says how a request was authenticated.
type AuthVia int

// Ways a request can be authenticated.
const (
	ViaNone AuthVia = iota
	ViaSession
	ViaToken
)

// SetUser records the authenticated user of the request.
func SetUser(c *fiber.Ctx, u *models.User, via AuthVia) {
	c.Locals(keyUser, u)
	c.Locals(keyAuthVia, via)
}

// CurrentUser returns the signed-in user, or nil.
func CurrentUser(c *fiber.Ctx) *models.User {
	u, _ := c.Locals(keyUser).(*models.User)
	return u
}

// Via returns how the request was authenticated.
func Via(c *fiber.Ctx) AuthVia {
	v, _ := c.Locals(keyAuthVia).(AuthVia)
	return v
}

// SetLang records the request's language ("vi" or "en").
func SetLang(c *fiber.Ctx, lang string) { c.Locals(keyLang, lang) }

// Lang returns the request's language.
func Lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(keyLang).(string); ok {
		return l
	}
	return "vi"
}

// SetRequestID records the request id used in logs and error pages.
func SetRequestID(c *fiber.Ctx, id string) { c.Locals(keyRequestID, id) }

// RequestID returns the request id.
func RequestID(c *fiber.Ctx) string { s, _ := c.Locals(keyRequestID).(string); return s }

// CSRFContextKey is where the CSRF middleware leaves the token for templates.
const CSRFContextKey = keyCSRF

// FlashContextKey is where the session middleware leaves a one-time message.
const FlashContextKey = keyFlash

// Ctx returns the request's context for store calls (carries the DB timer).
func Ctx(c *fiber.Ctx) context.Context { return c.UserContext() }

// Page builds the data every template receives.
func Page(c *fiber.Ctx, v *views.Views, titleKey string, page any) *views.Data {
	u := CurrentUser(c)
	csrf, _ := c.Locals(keyCSRF).(string)
	flash, _ := c.Locals(keyFlash).(string)
	return &views.Data{
		Lang:      Lang(c),
		Tr:        v.I18n.For(Lang(c)),
		User:      u,
		CSRF:      csrf,
		Flash:     flash,
		TitleKey:  titleKey,
		Path:      c.Path(),
		Nav:       views.NavFor(u, c.Path()),
		RequestID: RequestID(c),
		Page:      page,
	}
}

// Render writes an HTML page with status.
func Render(c *fiber.Ctx, v *views.Views, status int, name string, d *views.Data) error {
	c.Status(status)
	c.Type("html", "utf-8")
	return v.Render(c.Response().BodyWriter(), name, d)
}
