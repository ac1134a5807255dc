package uploads_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/app/apptest/decks"
	"github.com/sprout-vn/sprout/app/embedded"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/uploads"
)

// servers are the S3 and MongoDB-compatible servers the tests share; each
// test makes its own bucket and database on them.
var servers struct {
	once     sync.Once
	err      error
	dir      string
	closers  []func() error
	s3       uploads.S3Config
	mongoURI string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range servers.closers {
		_ = c()
	}
	if servers.dir != "" {
		_ = os.RemoveAll(servers.dir)
	}
	os.Exit(code)
}

// startServers starts the embedded servers once, in a temporary directory,
// the first time a test needs them, or uses the ones SPROUT_MONGODB_URI and
// SPROUT_S3_* name (CI's separate-process run), as apptest does.
//
// Starting on first use rather than in TestMain matters: the embedded S3
// server changes the process's working directory, and this package's
// internal tests (which run first) keep the package directory go test
// gave them.
func startServers(tb testing.TB) {
	tb.Helper()
	servers.once.Do(func() { servers.err = doStartServers() })
	if servers.err != nil {
		tb.Fatalf("start servers: %v", servers.err)
	}
}

func doStartServers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	mongoURI, s3Endpoint := os.Getenv("SPROUT_MONGODB_URI"), os.Getenv("SPROUT_S3_ENDPOINT")
	if mongoURI == "" || s3Endpoint == "" {
		dir, err := os.MkdirTemp("", "sprout-uploads-test-")
		if err != nil {
			return err
		}
		servers.dir = dir
	}
	if mongoURI != "" {
		servers.mongoURI = mongoURI
	} else {
		mg, err := embedded.StartMongo(ctx, embedded.MongoConfig{Dir: filepath.Join(servers.dir, "mongo"), Logger: quiet})
		if err != nil {
			return err
		}
		servers.closers = append(servers.closers, mg.Close)
		servers.mongoURI = mg.URI()
	}
	if s3Endpoint != "" {
		servers.s3 = uploads.S3Config{Endpoint: s3Endpoint, AccessKey: os.Getenv("SPROUT_S3_ACCESS_KEY"),
			SecretKey: os.Getenv("SPROUT_S3_SECRET_KEY"), Secure: os.Getenv("SPROUT_S3_SECURE") == "true"}
		return nil
	}
	gw, err := embedded.StartS3(ctx, embedded.S3Config{Dir: filepath.Join(servers.dir, "objects"), Addr: "127.0.0.1:0",
		CredentialsFile: filepath.Join(servers.dir, "s3-credentials.json"), Logger: quiet})
	if err != nil {
		return err
	}
	// Stopped first: it restores the working directory.
	servers.closers = append([]func() error{gw.Close}, servers.closers...)
	servers.s3 = uploads.S3Config{Endpoint: gw.Endpoint(), AccessKey: gw.AccessKey(), SecretKey: gw.SecretKey()}
	return nil
}

// fixture returns the sample deck name, made by package decks.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := decks.Bytes(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// clock is the injected time of one test's store and Decks.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time           { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(by time.Duration) { c.offset.Add(int64(by)) }

// env is one test's bucket, database and Decks over them.
type env struct {
	decks *uploads.Decks
	st    *store.Store
	clock *clock
}

func randomName(prefix string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return prefix + n.Text(36)
}

// newEnv makes a fresh bucket and database, removed or abandoned when the
// test ends.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	startServers(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := servers.s3
	cfg.Bucket = randomName("t-")
	// Built as NewBucket builds it, but with a transport the test can
	// close: idle keep-alive connections (16 per client after a
	// concurrent benchmark) otherwise hold the embedded server's shutdown
	// for its full 10-second grace period.
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure, BucketLookup: minio.BucketLookupPath, Transport: tr})
	if err != nil {
		tb.Fatal(err)
	}
	bucket := &uploads.Bucket{Client: cl, Name: cfg.Bucket}
	tb.Cleanup(tr.CloseIdleConnections)
	if err := bucket.Ensure(ctx); err != nil {
		tb.Fatal(err)
	}
	c := &clock{}
	st, err := store.Open(ctx, servers.mongoURI, randomName("t_"), store.Options{Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = st.DB().Drop(ctx)
		_ = st.Close(ctx)
		emptyBucket(ctx, bucket)
	})
	return &env{
		decks: &uploads.Decks{Bucket: bucket, Pending: st, Now: c.Now},
		st:    st,
		clock: c,
	}
}

