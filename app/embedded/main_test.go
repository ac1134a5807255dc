package embedded

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// fixture holds the servers shared by the package's tests: each is started
// once in TestMain, because start-up dominates test time. Tests do not run in
// parallel, so they may stop the shared S3 (only one gateway can run per
// process) and the next user restarts it.
type fixture struct {
	root     string
	mongoDir string
	mongo    *Mongo

	s3Dir   string
	s3Creds string
	s3      *S3
}

// shared is only assigned in TestMain; tests use the helpers below.
var shared *fixture

func TestMain(m *testing.M) {
	// A re-executed copy of this binary playing another local user
	// (TestMongoSocketOnly): it only tries to connect.
	if uri := os.Getenv(dialChildEnv); uri != "" {
		os.Exit(dialChild(uri, os.Stdout))
	}

	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := os.MkdirTemp("", "sprout-embedded-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)

	shared = &fixture{
		root:     root,
		mongoDir: filepath.Join(root, "mongo"),
		s3Dir:    filepath.Join(root, "objects"),
		s3Creds:  filepath.Join(root, "s3-credentials.json"),
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The periodic fix is off so that tests see FerretDB's own behaviour on
	// collections they create, until they call FixIndexes.
	shared.mongo, err = StartMongo(ctx, MongoConfig{Dir: shared.mongoDir, fixInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer shared.mongo.Close()

	shared.s3, err = startSharedS3(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	code := m.Run()

	if shared.s3 != nil {
		if err = shared.s3.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}

	return code
}

// startSharedS3 starts the S3 server on the shared directories.
func startSharedS3(ctx context.Context) (*S3, error) {
	return StartS3(ctx, S3Config{Dir: shared.s3Dir, CredentialsFile: shared.s3Creds})
}

// sharedS3 returns the shared S3 server, restarting it if a previous test
// released it.
func sharedS3(t testing.TB) *S3 {
	t.Helper()

	if shared.s3 == nil {
		s, err := startSharedS3(t.Context())
		if err != nil {
			t.Fatal(err)
		}

		shared.s3 = s
	}

	return shared.s3
}

// releaseS3 stops the shared S3 server so that the test can run its own.
func releaseS3(t testing.TB) {
	t.Helper()

	if shared.s3 == nil {
		return
	}

	if err := shared.s3.Close(); err != nil {
		t.Fatal(err)
	}

	shared.s3 = nil
}

// mongoClient connects to uri and disconnects at the end of the test (before
// servers close, so that FerretDB does not wait for the connection).
func mongoClient(t testing.TB, uri string) *mongo.Client {
	t.Helper()

	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })

	return c
}

// minioClient returns a minio-go client for s, the way the application
// builds one.
func minioClient(t testing.TB, s *S3) *minio.Client {
	t.Helper()

	c, err := minio.New(s.Endpoint(), &minio.Options{
		Creds:  minioStatic(s.AccessKey(), s.SecretKey()),
		Secure: false,
	})
	if err != nil {
		t.Fatal(err)
	}

	return c
}

// minioStatic returns static V4 credentials.
func minioStatic(access, secret string) *credentials.Credentials {
	return credentials.NewStaticV4(access, secret, "")
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.b.String()
}

// testLogger returns a logger that records everything at DEBUG as JSON
// lines, and the buffer holding them.
func testLogger() (*slog.Logger, *syncBuffer) {
	buf := new(syncBuffer)
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
