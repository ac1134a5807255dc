package handlers

import (
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/uploads"
)

type bodyKey struct{}

// endedBody remembers how a streamed body ended. fasthttp's chunked body
// stream parses a fresh chunk header on every Read, even after the
// terminating chunk: a second read to the end (the handler's drain, then
// the one in the request middleware) waits on the socket for a chunk the
// client will never send, and the answer only leaves when the client gives
// up (issue 7, item 2). After the first io.EOF or error, every Read returns
// it again without touching the connection.
type endedBody struct {
	r   io.Reader
	n   int64 // bytes read
	err error
}

func (b *endedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}

// RequestBody returns the request's streamed body, or nil when it is not
// streamed (or was already read into memory). Every caller of one request
// gets the same reader, so however many of them read it to its end, the
// connection is read once.
func RequestBody(c *fiber.Ctx) io.Reader {
	if b, ok := c.Locals(bodyKey{}).(*endedBody); ok {
		return b
	}
	s := c.Context().RequestBodyStream()
	if s == nil {
		return nil
	}
	b := &endedBody{r: s}
	c.Locals(bodyKey{}, b)
	return b
}

// DrainBody reads what is left of a streamed body, at most limit bytes and
// for at most wait, so that a keep-alive connection stays in step (the rest
// of a body would be parsed as the next request). When more is left, or
// the client is too slow to send it, it stops and sets Connection: close
// instead, so a refused request costs the server little whatever the
// client declared or keeps sending. A body whose declared Content-Length
// leaves more than limit unread is not read at all.
func DrainBody(c *fiber.Ctx, limit int64, wait time.Duration) {
	body, _ := RequestBody(c).(*endedBody)
	if body == nil || errors.Is(body.err, io.EOF) || c.Response().Header.ConnectionClose() {
		// Nothing streamed, already at its end, or closing anyway.
		return
	}
	if body.err != nil {
		// Broken off (a timeout, a cut-off slow upload): what is left
		// on the connection is not a request.
		c.Set(fiber.HeaderConnection, "close")
		return
	}
	if cl := c.Request().Header.ContentLength(); cl >= 0 && int64(cl)-body.n > limit {
		c.Set(fiber.HeaderConnection, "close")
		return
	}
	if conn := c.Context().Conn(); conn != nil && wait > 0 {
		// fasthttp sets the next request's read deadline itself.
		_ = conn.SetReadDeadline(time.Now().Add(wait))
	}
	if err := uploads.Drain(body, limit); err != nil {
		c.Set(fiber.HeaderConnection, "close")
	}
}
