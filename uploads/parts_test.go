package uploads_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sprout-vn/sprout/uploads"
)

// TestReceiveParts: decks of one part and of several (with the last part
// full, one byte long, or in between) read back byte-identical, with the
// right SHA-256, size, content type and Content-Disposition; those of more
// than one part are multipart uploads of that many parts, and nothing
// unfinished is left. Each is sent whole and in ragged reads of 1 to 40
// bytes, so that part boundaries fall anywhere in a read (each part goes
// with its SHA-256, computed as it is read, and the server checks it).
func TestReceiveParts(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads of up to 16 MB")
	}
	const part = uploads.DefaultPartSize
	tests := []struct {
		size, parts int // parts 1: a single PutObject
	}{
		{part - 1, 1},
		{part, 1},
		{part + 1, 2},
		{2 * part, 2},
		{3*part + 12_345, 4},
	}
	for _, tt := range tests {
		for _, ragged := range []bool{false, true} {
			name := fmt.Sprint(tt.size)
			if ragged {
				name += "/ragged"
			}
			t.Run(name, func(t *testing.T) { testReceiveParts(t, tt.size, tt.parts, ragged) })
		}
	}
}

func testReceiveParts(t *testing.T, size, parts int, ragged bool) {
	e := newEnv(t)
	file := pdfOfSize(size)
	body, ct := form(t, "Kế hoạch.pdf", file)
	var r io.Reader = bytes.NewReader(body)
	if ragged {
		r = &raggedReader{r: r, rng: mrand.New(mrand.NewPCG(uint64(size), 7))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deck, err := e.decks.Receive(ctx, r, ct, 20<<20, "user-1")
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if deck.Size != int64(len(file)) || deck.SHA256 != sha(file) {
		t.Errorf("size, sha = %d, %s; want %d, %s", deck.Size, deck.SHA256, len(file), sha(file))
	}
	if got := e.readBack(t, deck.Key); !bytes.Equal(got, file) {
		t.Errorf("read back %d bytes (sha %s), want the %d uploaded (sha %s)", len(got), sha(got), len(file), sha(file))
	}
	b := e.decks.Bucket
	st, err := b.Client.StatObject(ctx, b.Name, deck.Key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ContentType != uploads.ContentTypePDF {
		t.Errorf("stored content type %q, want %q", st.ContentType, uploads.ContentTypePDF)
	}
	if cd, want := st.Metadata.Get("Content-Disposition"), uploads.ContentDisposition("Kế hoạch.pdf"); cd != want {
		t.Errorf("stored Content-Disposition %q, want %q", cd, want)
	}
	// A multipart object's ETag is "<md5 of the parts' MD5s>-<parts>".
	_, n, multipart := strings.Cut(st.ETag, "-")
	switch {
	case parts == 1 && multipart:
		t.Errorf("ETag %q: stored as a multipart upload, want a single PutObject", st.ETag)
	case parts > 1 && n != fmt.Sprint(parts):
		t.Errorf("ETag %q: want a multipart upload of %d parts", st.ETag, parts)
	}
	if left := e.incomplete(t); len(left) > 0 {
		t.Errorf("unfinished multipart uploads left: %v", left)
	}
}

// raggedReader returns 1 to 40 bytes a read.
type raggedReader struct {
	r   io.Reader
	rng *mrand.Rand
}

func (r *raggedReader) Read(p []byte) (int, error) {
	if n := 1 + r.rng.IntN(40); len(p) > n {
		p = p[:n]
	}
	return r.r.Read(p)
}

// TestReceiveFailsMidStream: when the client's body fails, or the request
// is cancelled, after two parts have reached S3, Receive fails and leaves
// no object, no unfinished multipart upload (it was aborted, not left to
// Sweep) and no record.
func TestReceiveFailsMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads of 16 MB")
	}
	errClient := errors.New("client went away")
	for _, cancel := range []bool{false, true} {
		name := "body error"
		if cancel {
			name = "request cancelled"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			file := pdfOfSize(3*uploads.DefaultPartSize + 12_345)
			body, ct := form(t, "deck.pdf", file)
			ctx, cancelCtx := context.WithTimeout(context.Background(), time.Minute)
			defer cancelCtx()
			// The file starts where the body ends minus the file and
			// the closing boundary; the reader stops 64 KiB past two
			// parts of it (past what the parsers read ahead).
			start := bytes.Index(body, file[:64])
			if start < 0 {
				t.Fatal("file not found in the form")
			}
			r := &failingReader{
				r:    bytes.NewReader(body),
				stop: int64(start + 2*uploads.DefaultPartSize + 64<<10),
				at: func() error {
					e.waitForParts(t, 2)
					if cancel {
						cancelCtx()
						return nil // the body goes on; the request is gone
					}
					return errClient
				},
			}
			deck, err := e.decks.Receive(ctx, r, ct, 20<<20, "user-1")
			if err == nil {
				t.Fatalf("Receive succeeded: %+v", deck)
			}
			t.Logf("Receive: %v", err)
			if !r.stopped {
				t.Fatal("Receive failed before the body reached the failure point")
			}
			switch {
			case !cancel && (!errors.Is(err, errClient) || !errors.Is(err, uploads.ErrBadMultipart)):
				t.Errorf("err = %v, want the body's error as ErrBadMultipart", err)
			case cancel && !errors.Is(err, context.Canceled):
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if errors.Is(err, uploads.ErrStorageUnavailable) {
				t.Errorf("err %v blames the storage", err)
			}
			e.wantNothingStored(t)
		})
	}
}

// failingReader reads r until stop bytes have passed, then calls at once:
// a non-nil error is returned from then on, nil lets the reading go on.
type failingReader struct {
	r       io.Reader
	n, stop int64
	at      func() error
	stopped bool
	err     error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if !f.stopped {
		if rem := f.stop - f.n; rem == 0 {
			f.stopped = true
			if f.err = f.at(); f.err != nil {
				return 0, f.err
			}
		} else if int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

// waitForParts waits until the one unfinished multipart upload in the bucket
// has want parts uploaded.
func (e *env) waitForParts(tb testing.TB, want int) {
	tb.Helper()
	ctx := context.Background()
	b := e.decks.Bucket
	core := minio.Core{Client: b.Client}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := -1
		for u := range b.Client.ListIncompleteUploads(ctx, b.Name, uploads.KeyPrefix, true) {
			if u.Err != nil {
				tb.Fatalf("list incomplete uploads: %v", u.Err)
			}
			res, err := core.ListObjectParts(ctx, b.Name, u.Key, u.UploadID, 0, 100)
			if err != nil {
				tb.Fatalf("list parts: %v", err)
			}
			got = len(res.ObjectParts)
		}
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d parts uploaded after 20 s, want %d (-1: no unfinished upload)", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestS3ChecksPartCRC32C: every payload goes to S3 with its CRC32C and an
// unsigned body (see amzChecksumCRC32C in pipeline.go), so it is the S3
// server's check of that checksum that keeps bytes changed on the way from
// being stored. Receive runs over a transport that flips one byte in the
// body of one request (a single PutObject, the first part, a later part);
// each upload must fail, leaving no object, no unfinished multipart upload
// and no pending record. The same uploads over a faithful transport succeed,
// so the failures are the corruption's.
func TestS3ChecksPartCRC32C(t *testing.T) {
	const part = uploads.DefaultPartSize
	tests := []struct {
		name    string
		size    int
		corrupt int // which PUT with a body to corrupt (1-based); 0: none
	}{
		{"single", part / 2, 1},
		{"first part", 2*part + 10, 1},
		{"later part", 2*part + 10, 3},
		{"single/faithful", part / 2, 0},
		{"parts/faithful", 2*part + 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			base := e.decks.Bucket
			tr, err := minio.DefaultTransport(false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tr.CloseIdleConnections)
			flip := &corruptingTransport{next: tr, target: int32(tt.corrupt)}
			cfg := servers.s3
			cl, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
				Secure: cfg.Secure, BucketLookup: minio.BucketLookupPath, Transport: flip})
			if err != nil {
				t.Fatal(err)
			}
			decks := &uploads.Decks{Bucket: &uploads.Bucket{Client: cl, Name: base.Name}, Pending: e.st}
			file := pdfOfSize(tt.size)
			body, ct := form(t, "deck.pdf", file)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			deck, err := decks.Receive(ctx, bytes.NewReader(body), ct, 20<<20, "user-1")
			if tt.corrupt == 0 {
				if err != nil {
					t.Fatalf("Receive over a faithful transport: %v", err)
				}
				if got := e.readBack(t, deck.Key); !bytes.Equal(got, file) {
					t.Errorf("read back %d bytes, want the %d uploaded", len(got), len(file))
				}
				return
			}
			if flip.flipped.Load() == 0 {
				t.Fatalf("no request body was corrupted (%d PUTs with a body)", flip.puts.Load())
			}
			if err == nil {
				t.Fatalf("Receive stored a deck whose bytes changed on the way: %+v", deck)
			}
			t.Logf("Receive: %v", err)
			e.wantNothingStored(t)
		})
	}
}

// corruptingTransport flips the last byte of the body of its target-th PUT
// that has a body, after the request was signed.
type corruptingTransport struct {
	next    http.RoundTripper
	target  int32
	puts    atomic.Int32
	flipped atomic.Int32
}

func (c *corruptingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPut || req.Body == nil || req.ContentLength <= 0 {
		return c.next.RoundTrip(req)
	}
	if c.puts.Add(1) != c.target {
		return c.next.RoundTrip(req)
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	b[len(b)-1] ^= 0x55
	c.flipped.Add(1)
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.next.RoundTrip(r)
}

// TestPendingRecordFirst: the pending record is written while the first
// part is read from the client, but no request that can create an object
// reaches S3 before the record exists; and when the record cannot be
// written, Receive fails with that error and sends nothing at all.
func TestPendingRecordFirst(t *testing.T) {
	const part = uploads.DefaultPartSize
	for _, size := range []int{part / 2, 2*part + 10} {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/fail=%v", size, fail), func(t *testing.T) {
				e := newEnv(t)
				tr, err := minio.DefaultTransport(false)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tr.CloseIdleConnections)
				rec := &recordingTransport{next: tr}
				cfg := servers.s3
				cl, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
					Secure: cfg.Secure, BucketLookup: minio.BucketLookupPath, Transport: rec})
				if err != nil {
					t.Fatal(err)
				}
				refusal := errors.New("the database said no")
				slow := &slowPending{PendingStore: e.st, delay: 150 * time.Millisecond}
				if fail {
					slow.err = refusal
				}
				decks := &uploads.Decks{Bucket: &uploads.Bucket{Client: cl, Name: e.decks.Bucket.Name}, Pending: slow}
				body, ct := form(t, "deck.pdf", pdfOfSize(size))
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				deck, err := decks.Receive(ctx, bytes.NewReader(body), ct, 20<<20, "user-1")
				if fail {
					if !errors.Is(err, refusal) {
						t.Fatalf("Receive = %v, %v; want the pending store's error", deck, err)
					}
					if n := rec.writes.Load(); n != 0 {
						t.Errorf("%d requests that write reached S3 although the record failed", n)
					}
					e.wantNothingStored(t)
					return
				}
				if err != nil {
					t.Fatalf("Receive: %v", err)
				}
				recordedAt, firstWrite := slow.doneAt.Load(), rec.firstWrite.Load()
				if recordedAt == 0 || firstWrite == 0 {
					t.Fatalf("recorded at %d, first write at %d: want both", recordedAt, firstWrite)
				}
				if firstWrite < recordedAt {
					t.Errorf("a write reached S3 %v before the pending record existed", time.Duration(recordedAt-firstWrite))
				}
			})
		}
	}
}

