package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// compressMin is the smallest body worth compressing: below ~1 KB the
// saving is a few hundred bytes at most, and a small body may even grow.
const compressMin = 1024

// compressor compresses a finished response with brotli or gzip, whichever
// the client accepts (brotli first), if its type is text-like (HTML, CSS,
// JS, JSON, CSV, SVG…): the same fasthttp code as Fiber's compress
// middleware, which has no size threshold of its own (it starts at 200
// bytes). A streamed body (the CSV export) is compressed as it is written,
// never held whole.
var compressor = fasthttp.CompressHandlerBrotliLevel(func(*fasthttp.RequestCtx) {},
	fasthttp.CompressBrotliDefaultCompression, fasthttp.CompressDefaultCompression)

// compress compresses c's response if it is worth it. Run by observe after
// the handler and the error page, so that error pages are compressed too
// and the timing covers the work.
func compress(c *fiber.Ctx) {
	if noCompress(c) {
		return
	}
	r := c.Response()
	if !r.IsBodyStream() && len(r.Body()) < compressMin {
		return
	}
	compressor(c.Context())
}

// noCompress lists what must go out as it is: deck downloads (PDF and
// PPTX are compressed already, and the stream must not be buffered) and
// answers with no body.
func noCompress(c *fiber.Ctx) bool {
	if c.Method() == fiber.MethodHead {
		return true
	}
	if c.Method() == fiber.MethodGet && strings.HasSuffix(c.Path(), "/deck") {
		return true // every deck download, the applicant's and the judges'
	}
	// Only text is worth compressing: decks, images and archives are
	// compressed already.
	ct := string(c.Response().Header.ContentType())
	return !(strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "application/json") ||
		strings.HasPrefix(ct, "application/javascript") || strings.HasPrefix(ct, "image/svg"))
}
