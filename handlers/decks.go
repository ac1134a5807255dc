package handlers

import (
	"context"
	"errors"
	"io"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/minio/minio-go/v7"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/uploads"
)

// DeckPipeline is what deck handlers need from uploads.Decks.
type DeckPipeline interface {
	Receive(ctx context.Context, body io.Reader, contentType string, maxBytes int64, owner string, opts ...uploads.ReceiveOption) (*uploads.StoredDeck, error)
	Discard(ctx context.Context, key string) error
	Open(ctx context.Context, key string) (*minio.Object, minio.ObjectInfo, error)
	PresignDownload(ctx context.Context, key, filename string, ttl time.Duration) (*url.URL, error)
}

// DeckStore is what deck handlers need from the store.
type DeckStore interface {
	// AttachDeckAt attaches d to an entry last read at version seen.
	AttachDeckAt(ctx context.Context, entryID string, seen int, d models.Deck) error
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Decks uploads and downloads pitch decks.
type Decks struct {
	Entries *Entries
	Store   DeckStore
	Decks   DeckPipeline
	Now     func() time.Time
	// Redirect allows ?redirect=1 downloads to answer with a presigned URL:
	// only when the URL's S3 address is one browsers can reach
	// (SPROUT_S3_PUBLIC_URL); otherwise they are streamed like the rest.
	Redirect bool
}

// After the answer is known, at most drainLimit bytes of the body are read,
// for at most drainWait, to keep the connection usable; past either the
// connection is closed instead. On success only the closing boundary is
// left; a refused upload is not read to its end (issue 7).
const (
	drainLimit = 1 << 20
	drainWait  = 2 * time.Second
)

// receive streams the deck of the request into S3 and attaches it to the
// entry: the pending → ready protocol of DESIGN.md. A 2xx means the bytes
// are in S3 and the entry names them.
func (h *Decks) receive(c *fiber.Ctx) (_ *models.Deck, err error) {
	body := RequestBody(c)
	defer DrainBody(c, drainLimit, drainWait)
	defer func() {
		if s := retryAfter(err); s != "" {
			c.Set(fiber.HeaderRetryAfter, s)
		}
	}()
	e, err := h.Entries.ownEntry(c, c.Params("id"), false)
	if err != nil {
		return nil, err
	}
	if !e.Editable() {
		return nil, models.ErrNotEditable
	}
	comp, err := h.Entries.Store.CompetitionByID(Ctx(c), e.CompetitionID)
	if err != nil {
		return nil, err
	}
	if !comp.AcceptsEntries(h.Now()) {
		return nil, deadlineError(comp, h.Now())
	}
	if body == nil {
		return nil, &HTTPError{Status: fiber.StatusBadRequest, Code: "no_file", Key: "error.deck_missing"}
	}
	// A declared length that cannot be a deck under the cap is refused
	// before a byte of the body is read, and the connection is closed
	// rather than drained.
	if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > comp.Deck.MaxBytes+uploads.MaxFormOverhead {
		c.Set(fiber.HeaderConnection, "close")
		return nil, &uploads.TooLargeError{Limit: comp.Deck.MaxBytes}
	}
	u := CurrentUser(c)
	stored, err := h.Decks.Receive(Ctx(c), body, c.Get(fiber.HeaderContentType), comp.Deck.MaxBytes, u.ID,
		uploads.Interrupt(interruptRead(c)))
	if err != nil {
		return nil, err
	}
	// The deadline (and the competition's status) is checked again now the
	// upload has ended: one that ends after closes_at is not attached. The
	// deck counts as received at ended, the time it is stamped with.
	ended := h.Now()
	if err := h.stillOpen(Ctx(c), e.CompetitionID, ended); err != nil {
		// Nothing was attached, so the object can go whatever the error.
		_ = h.Decks.Discard(context.WithoutCancel(Ctx(c)), stored.Key)
		return nil, err
	}
	d := models.Deck{Key: stored.Key, Filename: stored.Filename, Size: stored.Size, SHA256: stored.SHA256,
		ContentType: stored.ContentType, UploadedAt: ended.UTC(), UploadedBy: u.ID}
	if err := h.Store.AttachDeckAt(Ctx(c), e.ID, e.Version, d); err != nil {
		// Only a clear refusal discards the object: when the database is
		// unreachable the write may have landed, and the sweeper (which
		// keeps decks an entry names) decides later.
		if !errors.Is(err, models.ErrUnavailable) {
			_ = h.Decks.Discard(context.WithoutCancel(Ctx(c)), stored.Key)
		}
		return nil, err
	}
	// The entry names the object now: that update is DESIGN.md's "ready"
	// step. The record stays pending: the sweeper keeps, and marks ready,
	// pending records an entry names (store.StalePending), so calling
	// Decks.Confirm here would only spend a database write per upload on
	// the request's path (on two cores at 16 uploads at once, each write
	// there cost tens of milliseconds: sproutbench, docs/BENCHMARKS.md).
	return &d, nil
}

// stillOpen re-reads the competition (by _id: fast on every backend) and
// says whether it still takes entries at t.
func (h *Decks) stillOpen(ctx context.Context, compID string, t time.Time) error {
	comp, err := h.Entries.Store.CompetitionByID(ctx, compID)
	if err != nil {
		return err
	}
	if comp.AcceptsEntries(t) {
		return nil
	}
	if err := deadlineError(comp, t); !errors.Is(err, models.ErrDeadlinePassed) {
		return err
	}
	return &HTTPError{Status: fiber.StatusConflict, Code: "deadline_passed", Key: "error.deck_closed", Err: models.ErrDeadlinePassed}
}

// APIPut handles PUT /api/v1/entries/:id/deck (multipart field "deck").
func (h *Decks) APIPut(c *fiber.Ctx) error {
	d, err := h.receive(c)
	if err != nil {
		return deckError(err)
	}
	return writeJSON(c, fiber.StatusCreated, fiber.Map{"filename": d.Filename, "size": d.Size, "sha256": d.SHA256, "content_type": d.ContentType})
}

// FormPost handles POST /entries/:id/deck from the HTML form.
func (h *Decks) FormPost(c *fiber.Ctx) error {
	if _, err := h.receive(c); err != nil {
		err = deckError(err)
		tr := h.Entries.Views.I18n.For(Lang(c))
		if p := Classify(err, tr); p.Status < 500 && p.Status != fiber.StatusNotFound {
			e, lerr := h.Entries.ownEntry(c, c.Params("id"), false)
			if lerr != nil {
				return lerr
			}
			return h.Entries.renderEntry(c, p.Status, e, nil, nil, p.Message)
		}
		return err
	}
	flash(c, "flash.deck_uploaded")
	return c.Redirect("/entries/"+c.Params("id"), fiber.StatusSeeOther)
}

// interruptRead makes a Read of c's body that is blocked on the client
// return at once, and every later one fail: the connection is closed after
// the answer (see DrainBody).
func interruptRead(c *fiber.Ctx) func() {
	conn := c.Context().Conn()
	return func() {
		if conn != nil {
			_ = conn.SetReadDeadline(time.Now())
		}
	}
}

// Retry-After, in seconds, of the refusals that say "later": a slot frees
// within seconds; an account's own uploads take longer to finish.
const (
	retryBusy    = "10"
	retryTooMany = "30"
)

func retryAfter(err error) string {
	switch {
	case errors.Is(err, uploads.ErrBusy):
		return retryBusy
	case errors.Is(err, uploads.ErrTooManyUploads):
		return retryTooMany
	}
	return ""
}

// deckError turns the pipeline's errors into answers the user understands.
func deckError(err error) error {
	var ute *uploads.UnsupportedTypeError
	var zb *uploads.ZipBombError
	var many *uploads.TooManyUploadsError
	switch {
	case errors.As(err, &ute):
		return &HTTPError{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_type", Key: "error.deck_type", Args: []any{"Found", ute.Found}, Err: err}
	case errors.As(err, &zb):
		return &HTTPError{Status: fiber.StatusRequestEntityTooLarge, Code: "archive_too_large", Key: "error.deck_archive", Err: err}
	case errors.Is(err, uploads.ErrTooLarge):
		return &HTTPError{Status: fiber.StatusRequestEntityTooLarge, Code: "too_large", Key: "error.deck_too_large", Err: err}
	case errors.Is(err, uploads.ErrNoFile), errors.Is(err, uploads.ErrBadMultipart):
		return &HTTPError{Status: fiber.StatusBadRequest, Code: "no_file", Key: "error.deck_missing", Err: err}
	case errors.As(err, &many):
		return &HTTPError{Status: fiber.StatusTooManyRequests, Code: "too_many_uploads", Key: "error.deck_too_many_uploads", Args: []any{"Max", many.Max}, Err: err}
	case errors.Is(err, uploads.ErrBusy):
		return &HTTPError{Status: fiber.StatusServiceUnavailable, Code: "uploads_busy", Key: "error.deck_busy", Err: err}
	case errors.Is(err, uploads.ErrTooSlow):
		return &HTTPError{Status: fiber.StatusRequestTimeout, Code: "upload_too_slow", Key: "error.deck_too_slow", Err: err}
	case errors.Is(err, uploads.ErrStorageUnavailable):
		return &HTTPError{Status: fiber.StatusServiceUnavailable, Code: "storage_unavailable", Key: "error.storage_unavailable", Err: err}
	}
	return err
}

// Download handles GET /api/v1/entries/:id/deck: the same authorisation as
// reading the entry, then the bytes as an attachment, or with ?redirect=1
// (when Redirect allows it) a presigned URL that expires within minutes.
func (h *Decks) Download(c *fiber.Ctx) error {
	e, err := h.Entries.ownEntry(c, c.Params("id"), true)
	if err != nil {
		return err
	}
	if e.Deck == nil {
		return models.ErrNotFound
	}
	u := CurrentUser(c)
	if c.Query("redirect") == "1" && h.Redirect {
		link, err := h.Decks.PresignDownload(Ctx(c), e.Deck.Key, e.Deck.Filename, 5*time.Minute)
		if err != nil {
			return deckError(err)
		}
		_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: "deck:url_issued", Target: e.ID, IP: c.IP()})
		return c.Redirect(link.String(), fiber.StatusFound)
	}
	obj, info, err := h.Decks.Open(Ctx(c), e.Deck.Key)
	if err != nil {
		if errors.Is(err, uploads.ErrNotFound) {
			return models.ErrNotFound
		}
		return deckError(err)
	}
	_ = h.Store.Audit(Ctx(c), models.AuditEvent{Actor: u.ID, Action: "deck:downloaded", Target: e.ID, IP: c.IP()})
	c.Set(fiber.HeaderContentType, e.Deck.ContentType)
	c.Set(fiber.HeaderContentDisposition, uploads.ContentDisposition(e.Deck.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.SendStream(obj, int(info.Size))
}