// emptyBucket removes every object and the bucket, to keep the disk free of
// the large test objects.
func emptyBucket(ctx context.Context, b *uploads.Bucket) {
	for obj := range b.Client.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			_ = b.Client.RemoveObject(ctx, b.Name, obj.Key, minio.RemoveObjectOptions{})
		}
	}
	_ = b.Client.RemoveBucket(ctx, b.Name)
}

// form builds a multipart/form-data body as the HTML form sends it: the
// CSRF token first, then the file.
func form(tb testing.TB, filename string, file []byte) (body []byte, contentType string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("_csrf", "token-1")
	_ = w.WriteField("note", "second field")
	fw, err := w.CreateFormFile(uploads.DeckField, filename)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (e *env) objects(tb testing.TB) []string {
	tb.Helper()
	var keys []string
	b := e.decks.Bucket
	for obj := range b.Client.ListObjects(context.Background(), b.Name, minio.ListObjectsOptions{Prefix: uploads.KeyPrefix, Recursive: true}) {
		if obj.Err != nil {
			tb.Fatalf("list objects: %v", obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

func (e *env) incomplete(tb testing.TB) []string {
	tb.Helper()
	var keys []string
	b := e.decks.Bucket
	for u := range b.Client.ListIncompleteUploads(context.Background(), b.Name, uploads.KeyPrefix, true) {
		if u.Err != nil {
			tb.Fatalf("list incomplete uploads: %v", u.Err)
		}
		keys = append(keys, u.Key)
	}
	return keys
}

// records returns the deck_uploads documents by key.
func (e *env) records(tb testing.TB) map[string]bson.M {
	tb.Helper()
	ctx := context.Background()
	cur, err := e.st.DB().Collection("deck_uploads").Find(ctx, bson.M{})
	if err != nil {
		tb.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		tb.Fatal(err)
	}
	out := map[string]bson.M{}
	for _, d := range docs {
		out[d["_id"].(string)] = d
	}
	return out
}

// wantNothingStored: no object, no unfinished multipart upload, no record.
func (e *env) wantNothingStored(tb testing.TB) {
	tb.Helper()
	if keys := e.objects(tb); len(keys) > 0 {
		tb.Errorf("objects left in the bucket: %v", keys)
	}
	if keys := e.incomplete(tb); len(keys) > 0 {
		tb.Errorf("unfinished multipart uploads left: %v", keys)
	}
	if recs := e.records(tb); len(recs) > 0 {
		tb.Errorf("records left: %v", recs)
	}
}

func (e *env) receive(tb testing.TB, filename string, file []byte, limit int64, opts ...uploads.ReceiveOption) (*uploads.StoredDeck, error) {
	tb.Helper()
	body, ct := form(tb, filename, file)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := bytes.NewReader(body)
	deck, err := e.decks.Receive(ctx, r, ct, limit, "user-1", opts...)
	if derr := uploads.Drain(r, limit+1<<20); derr != nil {
		tb.Errorf("drain: %v", derr)
	}
	return deck, err
}

func (e *env) readBack(tb testing.TB, key string) []byte {
	tb.Helper()
	obj, _, err := e.decks.Open(context.Background(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return b
}

func TestReceiveStoresValidDecks(t *testing.T) {
	tests := []struct {
		fixture, clientName, wantName, wantType string
		wantKind                                uploads.Kind
	}{
		{"valid-deck.pdf", "../../Kế hoạch gọi vốn.pdf", "Kế hoạch gọi vốn.pdf", uploads.ContentTypePDF, uploads.KindPDF},
		{"valid-deck.pptx", `C:\Users\an\valid-deck.pptx`, "valid-deck.pptx", uploads.ContentTypePPTX, uploads.KindPPTX},
		{"valid-deck.pdf", "deck.exe", "deck.exe.pdf", uploads.ContentTypePDF, uploads.KindPDF},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.wantName, func(t *testing.T) {
			e := newEnv(t)
			file := fixture(t, tt.fixture)
			var seen map[string]string
			deck, err := e.receive(t, tt.clientName, file, 10<<20, uploads.BeforeStore(func(f map[string]string) error {
				seen = f
				return nil
			}))
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if !uploads.ValidKey(deck.Key) {
				t.Errorf("key %q is not decks/<uuid>", deck.Key)
			}
			if deck.Size != int64(len(file)) || deck.SHA256 != sha(file) {
				t.Errorf("size, sha = %d, %s; want %d, %s", deck.Size, deck.SHA256, len(file), sha(file))
			}
			if deck.Kind != tt.wantKind || deck.ContentType != tt.wantType || deck.Filename != tt.wantName {
				t.Errorf("kind, type, name = %v, %q, %q; want %v, %q, %q", deck.Kind, deck.ContentType, deck.Filename, tt.wantKind, tt.wantType, tt.wantName)
			}
			if seen["_csrf"] != "token-1" || deck.Fields["note"] != "second field" {
				t.Errorf("fields: BeforeStore saw %v, result has %v", seen, deck.Fields)
			}
			if got := e.readBack(t, deck.Key); !bytes.Equal(got, file) {
				t.Errorf("read back %d bytes (sha %s), want the %d uploaded", len(got), sha(got), len(file))
			}
			st, err := e.decks.Bucket.Client.StatObject(context.Background(), e.decks.Bucket.Name, deck.Key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != tt.wantType {
				t.Errorf("stored content type %q, want %q", st.ContentType, tt.wantType)
			}

			// Pending until confirmed, ready after, gone after Discard.
			if rec := e.records(t)[deck.Key]; rec["status"] != "pending" || rec["owner"] != "user-1" {
				t.Errorf("record after Receive = %v, want pending for user-1", rec)
			}
			if err := e.decks.Confirm(context.Background(), deck.Key); err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if rec := e.records(t)[deck.Key]; rec["status"] != "ready" || rec["ready_at"] == nil {
				t.Errorf("record after Confirm = %v, want ready", rec)
			}
			if err := e.decks.Discard(context.Background(), deck.Key); err != nil {
				t.Fatalf("Discard: %v", err)
			}
			e.wantNothingStored(t)
		})
	}
}

func TestReceiveRejectsBadContent(t *testing.T) {
	var unsupported *uploads.UnsupportedTypeError
	var bomb *uploads.ZipBombError
	tests := []struct {
		fixture string
		found   string // UnsupportedTypeError.Found; "" means a *ZipBombError
	}{
		{"exe-renamed.pdf", "Windows executable"},
		{"html-renamed.pdf", "HTML document"},
		{"png-renamed.pdf", "PNG image"},
		{"docx-renamed.pptx", "Word document (DOCX)"},
		{"pptm-renamed.pptx", "macro-enabled presentation (PPTM)"},
		{"zip-renamed.pptx", ""}, // any description; checked below
		{"odp-renamed.pptx", "OpenDocument presentation (ODP)"},
		{"polyglot-html.pdf", "HTML document"},
		{"polyglot-prefixed.pdf", "PDF with data before its header"},
		{"encrypted.pptx", "legacy PowerPoint (PPT)/OLE file"},
		{"truncated.pptx", "damaged ZIP archive"},
		{"zipbomb.pptx", ""},
		{"zipbomb-entries.pptx", ""},
		{"zipbomb-total.pptx", ""},
		{"zipbomb-declared.pptx", ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t)
			deck, err := e.receive(t, tt.fixture, fixture(t, tt.fixture), 10<<20)
			if deck != nil {
				t.Errorf("Receive returned a deck: %+v", deck)
			}
			switch {
			case strings.HasPrefix(tt.fixture, "zipbomb"):
				if !errors.As(err, &bomb) {
					t.Fatalf("err = %v, want *ZipBombError", err)
				}
			case !errors.As(err, &unsupported) || !errors.Is(err, uploads.ErrUnsupportedType):
				t.Fatalf("err = %v, want *UnsupportedTypeError", err)
			case tt.found != "" && unsupported.Found != tt.found:
				t.Errorf("found %q, want %q", unsupported.Found, tt.found)
			}
			if errors.Is(err, uploads.ErrStorageUnavailable) {
				t.Errorf("err %v blames the storage", err)
			}
			e.wantNothingStored(t)
		})
	}
}

func TestReceiveBeforeStoreStopsEverything(t *testing.T) {
	e := newEnv(t)
	errCSRF := errors.New("bad csrf token")
	_, err := e.receive(t, "deck.pdf", fixture(t, "valid-deck.pdf"), 10<<20, uploads.BeforeStore(func(f map[string]string) error {
		if f["_csrf"] != "token-1" {
			t.Errorf("fields = %v", f)
		}
		return errCSRF
	}))
	if !errors.Is(err, errCSRF) {
		t.Fatalf("err = %v, want the BeforeStore error", err)
	}
	e.wantNothingStored(t)
}

func TestReceiveBadForm(t *testing.T) {
	pdf := fixture(t, "valid-deck.pdf")
	good, ct := form(t, "deck.pdf", pdf)
	empty, emptyCT := form(t, "deck.pdf", nil)
	var noFile bytes.Buffer
	w := multipart.NewWriter(&noFile)
	_ = w.WriteField("_csrf", "x")
	_ = w.Close()
	tests := []struct {
		name, ct string
		body     []byte
		want     error
	}{
		{"not multipart", "application/pdf", pdf, uploads.ErrBadMultipart},
		{"no deck field", w.FormDataContentType(), noFile.Bytes(), uploads.ErrNoFile},
		// Cut in the middle of the file: the file never ends, so the
		// partial upload must not be kept.
		{"truncated", ct, good[:len(good)/2], uploads.ErrBadMultipart},
		{"empty file", emptyCT, empty, uploads.ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.decks.Receive(context.Background(), bytes.NewReader(tt.body), tt.ct, 10<<20, "user-1")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			e.wantNothingStored(t)
		})
	}
}

// pdfOfSize returns a PDF header followed by random bytes: Sniff accepts
// it, and nothing else looks inside a PDF.
func pdfOfSize(n int) []byte {
	b := make([]byte, n)
	r := mrand.NewChaCha8([32]byte{1})
	_, _ = r.Read(b)
	copy(b, "%PDF-1.7\n")
	return b
}

func TestReceiveTooLarge(t *testing.T) {
	tests := []struct {
		name  string
		limit int64
	}{
		{"below the sniff window", 100},
		{"small", 64 << 10},
		// Past one part: the first part is already uploaded when the
		// limit is hit, so the multipart upload must be aborted.
		{"past one part", uploads.DefaultPartSize + 1<<20},
	}
	for _, tt := range tests {
		file := pdfOfSize(int(tt.limit) + 1)
		for _, streamed := range []bool{false, true} {
			name := tt.name + "/with length"
			if streamed {
				name = tt.name + "/pipe, no length"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				body, ct := form(t, "big.pdf", file)
				var r io.Reader = bytes.NewReader(body)
				if streamed {
					pr, pw := io.Pipe()
					go func() { _, err := pw.Write(body); pw.CloseWithError(err) }()
					defer pr.Close()
					r = pr
				}
				_, err := e.decks.Receive(context.Background(), r, ct, tt.limit, "user-1")
				if !errors.Is(err, uploads.ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				if err := uploads.Drain(r, tt.limit+1<<20); err != nil {
					t.Errorf("drain: %v", err)
				}
				e.wantNothingStored(t)
			})
		}
		t.Run(tt.name+"/exactly the limit", func(t *testing.T) {
			e := newEnv(t)
			deck, err := e.receive(t, "big.pdf", file[:tt.limit], tt.limit)
			if err != nil {
				t.Fatalf("Receive of exactly the limit: %v", err)
			}
			if deck.Size != tt.limit || deck.SHA256 != sha(file[:tt.limit]) {
				t.Errorf("size, sha = %d, %s; want %d, %s", deck.Size, deck.SHA256, tt.limit, sha(file[:tt.limit]))
			}
		})
	}
}

func TestSweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pdf := fixture(t, "valid-deck.pdf")
	b := e.decks.Bucket

	// A deck received but never attached: its record stays pending.
	stale, err := e.receive(t, "stale.pdf", pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// A confirmed deck: never swept, however old.
	ready, err := e.receive(t, "ready.pdf", pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.decks.Confirm(ctx, ready.Key); err != nil {
		t.Fatal(err)
	}
	// Decks an entry names but whose Confirm never ran (a crash between
	// the attach and Confirm): as the current deck, and only in the
	// history. The sweeper must keep them and mark them ready.
	attached, err := e.receive(t, "attached.pdf", pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	inHistory, err := e.receive(t, "old.pdf", pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	entries := e.st.DB().Collection("entries")
	if _, err := entries.InsertOne(ctx, bson.M{"_id": "entry-1", "dossier": "long text",
		"deck":         bson.M{"key": attached.Key, "filename": "attached.pdf"},
		"deck_history": bson.A{bson.M{"key": inHistory.Key}, bson.M{"key": attached.Key}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := entries.InsertOne(ctx, bson.M{"_id": "entry-2", "deck_history": bson.A{}}); err != nil {
		t.Fatal(err)
	}
	// An object no record names (as left by a crash after a record was
	// removed, or by a client outside the app).
	orphan := uploads.KeyPrefix + uuid.NewString()
	if _, err := b.Client.PutObject(ctx, b.Name, orphan, bytes.NewReader(pdf), int64(len(pdf)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// A multipart upload a crash left unfinished.
	core := minio.Core{Client: b.Client}
	abandoned := uploads.KeyPrefix + uuid.NewString()
	if _, err := core.NewMultipartUpload(ctx, b.Name, abandoned, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	// Everything is younger than the cut-off: nothing goes, neither the
	// pending deck nor the orphan (an upload in flight looks like that).
	if n, err := e.decks.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("fresh Sweep = %d, %v; want 0, nil", n, err)
	}
	if got := len(e.objects(t)); got != 5 {
		t.Fatalf("%d objects after a fresh sweep, want 5", got)
	}

	// Two hours later a new deck arrives, still pending when the sweeper
	// runs: it is fresh and stays.
	e.clock.Advance(2 * time.Hour)
	fresh, err := e.receive(t, "fresh.pdf", pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// The cut-off is now an hour after the real time, so every object's
	// LastModified (set by the S3 server's clock) is before it: only the
	// records decide what stays.
	n, err := e.decks.Sweep(ctx, time.Hour)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n != 3 {
		t.Errorf("Sweep removed %d, want 3 (stale deck, orphan, abandoned upload)", n)
	}
	objs := strings.Join(e.objects(t), " ")
	for _, key := range []string{ready.Key, fresh.Key, attached.Key, inHistory.Key} {
		if !strings.Contains(objs, key) {
			t.Errorf("%s was swept", key)
		}
	}
	for _, key := range []string{stale.Key, orphan} {
		if strings.Contains(objs, key) {
			t.Errorf("%s is still in the bucket", key)
		}
	}
	if left := e.incomplete(t); len(left) > 0 {
		t.Errorf("unfinished uploads left: %v", left)
	}
	recs := e.records(t)
	if _, ok := recs[stale.Key]; ok {
		t.Error("stale record still there")
	}
	if recs[ready.Key]["status"] != "ready" || recs[fresh.Key]["status"] != "pending" ||
		recs[attached.Key]["status"] != "ready" || recs[inHistory.Key]["status"] != "ready" {
		t.Errorf("records = %v", recs)
	}
	if !bytes.Equal(e.readBack(t, ready.Key), pdf) {
		t.Error("ready deck changed")
	}
}

func TestPresignDownload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pdf := fixture(t, "valid-deck.pdf")
	deck, err := e.receive(t, `Kế hoạch "gọi" vốn.pdf`, pdf, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.decks.PresignDownload(ctx, deck.Key, deck.Filename, time.Hour)
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	if exp := u.Query().Get("X-Amz-Expires"); exp != "600" {
		t.Errorf("X-Amz-Expires = %s, want 600 (capped at 10 minutes)", exp)
	}

	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdf) {
		t.Fatalf("GET presigned: %d, %d bytes; want 200 and the deck", resp.StatusCode, len(body))
	}
	wantCD := `attachment; filename="Ke hoach _goi_ von.pdf"; filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%20_g%E1%BB%8Di_%20v%E1%BB%91n.pdf`
	if cd := resp.Header.Get("Content-Disposition"); cd != wantCD {
		t.Errorf("Content-Disposition = %q, want %q", cd, wantCD)
	}
	if ct := resp.Header.Get("Content-Type"); ct != uploads.ContentTypePDF {
		t.Errorf("Content-Type = %q", ct)
	}

	// A tampered signature, a URL without one, and a different key.
	q := u.Query()
	sig := q.Get("X-Amz-Signature")
	q.Set("X-Amz-Signature", flipLast(sig))
	tampered := *u
	tampered.RawQuery = q.Encode()
	unsigned := url.URL{Scheme: "http", Host: servers.s3.Endpoint, Path: "/" + e.decks.Bucket.Name + "/" + deck.Key}
	otherKey := *u
	otherKey.Path = "/" + e.decks.Bucket.Name + "/" + uploads.KeyPrefix + uuid.NewString()
	for name, target := range map[string]string{"tampered": tampered.String(), "unsigned": unsigned.String(), "other key": otherKey.String()} {
		resp, err := http.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET: %d, want 403", name, resp.StatusCode)
		}
	}

	if _, err := e.decks.PresignDownload(ctx, "users/../decks/x", "x.pdf", time.Minute); !errors.Is(err, uploads.ErrNotFound) {
		t.Errorf("presign of a bad key: %v, want ErrNotFound", err)
	}
}

func flipLast(s string) string {
	if s == "" {
		return "0"
	}
	last := s[len(s)-1]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	return s[:len(s)-1] + string(last)
}

func TestOpenMissing(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{uploads.KeyPrefix + uuid.NewString(), "decks/../secret", "other/" + uuid.NewString()} {
		if _, _, err := e.decks.Open(context.Background(), key); !errors.Is(err, uploads.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

// TestStorageDown: with nothing listening on the S3 port, uploads fail
// with ErrStorageUnavailable within the caller's deadline and leave no
// record behind.
func TestStorageDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	e := newEnv(t)
	cfg := servers.s3
	cfg.Endpoint, cfg.Bucket = closed, "decks"
	down, err := uploads.NewBucket(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &uploads.Decks{Bucket: down, Pending: e.st}

	body, ct := form(t, "deck.pdf", fixture(t, "valid-deck.pdf"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = d.Receive(ctx, bytes.NewReader(body), ct, 1<<20, "user-1")
	elapsed := time.Since(start)
	if !errors.Is(err, uploads.ErrStorageUnavailable) {
		t.Fatalf("Receive = %v, want ErrStorageUnavailable", err)
	}
	t.Logf("failed after %v: %v", elapsed.Round(time.Millisecond), err)
	if elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if recs := e.records(t); len(recs) > 0 {
		t.Errorf("records left: %v", recs)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if _, _, err := d.Open(ctx2, uploads.KeyPrefix+uuid.NewString()); !errors.Is(err, uploads.ErrStorageUnavailable) {
		t.Errorf("Open = %v, want ErrStorageUnavailable", err)
	}
}

// TestStorageOutageAndRecovery: S3 goes away after the client has talked to
// it (so minio-go retries instead of failing at the region lookup), then
// comes back; the same Decks works again without a restart (SECURITY.md 28).
func TestStorageOutageAndRecovery(t *testing.T) {
	e := newEnv(t)
	px := startProxy(t, servers.s3.Endpoint)
	cfg := servers.s3
	cfg.Endpoint, cfg.Bucket = px.addr, e.decks.Bucket.Name
	b, err := uploads.NewBucket(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &uploads.Decks{Bucket: b, Pending: e.st}
	pdf := fixture(t, "valid-deck.pdf")
	body, ct := form(t, "deck.pdf", pdf)
	receive := func(timeout time.Duration) (*uploads.StoredDeck, time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		deck, err := d.Receive(ctx, bytes.NewReader(body), ct, 1<<20, "user-1")
		return deck, time.Since(start), err
	}

	if _, _, err := receive(10 * time.Second); err != nil {
		t.Fatalf("Receive before the outage: %v", err)
	}

	px.down()
	_, elapsed, err := receive(2 * time.Second)
	if !errors.Is(err, uploads.ErrStorageUnavailable) {
		t.Fatalf("Receive during the outage = %v, want ErrStorageUnavailable", err)
	}
	t.Logf("failed after %v: %v", elapsed.Round(time.Millisecond), err)
	if elapsed > 4*time.Second {
		t.Errorf("took %v with a 2 s deadline", elapsed)
	}
	if recs := e.records(t); len(recs) != 1 {
		t.Errorf("%d records after the failed upload, want only the first deck's", len(recs))
	}

	px.up(t)
	deck, _, err := receive(10 * time.Second)
	if err != nil {
		t.Fatalf("Receive after the outage: %v", err)
	}
	if !bytes.Equal(e.readBack(t, deck.Key), pdf) {
		t.Error("deck stored after the outage reads back differently")
	}
}

// proxy forwards TCP to target and can be taken down and brought back on
// the same address, to simulate an S3 outage.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	p := &proxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.up(tb)
	tb.Cleanup(p.down)
	return p
}

func (p *proxy) up(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); u.Close() }()
	_, _ = io.Copy(c, u)
	c.Close()
}

// down stops listening and cuts every open connection, as a crashed server
// would.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestReceiveMemory: a 25 MB upload streamed from a pipe (no length) moves
// through Receive with the memory held (the heap plus the part buffers,
// which are mapped outside it) growing by about two parts (one read from the
// client while the other is sent), not the file.
func TestReceiveMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("25 MB upload")
	}
	const size = 25_000_000
	e := newEnv(t)

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	wantSum := make(chan string, 1)
	go func() {
		h := sha256.New()
		err := func() error {
			if err := mw.WriteField("_csrf", "token-1"); err != nil {
				return err
			}
			fw, err := mw.CreateFormFile(uploads.DeckField, "big.pdf")
			if err != nil {
				return err
			}
			rng := mrand.NewChaCha8([32]byte{2})
			chunk := make([]byte, 64<<10)
			for sent := 0; sent < size; {
				n := min(len(chunk), size-sent)
				_, _ = rng.Read(chunk[:n])
				if sent == 0 {
					copy(chunk, "%PDF-1.7\n")
				}
				h.Write(chunk[:n])
				if _, err := fw.Write(chunk[:n]); err != nil {
					return err
				}
				sent += n
			}
			return mw.Close()
		}()
		wantSum <- hex.EncodeToString(h.Sum(nil))
		pw.CloseWithError(err)
	}()

	// A low GC target keeps garbage from hiding what is really held;
	// the embedded servers run in this process too, so their share of
	// the upload (the S3 server's request handling) is counted as well.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	// Part buffers live outside the Go heap (uploads.bufferPool), so what
	// they hold is added to the heap's figure.
	held := func(ms *runtime.MemStats) uint64 { return ms.HeapAlloc + uint64(e.decks.BuffersBytes()) }
	runtime.ReadMemStats(&ms)
	base := held(&ms)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if h := held(&ms); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})

	deck, err := e.decks.Receive(context.Background(), pr, mw.FormDataContentType(), 30_000_000, "user-1")
	close(stop)
	wg.Wait()
	_ = uploads.Drain(pr, 1<<20)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if want := <-wantSum; deck.Size != size || deck.SHA256 != want {
		t.Errorf("size, sha = %d, %s; want %d, %s", deck.Size, deck.SHA256, size, want)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap and part buffers: base %d MiB, peak growth %.1f MiB for a %d MB file (part buffers at the end: %d MiB)",
		base>>20, float64(growth)/(1<<20), size/1_000_000, e.decks.BuffersBytes()>>20)
	// Two part buffers, plus the slack the bound had when it allowed one
	// part (12 MB): what the embedded S3 server and the clients hold.
	const limit = 2*uploads.DefaultPartSize + (12_000_000 - uploads.DefaultPartSize)
	if growth >= limit {
		t.Errorf("heap grew by %d bytes during a %d-byte upload, want < %d", growth, size, limit)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ name, want string }{
		{"deck.pdf", `attachment; filename="deck.pdf"; filename*=UTF-8''deck.pdf`},
		{"Đề án 2025.pptx", `attachment; filename="De an 2025.pptx"; filename*=UTF-8''%C4%90%E1%BB%81%20%C3%A1n%202025.pptx`},
		{"a\"b\\c.pdf", `attachment; filename="c.pdf"; filename*=UTF-8''c.pdf`},
		{"x\r\nSet-Cookie: a=b.pdf", `attachment; filename="xSet-Cookie_ a=b.pdf"; filename*=UTF-8''xSet-Cookie_%20a%3Db.pdf`},
		{"日本.pdf", `attachment; filename="__.pdf"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf`},
	}
	for _, tt := range tests {
		if got := uploads.ContentDisposition(tt.name); got != tt.want {
			t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestValidKey(t *testing.T) {
	id := uuid.NewString()
	for key, want := range map[string]bool{
		"decks/" + id:                  true,
		"decks/" + strings.ToUpper(id): false,
		"decks/" + id + "/x":           false,
		"decks/../" + id:               false,
		id:                             false,
		"decks/":                       false,
		"decks/{" + id + "}":           false,
		"decks/urn:uuid:" + id:         false,
		"other/" + id:                  false,
		"decks/" + strings.ReplaceAll(id, "-", ""): false,
	} {
		if got := uploads.ValidKey(key); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", key, got, want)
		}
	}
}
