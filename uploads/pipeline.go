package uploads

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
)

// KeyPrefix is where decks live in the bucket. Every object under it is
// named by a pending or ready record, or is garbage that Sweep removes.
const KeyPrefix = "decks/"

// DeckField is the multipart field that carries the deck.
const DeckField = "deck"

// Part sizes and presign lifetimes.
const (
	// DefaultPartSize is the multipart part size Receive uses when
	// Decks.PartSize is zero. An upload holds at most two parts in memory
	// (one read from the client while the other is sent), so twice this
	// times the number of concurrent uploads is the memory uploads take.
	// 5 MiB is the S3 minimum for every part but the last.
	DefaultPartSize = 5 << 20
	// MaxPresignTTL caps how long a presigned download URL works: long
	// enough to start a download, short enough that a leaked link (in a
	// proxy log, a forwarded e-mail) is soon useless.
	MaxPresignTTL = 10 * time.Minute
	// DefaultPresignTTL is used when PresignDownload is given no TTL.
	DefaultPresignTTL = 5 * time.Minute
	// cleanupTimeout bounds the removal of a failed upload. It runs on a
	// context detached from the request's, because a request that failed
	// is often one whose context was cancelled.
	cleanupTimeout = 10 * time.Second
)

// ErrStorageUnavailable means the S3 service could not be reached or
// answered with a server error. Map it to 503 with a message saying the
// upload can be retried later; the draft itself is unaffected.
var ErrStorageUnavailable = errors.New("uploads: deck storage unavailable")

// ErrNotFound means there is no deck under the key (or the key is not a
// deck key at all). Map it to 404.
var ErrNotFound = errors.New("uploads: deck not found")

// PendingStore keeps the record of every deck object, so that an object is
// never in the bucket without something naming it for longer than a sweep
// interval. app/store implements it over the deck_uploads collection.
type PendingStore interface {
	// AddPending records key as an upload in progress by owner.
	AddPending(ctx context.Context, key, owner string) error
	// MarkReady turns key's record ready: it is attached and is never
	// swept. It fails if the record is gone.
	MarkReady(ctx context.Context, key string) error
	// RemovePending deletes key's record, whatever its status.
	RemovePending(ctx context.Context, key string) error
	// StalePending lists keys still pending that were recorded before
	// the given time. Sweep removes their objects, so an implementation
	// that can see what references decks must leave referenced keys out
	// (and may mark them ready): a crash between attaching a deck and
	// Confirm leaves such a record pending.
	StalePending(ctx context.Context, before time.Time) ([]string, error)
	// KnownKey reports whether any record (pending or ready) names key.
	KnownKey(ctx context.Context, key string) (bool, error)
}

// Decks stores pitch decks in the bucket, following DESIGN.md's
// "Consistency without transactions": a pending record with a server-made
// key, then the bytes, then (by the caller) one conditional update that
// attaches the key to the entry, then Confirm. Whatever fails in between
// is removed at once, or by Sweep.
//
// The zero values of Limits, PartSize and Now mean DefaultLimits,
// DefaultPartSize and time.Now. Decks is safe for concurrent use.
type Decks struct {
	Bucket  *Bucket
	Pending PendingStore
	// Limits bound the OOXML inspection of ZIP uploads.
	Limits Limits
	// PartSize is the multipart part size, at least 5 MiB (smaller values
	// are raised to that). See DefaultPartSize for what it costs.
	PartSize uint64
	// Now is the clock Sweep measures age with.
	Now func() time.Time
	// Slots bounds how many uploads stream into S3 at once; each holds at
	// most two PartSize buffers, so this caps deck memory at
	// 2 × Slots × PartSize however many people upload together. The others
	// wait (their clients are held back by TCP) until a slot frees or their
	// request is cancelled. nil means no bound; make it with NewSlots.
	Slots Slots
	// SlotWait bounds the wait for a slot: past it Receive fails with
	// ErrBusy rather than keep the client waiting in silence. Zero waits
	// as long as the request lives.
	SlotWait time.Duration
	// PerOwner caps the uploads one owner (account) may have in progress
	// at once, so that one applicant cannot take every slot; another one
	// fails at once with ErrTooManyUploads. Zero means no cap. It is
	// counted per Decks, i.e. per instance, as the slots are.
	PerOwner int
	// MinRate cuts off uploads that arrive too slowly (ErrTooSlow), so a
	// trickling client holds a slot for a bounded time. The zero value
	// sets no minimum.
	MinRate MinRate
	// Log receives failures to clean up after a failed upload (the
	// sweeper retries those); nil discards them.
	Log *slog.Logger

	poolOnce sync.Once
	pool     *bufferPool // part buffers; see buffers
	owners   ownerCounts // uploads in progress per owner; see PerOwner
}