// slowPending delays AddPending, then fails it with err or records the time
// it returned.
type slowPending struct {
	uploads.PendingStore
	delay  time.Duration
	err    error
	doneAt atomic.Int64 // UnixNano
}

func (s *slowPending) AddPending(ctx context.Context, key, owner string) error {
	time.Sleep(s.delay)
	if s.err != nil {
		return s.err
	}
	err := s.PendingStore.AddPending(ctx, key, owner)
	s.doneAt.Store(time.Now().UnixNano())
	return err
}

// recordingTransport notes the requests that can create an object or an
// upload (PUT and POST) and when the first one was sent.
type recordingTransport struct {
	next       http.RoundTripper
	writes     atomic.Int32
	firstWrite atomic.Int64 // UnixNano
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut || req.Method == http.MethodPost {
		if r.writes.Add(1) == 1 {
			r.firstWrite.Store(time.Now().UnixNano())
		}
	}
	return r.next.RoundTrip(req)
}

// TestReceiveReusesBuffers: uploads one after another reuse the same part
// buffers (two per upload at most) rather than allocating 5 MiB each time.
func TestReceiveReusesBuffers(t *testing.T) {
	e := newEnv(t)
	file := pdfOfSize(3*uploads.DefaultPartSize + 1)
	for i := range 4 {
		if _, err := e.receive(t, "deck.pdf", file, 20<<20); err != nil {
			t.Fatalf("upload %d: %v", i+1, err)
		}
	}
	if made := e.decks.BuffersMade(); made > 2 {
		t.Errorf("%d part buffers allocated for 4 uploads one after another, want at most 2", made)
	}
}
