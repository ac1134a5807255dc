package uploads

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"golang.org/x/text/unicode/norm"
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
	// Log receives failures to clean up after a failed upload (the
	// sweeper retries those); nil discards them.
	Log *slog.Logger

	poolOnce sync.Once
	pool     *bufferPool // part buffers; see buffers
}

// Slots is a counting semaphore of concurrent S3 streams (see Decks.Slots).
type Slots chan struct{}

// NewSlots makes room for n uploads streaming at once.
func NewSlots(n int) Slots { return make(Slots, n) }

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
// Errors: those of ReadUntilFile (ErrBadMultipart, ErrNoFile), fn's from
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

	if d.Slots != nil {
		select {
		case d.Slots <- struct{}{}:
			defer func() { <-d.Slots }()
		case <-ctx.Done():
			return nil, fmt.Errorf("uploads: waiting for an upload slot: %w", ctx.Err())
		}
	}
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

// partsPerUpload is how many part buffers one upload holds at most: one
// being filled from the client while the other is sent (or both sent at
// once when the client is faster than S3).
const partsPerUpload = 2

// store streams what tally yields to key and returns how many bytes it sent.
// A file that fits in one part is stored with a single PutObject of known
// size. A larger one is a multipart upload driven here rather than by
// minio-go's PutObject with size -1, which reads a part, sends it, and only
// then reads the next: here part n+1 is read from the client while part n
// is being sent, with partsPerUpload reusable buffers, so an upload never
// holds more than partsPerUpload × PartSize. Any failure, or the context's
// cancellation, aborts the multipart upload before store returns (in the
// background if S3 is unreachable; Sweep aborts what that misses).
//
// The error is the reader's, unchanged, when reading failed (tally.err says
// so); otherwise it is S3's, unwrapped.
func (d *Decks) store(ctx context.Context, key string, tally *tallyReader, recorded func() error, opts minio.PutObjectOptions) (int64, error) {
	pool := d.buffers()
	buf := pool.Get()
	crc := crc32.New(castagnoli)
	n, err := fill(tally, *buf, nil, crc)
	sum := crc.Sum(nil)
	if err == nil {
		// A full part: one more byte says whether it is the whole file.
		var next [1]byte
		if _, err = io.ReadFull(tally, next[:]); err == nil {
			r := io.MultiReader(bytes.NewReader(next[:]), tally)
			return d.storeParts(ctx, key, r, pool, buf, n, sum, recorded, opts)
		}
	}
	if err != io.EOF { //nolint:errorlint // io.EOF is returned bare by contract
		pool.Put(buf)
		return 0, err
	}
	if err := recorded(); err != nil {
		pool.Put(buf)
		return 0, err
	}
	// The whole file is in buf. It goes with its CRC32C, as parts do
	// (see partOptions).
	core := minio.Core{Client: d.Bucket.Client}
	single := opts
	single.UserMetadata = map[string]string{amzChecksumCRC32C: base64.StdEncoding.EncodeToString(sum)}
	body, done := pool.body(*buf, n)
	_, err = core.PutObject(ctx, d.Bucket.Name, key, body, int64(n), "", "", single)
	done()
	pool.Put(buf)
	if err != nil {
		return 0, err
	}
	return int64(n), nil
}

// storeParts sends first (n bytes, full, with CRC32C sum) as part 1 of a
// new multipart upload and the rest of r as the following parts, then
// completes the upload. It owns first.
func (d *Decks) storeParts(ctx context.Context, key string, r io.Reader, pool *bufferPool, first *[]byte, n int, sum []byte, recorded func() error, opts minio.PutObjectOptions) (int64, error) {
	up := newPartUpload(ctx, d.Bucket, key, pool)
	go up.initiate(recorded, opts)
	up.send(1, first, n, sum)
	sent := int64(n)
	var readErr error
	// Each part's CRC32C is computed as it is read, while the data is in
	// cache.
	h := crc32.New(castagnoli)
	for num := 2; ; num++ {
		buf := up.buffer()
		if buf == nil {
			break // a part failed
		}
		h.Reset()
		n, err := fill(r, *buf, up.failed, h)
		if n > 0 && (err == nil || err == io.EOF) { //nolint:errorlint // io.EOF is returned bare by contract
			up.send(num, buf, n, h.Sum(nil))
			sent += int64(n)
		} else {
			up.release(buf)
		}
		if err == io.EOF { //nolint:errorlint // as above
			break
		}
		if err != nil {
			if !errors.Is(err, errStopped) {
				readErr = err
				up.stop()
			}
			break
		}
	}
	parts, err := up.wait()
	if readErr == nil && err == nil {
		// Each part names its CRC32C, which the server compares with the
		// one it computed when the part arrived.
		if _, err = up.core.CompleteMultipartUpload(ctx, d.Bucket.Name, key, up.uploadID, parts, minio.PutObjectOptions{}); err == nil {
			return sent, nil
		}
	}
	if readErr != nil {
		d.abort(ctx, up, false)
		return 0, readErr
	}
	d.abort(ctx, up, isUnavailable(err))
	return 0, err
}

