package app

import (
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/views"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// errorHandler turns any error into the user's answer: JSON under /api,
// an error page elsewhere, in the user's language. 5xx are logged with the
// request id; the user sees a plain message and that id, never err.Error().
func (a *App) errorHandler(c *fiber.Ctx, err error) error {
	tr := a.views.I18n.For(handlers.Lang(c))
	p := handlers.Classify(err, tr)
	rid := handlers.RequestID(c)
	if p.Status >= 500 {
		a.log.LogAttrs(c.UserContext(), slog.LevelError, "request failed",
			slog.String("request_id", rid), slog.String("path", c.Path()), slog.String("err", err.Error()))
	}
	// A handler that knows better (a busy upload slot) has set its own.
	if len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
		if p.Status == fiber.StatusTooManyRequests {
			c.Set(fiber.HeaderRetryAfter, "900")
		}
		if p.Status == fiber.StatusServiceUnavailable {
			c.Set(fiber.HeaderRetryAfter, "30")
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if isAPI(c) || wantsJSON(c) {
		return c.Status(p.Status).JSON(errorBody{Error: errorDetail{Code: p.Code, Message: p.Message, Fields: p.Fields, RequestID: rid}})
	}
	d := handlers.Page(c, a.views, "error."+strconv.Itoa(p.Status), nil)
	if !tr.Has(d.TitleKey) {
		d.TitleKey = "error.500"
	}
	if rerr := handlers.Render(c, a.views, p.Status, "error", d); rerr != nil {
		return c.Status(p.Status).SendString(p.Message)
	}
	return nil
}

func wantsJSON(c *fiber.Ctx) bool {
	return c.Get(fiber.HeaderAccept) == fiber.MIMEApplicationJSON
}

// viewsMatch picks the language (kept here so middleware reads simply).
func viewsMatch(cookie, accept string) string { return views.Match(cookie, accept) }
