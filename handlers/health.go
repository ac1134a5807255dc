package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check is one readiness probe: a named dependency and how to ping it.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Health answers the liveness and readiness probes.
type Health struct {
	Checks []Check
}

// Live handles GET /healthz: the process is up.
func (h *Health) Live(c *fiber.Ctx) error {
	return writeJSON(c, fiber.StatusOK, fiber.Map{"status": "ok"})
}

// Ready handles GET /readyz: MongoDB answers and the bucket is reachable;
// otherwise 503 naming the failing part.
func (h *Health) Ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(Ctx(c), 3*time.Second)
	defer cancel()
	checks := fiber.Map{}
	var failing []string
	for _, ch := range h.Checks {
		if err := ch.Ping(ctx); err != nil {
			checks[ch.Name] = "unavailable"
			failing = append(failing, ch.Name)
			continue
		}
		checks[ch.Name] = "ok"
	}
	if len(failing) > 0 {
		return writeJSON(c, fiber.StatusServiceUnavailable, fiber.Map{"status": "unavailable", "failing": failing, "checks": checks})
	}
	return writeJSON(c, fiber.StatusOK, fiber.Map{"status": "ok", "checks": checks})
}
