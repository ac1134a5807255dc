package app

import (
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
)

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// rejectOperatorQueries refuses query and form keys that look like MongoDB
// operators ("status[$ne]", "$where", "a.b"), so they never reach a filter
// (SECURITY.md 23).
func rejectOperatorQueries(c *fiber.Ctx) error {
	bad := false
	c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
		if handlers.IsOperatorKey(string(k)) {
			bad = true
		}
	})
	if bad {
		return &handlers.HTTPError{Status: fiber.StatusBadRequest, Code: "operator_key", Key: "error.operator_key"}
	}
	return c.Next()
}

// limitBody reads bodies of ordinary requests with a cap, so a huge or
// endless chunked body cannot fill memory; deck uploads are skipped because
// they stream and count their own bytes.
func limitBody(max int64, skip func(*fiber.Ctx) bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		stream := c.Context().RequestBodyStream()
		if stream == nil || skip(c) {
			return c.Next()
		}
		if cl := c.Request().Header.ContentLength(); cl > int(max) {
			c.Set(fiber.HeaderConnection, "close")
			return fiber.ErrRequestEntityTooLarge
		}
		body, err := io.ReadAll(io.LimitReader(stream, max+1))
		if err != nil {
			return fiber.ErrBadRequest
		}
		if int64(len(body)) > max {
			c.Set(fiber.HeaderConnection, "close")
			return fiber.ErrRequestEntityTooLarge
		}
		c.Request().SetBody(body)
		if ct := string(c.Request().Header.ContentType()); strings.HasPrefix(ct, fiber.MIMEApplicationForm) {
			bad := false
			c.Request().PostArgs().VisitAll(func(k, _ []byte) {
				if handlers.IsOperatorKey(string(k)) {
					bad = true
				}
			})
			if bad {
				return &handlers.HTTPError{Status: fiber.StatusBadRequest, Code: "operator_key", Key: "error.operator_key"}
			}
		}
		return c.Next()
	}
}

// requireUser lets signed-in users through. Others get 401 (API) or, for
// a page they asked for, the sign-in page.
func requireUser(c *fiber.Ctx) error {
	if handlers.CurrentUser(c) != nil {
		return c.Next()
	}
	if !isAPI(c) && c.Method() == fiber.MethodGet {
		// Back to the page asked for after signing in.
		return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
	}
	return models.ErrUnauthorized
}

// requireRole lets through users holding any of roles; others get 403.
func requireRole(roles ...models.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := handlers.CurrentUser(c)
		if u == nil {
			return requireUser(c)
		}
		if !u.HasRole(roles...) {
			return models.ErrForbidden
		}
		return c.Next()
	}
}