// abort aborts up's multipart upload, if it was started, on a context
// detached from the request's (which is often the one that was cancelled).
// When S3 failed as unavailable (down, or out of time) it does so in the
// background, as cleanUp skips the removal then: the request is answered at
// once instead of waiting out minio-go's retries, and Sweep's
// incomplete-upload pass aborts what this misses.
func (d *Decks) abort(ctx context.Context, up *partUpload, background bool) {
	if up.uploadID == "" {
		return // NewMultipartUpload failed: there is nothing to abort
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	run := func() {
		defer cancel()
		// A part whose request was cancelled may still be arriving at
		// the server (its bytes were already in the socket), and a part
		// stored after the abort brings the upload back (versitygw does,
		// as a separate process). So the abort is repeated until the
		// upload is no longer listed, for up to abortSettle; what is left
		// after that, Sweep's incomplete-upload pass removes.
		deadline := time.Now().Add(abortSettle)
		for {
			if err := up.core.AbortMultipartUpload(ctx, up.bucket, up.key, up.uploadID); err != nil && !isNoSuchUpload(err) {
				d.log().Warn("uploads: abort failed multipart upload", "key", up.key, "err", err)
				return
			}
			listed, err := d.uploadListed(ctx, up)
			if err != nil || !listed || time.Now().After(deadline) {
				return
			}
			time.Sleep(abortRetry)
		}
	}
	if background {
		go run()
		return
	}
	run()
}

// How long abort keeps confirming that an aborted upload stays gone.
const (
	abortSettle = time.Second
	abortRetry  = 25 * time.Millisecond
)

// uploadListed reports whether up's multipart upload is still listed.
func (d *Decks) uploadListed(ctx context.Context, up *partUpload) (bool, error) {
	res, err := up.core.ListMultipartUploads(ctx, up.bucket, up.key, "", "", "", 100)
	if err != nil {
		return false, err
	}
	for _, u := range res.Uploads {
		if u.Key == up.key && u.UploadID == up.uploadID {
			return true, nil
		}
	}
	return false, nil
}

func isNoSuchUpload(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && er.Code == "NoSuchUpload"
}

// errStopped is fill's answer when a part upload failed meanwhile.
var errStopped = errors.New("uploads: upload stopped")

// fill reads r into buf until buf is full (nil error), r ends (io.EOF, with
// what was read before it), r fails, or stop is closed (errStopped). What it
// reads goes through h too, unless h is nil.
func fill(r io.Reader, buf []byte, stop <-chan struct{}, h hash.Hash) (int, error) {
	n := 0
	for n < len(buf) {
		select {
		case <-stop:
			return n, errStopped
		default:
		}
		m, err := r.Read(buf[n:])
		if h != nil {
			h.Write(buf[n : n+m])
		}
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// buffers returns the pool of part buffers, made on first use. It keeps at
// most as many free buffers as the upload slots can use at once
// (partsPerUpload per slot; 16 when uploads are not bounded).
func (d *Decks) buffers() *bufferPool {
	d.poolOnce.Do(func() {
		keep := 16
		if d.Slots != nil {
			keep = partsPerUpload * cap(d.Slots)
		}
		d.pool = newBufferPool(int(d.partSize()), keep, defaultIdle)
	})
	return d.pool
}

// Checksum headers. Every payload goes to S3 with its CRC32C in
// x-amz-checksum-crc32c, which S3, MinIO and versitygw check against the
// bytes they receive and refuse on a mismatch (BadDigest); the header is
// covered by the request's signature. TestS3ChecksPartCRC32C holds the
// test server to it, through this code.
//
// Why CRC32C rather than the payload's SHA-256 in X-Amz-Content-Sha256
// (what this code sent before) or minio-go's default over plain HTTP,
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (a SHA-256 and a signature for every
// 64 KiB chunk): the deck's own SHA-256 is computed anyway, but a second
// SHA-256 per part cost the app, and the S3 server's check of it cost the
// server, a large share of an upload's CPU on the 2-core benchmark machine
// (docs/BENCHMARKS.md), while CRC32C runs in hardware at many GB/s. It
// detects corruption on the way, which is what the check is for; the
// signature still authenticates every request, and TLS to S3
// (SPROUT_S3_SECURE) is what protects the bytes from tampering in
// transit. A multipart upload is created with the CRC32C algorithm so the
// server checks each part's checksum and, at completion, the list of them;
// it then also skips the CRC64NVME it computes otherwise.
const (
	amzChecksumCRC32C    = "X-Amz-Checksum-Crc32c"
	amzChecksumAlgorithm = "X-Amz-Checksum-Algorithm"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// partOptions sends a part with its CRC32C, sum, and an unsigned payload
// (see amzChecksumCRC32C).
func partOptions(sum []byte) minio.PutObjectPartOptions {
	h := make(http.Header, 1)
	h.Set(amzChecksumCRC32C, base64.StdEncoding.EncodeToString(sum))
	return minio.PutObjectPartOptions{CustomHeader: h, DisableContentSha256: true}
}

// partUpload is one multipart upload in flight: the parts being sent, the
// free buffers, and the first failure.
type partUpload struct {
	core   minio.Core
	bucket string
	key    string
	pool   *bufferPool
	parent context.Context // the request's
	ctx    context.Context // the parts': parent, cancelled at the first failure
	cancel context.CancelFunc

	// ready is closed when NewMultipartUpload has returned, with uploadID
	// or initErr set.
	ready    chan struct{}
	uploadID string
	initErr  error

	free     chan *[]byte  // buffers whose part has been sent
	taken    int           // buffers taken from the pool (≤ partsPerUpload)
	failed   chan struct{} // closed at the first failure
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu    sync.Mutex
	parts []minio.CompletePart
	err   error // the first part's failure
}

func newPartUpload(parent context.Context, b *Bucket, key string, pool *bufferPool) *partUpload {
	ctx, cancel := context.WithCancel(parent)
	return &partUpload{
		core:   minio.Core{Client: b.Client},
		bucket: b.Name,
		key:    key,
		pool:   pool,
		parent: parent,
		ctx:    ctx,
		cancel: cancel,
		ready:  make(chan struct{}),
		taken:  1, // the first part's, taken by store
		free:   make(chan *[]byte, partsPerUpload),
		failed: make(chan struct{}),
	}
}

// initiate starts the multipart upload; parts wait for it. A failure of the
// reader or of a part does not interrupt it (only the request's end does):
// an upload the server made must be known here to be aborted.
//
// It first waits for the pending record: if that failed, nothing is started.
func (u *partUpload) initiate(recorded func() error, opts minio.PutObjectOptions) {
	if err := recorded(); err != nil {
		u.initErr = err
		u.fail(err)
		close(u.ready)
		return
	}
	opts.UserMetadata = map[string]string{amzChecksumAlgorithm: "CRC32C"}
	u.uploadID, u.initErr = u.core.NewMultipartUpload(u.parent, u.bucket, u.key, opts)
	if u.initErr != nil {
		u.fail(u.initErr)
	}
	close(u.ready)
}

// send uploads buf[:n], whose CRC32C is sum, as part num in the
// background and gives buf back for the next part once it has been sent.
func (u *partUpload) send(num int, buf *[]byte, n int, sum []byte) {
	u.wg.Go(func() {
		<-u.ready
		if u.initErr != nil {
			u.free <- buf
			return
		}
		body, done := u.pool.body(*buf, n)
		part, err := u.core.PutObjectPart(u.ctx, u.bucket, u.key, u.uploadID, num, body, int64(n), partOptions(sum))
		done()
		if err != nil {
			u.fail(err)
			u.free <- buf
			return
		}
		u.mu.Lock()
		u.parts = append(u.parts, minio.CompletePart{PartNumber: num, ETag: part.ETag,
			ChecksumCRC32C: base64.StdEncoding.EncodeToString(sum)})
		u.mu.Unlock()
		u.free <- buf
	})
}

// buffer returns a buffer to read the next part into, waiting for a part to
// be sent if partsPerUpload are in use, or nil once a part has failed.
func (u *partUpload) buffer() *[]byte {
	select {
	case <-u.failed:
		return nil
	default:
	}
	if u.taken < partsPerUpload {
		u.taken++
		return u.pool.Get()
	}
	select {
	case buf := <-u.free:
		return buf
	case <-u.failed:
		return nil
	}
}

// release gives back a buffer that was not sent.
func (u *partUpload) release(buf *[]byte) { u.free <- buf }

// fail records err, if it is the first failure, and stops the upload.
func (u *partUpload) fail(err error) {
	u.mu.Lock()
	if u.err == nil {
		u.err = err
	}
	u.mu.Unlock()
	u.stop()
}

// stop tells the reader to stop and cancels the parts in flight.
//
// Parts already being sent are given partGrace to finish before they are
// cancelled: a cancelled part may still be stored by the server after the
// upload is aborted (its bytes were already in the socket), which brings
// the upload back. Normally they finish in milliseconds; with S3 down they
// are cut off after partGrace.
func (u *partUpload) stop() {
	u.stopOnce.Do(func() {
		close(u.failed)
		time.AfterFunc(partGrace, u.cancel)
	})
}

// partGrace is how long parts in flight may finish after a failure.
const partGrace = 2 * time.Second

// wait waits for NewMultipartUpload and every part, returns the buffers to
// the pool and the parts in order, with the first failure.
func (u *partUpload) wait() ([]minio.CompletePart, error) {
	u.wg.Wait()
	<-u.ready
	u.cancel() // releases the context; nothing uses it any more
	for len(u.free) > 0 {
		u.pool.Put(<-u.free)
	}
	slices.SortFunc(u.parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	return u.parts, u.err
}

// inspect runs InspectOOXML over the stored object with ranged reads, so a
// large upload is never held in memory.
func (d *Decks) inspect(ctx context.Context, key string, size int64) error {
	obj, err := d.Bucket.Client.GetObject(ctx, d.Bucket.Name, key, minio.GetObjectOptions{})
	if err != nil {
		return storageError("open "+key, err)
	}
	defer obj.Close()
	br := &blockReaderAt{r: obj, size: size}
	err = InspectOOXML(br, size, d.Limits)
	// InspectOOXML calls any read failure a damaged archive; if the read
	// failed because of S3, say so rather than blame the file.
	if br.err != nil {
		return storageError("inspect "+key, br.err)
	}
	return err
}

// cleanUp removes what a failed Receive left: the object, if there can be
// one, and the pending record. Failures are logged and left to Sweep.
func (d *Decks) cleanUp(ctx context.Context, key string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	// With S3 unreachable, a removal would only wait out minio-go's
	// retries. Dropping the record anyway is safe: an object (if the
	// put did complete) is then named by nothing, and Sweep's orphan
	// pass removes it; an unfinished multipart upload goes in its
	// incomplete-upload pass.
	if !errors.Is(cause, ErrStorageUnavailable) {
		if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
			d.log().Warn("uploads: remove failed upload", "key", key, "err", err)
		}
	}
	if err := d.Pending.RemovePending(ctx, key); err != nil {
		d.log().Warn("uploads: remove pending record", "key", key, "err", err)
	}
}

// Confirm marks a received deck ready, after the caller has attached its
// key to the entry. A ready deck is never swept. With a PendingStore that
// leaves referenced keys out of StalePending, Sweep does the same later.
func (d *Decks) Confirm(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("uploads: confirm %q: %w", key, ErrNotFound)
	}
	if err := d.Pending.MarkReady(ctx, key); err != nil {
		return fmt.Errorf("uploads: confirm %s: %w", key, err)
	}
	return nil
}

// Discard removes a deck and its record: a received deck the caller could
// not attach, or a replaced one. The object goes first; if only the record
// goes, Sweep's orphan pass removes the object later.
func (d *Decks) Discard(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("uploads: discard %q: %w", key, ErrNotFound)
	}
	var errs []error
	if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
		errs = append(errs, storageError("remove "+key, err))
	}
	if err := d.Pending.RemovePending(ctx, key); err != nil {
		errs = append(errs, fmt.Errorf("uploads: remove record %s: %w", key, err))
	}
	return errors.Join(errs...)
}

// Sweep removes what failed uploads left behind and returns how many decks
// it removed:
//   - pending records older than olderThan, with their objects (a crash
//     or lost connection between the put and the attach);
//   - unfinished multipart uploads under KeyPrefix started before then
//     (a crash mid-upload; S3 keeps their parts until aborted);
//   - objects under KeyPrefix that no record names and whose LastModified
//     is before then.
//
// The record is always made before the object, so an object without one
// is garbage; the age test keeps Sweep off uploads in flight. olderThan
// must therefore exceed the longest an upload plus its attach can take
// (the server's read timeout, say; an hour is a safe choice): a pending
// record swept under a slow upload would lose that deck.
//
// The orphan pass lists every deck and looks each up by _id (fast on every
// backend); run Sweep every hour or so, not per request.
func (d *Decks) Sweep(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	cutoff := d.now().Add(-olderThan)
	stale, err := d.Pending.StalePending(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("uploads: sweep: list stale records: %w", err)
	}
	for _, key := range stale {
		if ValidKey(key) {
			if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
				return removed, storageError("sweep: remove "+key, err)
			}
		}
		if err := d.Pending.RemovePending(ctx, key); err != nil {
			return removed, fmt.Errorf("uploads: sweep: remove record %s: %w", key, err)
		}
		removed++
	}

	n, err := d.sweepIncomplete(ctx, cutoff)
	removed += n
	if err != nil {
		return removed, err
	}
	n, err = d.sweepOrphans(ctx, cutoff)
	removed += n
	return removed, err
}

// sweepIncomplete aborts multipart uploads started before cutoff.
func (d *Decks) sweepIncomplete(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine if we return early
	var keys []string
	for u := range d.Bucket.Client.ListIncompleteUploads(ctx, d.Bucket.Name, KeyPrefix, true) {
		if u.Err != nil {
			return 0, storageError("sweep: list incomplete uploads", u.Err)
		}
		if u.Initiated.Before(cutoff) {
			keys = append(keys, u.Key)
		}
	}
	removed := 0
	for _, key := range keys {
		if err := d.Bucket.Client.RemoveIncompleteUpload(ctx, d.Bucket.Name, key); err != nil {
			return removed, storageError("sweep: abort upload "+key, err)
		}
		removed++
	}
	return removed, nil
}

// sweepOrphans removes objects older than cutoff that no record names.
func (d *Decks) sweepOrphans(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	removed := 0
	for obj := range d.Bucket.Client.ListObjects(ctx, d.Bucket.Name, minio.ListObjectsOptions{Prefix: KeyPrefix, Recursive: true}) {
		if obj.Err != nil {
			return removed, storageError("sweep: list objects", obj.Err)
		}
		// An upload in flight has no object yet, and one that just
		// completed has a record; the age test covers the moment in
		// between and clock skew with the S3 server.
		if !obj.LastModified.Before(cutoff) {
			continue
		}
		known, err := d.Pending.KnownKey(ctx, obj.Key)
		if err != nil {
			return removed, fmt.Errorf("uploads: sweep: look up %s: %w", obj.Key, err)
		}
		if known {
			continue
		}
		if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return removed, storageError("sweep: remove "+obj.Key, err)
		}
		removed++
	}
	return removed, nil
}

