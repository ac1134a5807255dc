package handlers

import (
	_ "embed" // the OpenAPI document ships inside the binary

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument is the contract of the JSON API under /api/v1, written by
// hand; app/openapi_test.go holds the routes and the answers to it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI handles GET /api/v1/openapi.json: the OpenAPI 3.1 document of
// the JSON API.
func OpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(fiber.StatusOK).Send(openAPIDocument)
}