// StoredDeck describes a deck Receive has stored.
type StoredDeck struct {
	// Key is the object key, "decks/<uuid>", made by the server.
	Key string
	// Filename is the client's name, cleaned and given the extension of
	// the detected kind; it is metadata only, never a key or a path.
	Filename string
	// Size is the number of bytes stored, checked against the bucket.
	Size int64
	// SHA256 is the hex SHA-256 of the bytes as read from the client.
	SHA256 string
	// ContentType is the media type the object was stored with.
	ContentType string
	// Kind is KindPDF or KindPPTX.
	Kind Kind
	// Fields are the text fields that preceded the file in the form.
	Fields map[string]string
}

// ReceiveOption adjusts one call of Receive.
type ReceiveOption func(*receiveOptions)

type receiveOptions struct {
	beforeStore func(fields map[string]string) error
	interrupt   func()
}

// Interrupt gives Receive a way to make a Read of the body that is blocked
// on the client return (the app sets the connection's read deadline to
// now). Receive calls fn when it cuts off an upload that arrives more
// slowly than Decks.MinRate; without it, the cut takes effect at the next
// Read that returns.
func Interrupt(fn func()) ReceiveOption {
	return func(o *receiveOptions) { o.interrupt = fn }
}

// BeforeStore makes Receive call fn with the form fields that precede the
// file (the HTML form sends _csrf first) before it reads a byte of the file
// or records anything. An error from fn is returned as it is and nothing is
// stored: this is where a handler checks the CSRF token, so a cross-site
// post cannot make the server write to S3 at all.
func BeforeStore(fn func(fields map[string]string) error) ReceiveOption {
	return func(o *receiveOptions) { o.beforeStore = fn }
}

// Receive reads a multipart/form-data body up to its "deck" field and
// streams that file to the bucket, never holding more than two parts of it
// in memory (one read from the client while the other is sent). contentType
// is the request's Content-Type; maxBytes caps the file; owner is recorded
// with the pending record (the uploader's user ID).
//
// On success the deck is stored and verified (size as stored equals size
// read; a ZIP is a plain PPTX) and its record is still pending: attach Key
// to the entry with one conditional update, then call Confirm (which a
// caller whose PendingStore leaves keys an entry names out of StalePending
// may leave to Sweep, as the app does, to save a write per upload). If the
// attach is refused (not editable, stale, not found), call Discard; if its
// outcome is unknown (the store was unreachable, so the write may have
// landed), call neither: Sweep keeps the deck if the entry names it and
// removes it otherwise. On any error Receive removes the object and the
// record; what it cannot remove because S3 or MongoDB is unreachable, Sweep
// removes later.
//
// Errors: ErrTooManyUploads (wrapped) when owner has PerOwner uploads in
// progress, before anything is read; ErrBusy (wrapped) when no slot freed
// within SlotWait; ErrTooSlow when the body arrived more slowly than
// MinRate; those of ReadUntilFile (ErrBadMultipart, ErrNoFile), fn's from
// BeforeStore, *UnsupportedTypeError (not a PDF or PPTX, checked before
// anything is stored), *TooLargeError (ErrTooLarge) past maxBytes with or
// without a Content-Length, *ZipBombError, ErrStorageUnavailable (wrapped)
// when S3 is unreachable, and the PendingStore's errors, wrapped.
//
// Receive does not read the body past the file, but for at most
// bodyBufferSize (64 KiB) it buffers and discards. After it returns, success
// or not, the caller must drain the request body, e.g. with
// Drain(body, maxBytes+1<<20), and close the connection if that fails;
// otherwise leftover bytes on a keep-alive connection are parsed as the next
// request (see DESIGN.md, "Uploads, measured here").
func (d *Decks) Receive(ctx context.Context, body io.Reader, contentType string, maxBytes int64, owner string, opts ...ReceiveOption) (*StoredDeck, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("uploads: receive: maxBytes is %d, want > 0", maxBytes)
	}
	var o receiveOptions
	for _, opt := range opts {
		opt(&o)
	}
	releaseOwner, err := d.acquireOwner(owner)
	if err != nil {
		return nil, err
	}
	defer releaseOwner()
	body, stopGuard := guardRate(body, d.MinRate, o.interrupt)
	defer stopGuard()
	// mime/multipart reads its input 4 KiB at a time; straight from a
	// streamed request body each of those reads is a read(2) (fasthttp
	// reads into the caller's buffer when it is as large as its own).
	fp, err := ReadUntilFile(bufio.NewReaderSize(body, bodyBufferSize), contentType, DeckField)
	if err != nil {
		return nil, err
	}
	if o.beforeStore != nil {
		if err := o.beforeStore(fp.Fields); err != nil {
			return nil, err
		}
	}

	// The limit sits under the peek buffer so the sniffed bytes count too.
	file := bufio.NewReaderSize(LimitReader(fp.Part, maxBytes), SniffLen)
	head, err := file.Peek(SniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, bodyError(err)
	}
	kind, err := Sniff(head)
	if err != nil {
		return nil, err
	}
	name := NameForKind(fp.Filename, storedKind(kind))

	releaseSlot, err := d.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer releaseSlot()
	key := KeyPrefix + uuid.NewString()
	// The pending record is written while the first part is read from
	// the client, but nothing is sent to S3 before it exists (put waits
	// for recorded), so an object is never without a record.
	rec := make(chan error, 1)
	go func() { rec <- d.Pending.AddPending(ctx, key, owner) }()
	recorded := sync.OnceValue(func() error {
		if err := <-rec; err != nil {
			return fmt.Errorf("uploads: record pending upload: %w", err)
		}
		return nil
	})
	deck, err := d.put(ctx, key, kind, name, file, recorded)
	if err != nil {
		if rerr := recorded(); rerr != nil {
			// Nothing was sent and there is no record to remove.
			return nil, rerr
		}
		d.cleanUp(ctx, key, err)
		return nil, err
	}
	deck.Filename, deck.Fields = name, fp.Fields
	return deck, nil
}

