package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/handlers"
)

// An unread body is discarded, to keep the connection alive, up to
// drainCap bytes and for drainWait; past either, the connection is closed.
const (
	drainCap  = 1 << 20
	drainWait = 2 * time.Second
)

// observe gives each request an id, times it, splits the time spent waiting
// on MongoDB from the rest in a Server-Timing header, and logs one line.
func (a *App) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := newRequestID()
	handlers.SetRequestID(c, id)
	c.Set("X-Request-Id", id)
	timer := &store.DBTimer{}
	c.SetUserContext(store.WithDBTimer(c.UserContext(), timer))

	err := c.Next()
	if err != nil {
		// Render the error now so the status and timing below are final.
		if herr := a.errorHandler(c, err); herr != nil {
			a.log.Error("error handler", "err", herr, "request_id", id)
		}
	}
	// A streamed body refused before it was read (CSRF, auth, a full
	// disk…) must be read to its end, or the keep-alive connection would
	// take its rest for the next request. Past the cap, close instead.
	// Through handlers.RequestBody: a chunked body a handler already read
	// to its end must not be read again (that waits on the socket).
	handlers.DrainBody(c, drainCap, drainWait)
	compress(c)
	total := time.Since(start)
	db := timer.Total()
	app := total - db
	if app < 0 {
		app = 0
	}
	c.Set("Server-Timing", fmt.Sprintf("db;dur=%.2f, app;dur=%.2f", ms(db), ms(app)))
	level := slog.LevelInfo
	if c.Response().StatusCode() >= 500 {
		level = slog.LevelError
	}
	a.log.LogAttrs(c.UserContext(), level, "request",
		slog.String("request_id", id),
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", c.Response().StatusCode()),
		slog.Float64("duration_ms", ms(total)),
		slog.Float64("db_ms", ms(db)),
		slog.String("ip", c.IP()),
	)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
