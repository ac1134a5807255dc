package app

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/uploads"
)

// largestDeck is the largest deck cap a competition may have (the bound
// models.Competition's validation puts on deck.max_bytes).
const largestDeck = 200 << 20

// expectContinue answers "Expect: 100-continue" from the headers alone. A
// deck upload that declares a body no competition could accept gets 413
// before the client sends a byte of it, and the connection is closed;
// everything else is told to go on. (Without Expect, fasthttp reads the
// first 8 KiB of a body before the handler runs; the handler then refuses
// a declared length over the competition's cap without reading more.)
func (a *App) expectContinue(ctx *fasthttp.RequestCtx) int {
	h := &ctx.Request.Header
	m := string(h.Method())
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	if (m != fiber.MethodPut && m != fiber.MethodPost) || !strings.HasSuffix(path, "/deck") ||
		int64(h.ContentLength()) <= largestDeck+uploads.MaxFormOverhead {
		return fasthttp.StatusContinue
	}
	tr := a.views.I18n.For(viewsMatch(string(h.Cookie(handlers.LangCookie)), string(h.Peek(fiber.HeaderAcceptLanguage))))
	msg := tr.T("error.deck_too_large")
	ctx.Response.Header.Set(fiber.HeaderCacheControl, "no-store")
	if strings.HasPrefix(path, "/api/") {
		b, _ := json.Marshal(errorBody{Error: errorDetail{Code: "too_large", Message: msg}})
		ctx.Response.Header.SetContentType(fiber.MIMEApplicationJSON)
		ctx.Response.SetBody(b)
	} else {
		ctx.Response.Header.SetContentType(fiber.MIMETextPlainCharsetUTF8)
		ctx.Response.SetBodyString(msg)
	}
	return fasthttp.StatusRequestEntityTooLarge
}
