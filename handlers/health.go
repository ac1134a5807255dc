package handlers

import (
	"context"
	"sync"
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
	// Each check gets its own deadline and they run at once, so one part
	// that hangs neither delays nor fails the report on the others.
	results := make([]error, len(h.Checks))
	var wg sync.WaitGroup
	for i, ch := range h.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(Ctx(c), 3*time.Second)
			defer cancel()
			results[i] = ch.Ping(ctx)
		}()
	}
	wg.Wait()
	checks := fiber.Map{}
	failing := []string{}
	for i, ch := range h.Checks {
		if results[i] != nil {
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