// storedKind is what an upload of a sniffed kind is stored as. A ZIP is
// stored as a PPTX provisionally: if InspectOOXML rejects it, it is removed
// before anyone can download it.
func storedKind(sniffed Kind) Kind {
	if sniffed == KindZIP {
		return KindPPTX
	}
	return sniffed
}

// put streams r to key and verifies what was stored. It sends nothing to S3
// before recorded has returned nil.
func (d *Decks) put(ctx context.Context, key string, kind Kind, name string, r io.Reader, recorded func() error) (*StoredDeck, error) {
	stored := storedKind(kind)
	tally := &tallyReader{r: r, h: sha256.New()}
	sent, err := d.store(ctx, key, tally, recorded, minio.PutObjectOptions{
		ContentType: ContentTypeFor(stored),
		// Stored with the object so that even a signed GET without
		// response-* overrides downloads rather than renders.
		ContentDisposition: ContentDisposition(name),
		// Each request carries its payload's CRC32C instead; see
		// amzChecksumCRC32C.
		DisableContentSha256: true,
	})
	// A read error is the client's doing (too large, truncated body), not
	// the storage's, whatever the upload failed with meanwhile.
	if tally.err != nil {
		return nil, bodyError(tally.err)
	}
	if err != nil {
		return nil, storageError("store "+key, err)
	}
	if sent != tally.n {
		return nil, fmt.Errorf("uploads: store %s: sent %d bytes of %d read", key, sent, tally.n)
	}
	st, err := d.Bucket.Client.StatObject(ctx, d.Bucket.Name, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, storageError("stat "+key, err)
	}
	if st.Size != tally.n {
		return nil, fmt.Errorf("uploads: store %s: %d bytes stored, %d read", key, st.Size, tally.n)
	}
	if kind == KindZIP {
		if err := d.inspect(ctx, key, st.Size); err != nil {
			return nil, err
		}
	}
	return &StoredDeck{
		Key:         key,
		Size:        tally.n,
		SHA256:      hex.EncodeToString(tally.h.Sum(nil)),
		ContentType: ContentTypeFor(stored),
		Kind:        stored,
	}, nil
}

// bodyBufferSize is the buffer Receive reads the request body through. At
// 4 KiB a read, reading the body from the socket took a quarter of the
// app's CPU during 16 concurrent uploads (profiled with sproutbench); at
// 64 KiB it is a small share.
const bodyBufferSize = 64 << 10

func (d *Decks) partSize() uint64 {
	if d.PartSize < DefaultPartSize {
		return DefaultPartSize
	}
	return d.PartSize
}

func (d *Decks) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Decks) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// storageError wraps an S3 error, marking with ErrStorageUnavailable those
// that mean the service is down or unreachable rather than that the request
// was wrong.
func storageError(what string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %s: %w", ErrStorageUnavailable, what, err)
	}
	return fmt.Errorf("uploads: %s: %w", what, err)
}

// isUnavailable: transport failures, server-side errors, and running out of
// time while talking to S3. minio-go retries connection failures with
// backoff (about ten times), and when the context's deadline ends those
// retries it returns only context.DeadlineExceeded, so that counts as
// unavailable. A cancelled context (the client went away) does not.
func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return true
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch er.Code {
		case "ServiceUnavailable", "SlowDown", "InternalError", "XMinioServerNotInitialized", "RequestTimeout":
			return true
		}
		return er.StatusCode >= 500
	}
	// minio-go's own wording when its health check has marked the
	// endpoint offline.
	return strings.HasSuffix(err.Error(), " is offline.")
}

func isNoSuchKey(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == 404)
}

// tallyReader hashes and counts what passes through it and keeps the first
// read error, so Receive can tell a client's fault from the storage's.
type tallyReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	err error
}

func (t *tallyReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	t.n += int64(n)
	if err != nil && err != io.EOF && t.err == nil { //nolint:errorlint // io.EOF is returned bare by contract
		t.err = err
	}
	return n, err
}