// Open returns the deck under key for streaming to the client, with its
// size and stored content type. The caller closes the object and, as for
// any download, sets Content-Disposition (ContentDisposition) and
// X-Content-Type-Options: nosniff. Check that the user may read the entry
// before calling it: Open checks nothing.
func (d *Decks) Open(ctx context.Context, key string) (*minio.Object, minio.ObjectInfo, error) {
	if !ValidKey(key) {
		return nil, minio.ObjectInfo{}, fmt.Errorf("uploads: open %q: %w", key, ErrNotFound)
	}
	obj, err := d.Bucket.Client.GetObject(ctx, d.Bucket.Name, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, minio.ObjectInfo{}, storageError("open "+key, err)
	}
	// GetObject is lazy; Stat makes the request, so a missing object or
	// an outage shows here rather than halfway into the response.
	info, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		if isNoSuchKey(err) {
			return nil, minio.ObjectInfo{}, fmt.Errorf("uploads: open %s: %w", key, ErrNotFound)
		}
		return nil, minio.ObjectInfo{}, storageError("open "+key, err)
	}
	return obj, info, nil
}

// PresignDownload returns a URL that downloads the deck under key without
// credentials for ttl (at most MaxPresignTTL; DefaultPresignTTL if ttl is
// not positive). The response carries Content-Disposition: attachment with
// filename, and the content type that filename's extension names (pass
// StoredDeck.Filename, whose extension matches the content). Check that the
// user may read the entry, and audit the issuance, before calling it.
func (d *Decks) PresignDownload(ctx context.Context, key, filename string, ttl time.Duration) (*url.URL, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("uploads: presign %q: %w", key, ErrNotFound)
	}
	switch {
	case ttl <= 0:
		ttl = DefaultPresignTTL
	case ttl > MaxPresignTTL:
		ttl = MaxPresignTTL
	case ttl < time.Second:
		ttl = time.Second // the smallest expiry S3 signs
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(filename))
	params.Set("response-content-type", contentTypeForName(filename))
	u, err := d.Bucket.Client.PresignedGetObject(ctx, d.Bucket.Name, key, ttl, params)
	if err != nil {
		// Signing is local, but minio-go may first ask the server for
		// the bucket's region.
		return nil, storageError("presign "+key, err)
	}
	return u, nil
}

