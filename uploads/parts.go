package uploads

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

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