// ContentDisposition returns an "attachment" Content-Disposition value for
// filename (cleaned first) in the form RFC 6266 recommends: an ASCII
// filename for old clients (Vietnamese letters lose their accents, other
// non-ASCII becomes '_') and filename* with the UTF-8 name percent-encoded
// as RFC 5987 says.
func ContentDisposition(filename string) string {
	name := CleanFilename(filename)
	return `attachment; filename="` + asciiFallback(name) + `"; filename*=UTF-8''` + rfc5987Encode(name)
}

// asciiFallback folds name to printable ASCII without quotes or
// backslashes, so it can sit in a quoted-string unescaped.
func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// accents split off by NFD
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		case r == '"' || r == '\\' || r < 0x20 || r > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rfc5987Encode percent-encodes every byte that is not an attr-char.
func rfc5987Encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// contentTypeForName maps a stored deck name's extension to its media type.
func contentTypeForName(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".pdf"):
		return ContentTypePDF
	case strings.HasSuffix(lower, ".pptx"):
		return ContentTypePPTX
	}
	return "application/octet-stream"
}

// ValidKey reports whether key is a deck key as Receive makes them:
// KeyPrefix followed by a UUID in canonical form. Keys come from the
// database, but checking them keeps a corrupted or injected value from
// reaching other objects in the bucket.
func ValidKey(key string) bool {
	id, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

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

// Block cache geometry for inspecting stored ZIPs.
const (
	inspectBlockSize = 64 << 10
	inspectBlocks    = 4
)

// blockReaderAt serves ReadAt from a few cached, aligned blocks of r.
// archive/zip reads the central directory and each part in small
// sequential reads (4 KiB through bufio); on a *minio.Object every ReadAt
// is a ranged GET, so without the cache the directory costs one request per
// 4 KiB (measured: 67 ReadAt calls for a 3,000-entry archive, 6 with the
// cache; the directory budget would allow ~270). Memory stays at
// inspectBlocks × inspectBlockSize. Not safe for concurrent use.
type blockReaderAt struct {
	r      io.ReaderAt
	size   int64
	blocks [inspectBlocks]cachedBlock
	next   int   // block to replace next (round robin)
	err    error // first failure of r, for telling storage errors apart
}

type cachedBlock struct {
	off int64
	buf []byte // nil until filled
}

func (b *blockReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("uploads: negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= b.size {
			return n, io.EOF
		}
		blk, err := b.block(off - off%inspectBlockSize)
		if err != nil {
			return n, err
		}
		c := copy(p, blk[off%inspectBlockSize:])
		n += c
		p = p[c:]
		off += int64(c)
	}
	return n, nil
}

// block returns the cached block at offset start, reading it if needed.
func (b *blockReaderAt) block(start int64) ([]byte, error) {
	for _, c := range b.blocks {
		if c.buf != nil && c.off == start {
			return c.buf, nil
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	c := &b.blocks[b.next]
	b.next = (b.next + 1) % inspectBlocks
	want := int(min(inspectBlockSize, b.size-start))
	if cap(c.buf) < want {
		c.buf = make([]byte, inspectBlockSize)
	}
	c.buf = c.buf[:want]
	got, err := b.r.ReadAt(c.buf, start)
	if got < want {
		c.buf = nil
		if err == nil || errors.Is(err, io.EOF) {
			// The object is shorter than it was when stat'ed.
			err = io.ErrUnexpectedEOF
		}
		b.err = err
		return nil, err
	}
	c.off = start
	return c.buf, nil
}
