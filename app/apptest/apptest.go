// Package apptest starts the real store servers once per test package and
// builds Sprout instances over them. By default it runs the embedded
// FerretDB and versitygw; with SPROUT_MONGODB_URI / SPROUT_S3_ENDPOINT set
// it uses those servers instead (CI's separate-process run), and with
// SPROUT_TEST_POSTGRES=1 it runs FerretDB on a throw-away PostgreSQL
// cluster. Nothing here is a mock.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/embedded"
	"github.com/sprout-vn/sprout/uploads"
)

// Stack is the store servers a test package shares.
type Stack struct {
	MongoURI string
	S3       uploads.S3Config
	Mode     string // "embedded-sqlite", "embedded-postgresql" or "external"
	dir      string
	closers  []func() error
}

// Start brings the servers up. Call it from TestMain and Close the stack
// after m.Run.
func Start() (*Stack, error) {
	dir, err := os.MkdirTemp("", "sprout-test-")
	if err != nil {
		return nil, err
	}
	// Other users (postgres) must traverse it for the PostgreSQL mode.
	_ = os.Chmod(dir, 0o755)
	s := &Stack{dir: dir, Mode: "embedded-sqlite"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if uri := os.Getenv("SPROUT_MONGODB_URI"); uri != "" {
		s.MongoURI, s.Mode = uri, "external"
	} else {
		pgURL := ""
		if os.Getenv("SPROUT_TEST_POSTGRES") == "1" {
			url, stop, err := embedded.StartPostgresCluster(dir)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("apptest: postgres: %w", err)
			}
			pgURL, s.Mode = url, "embedded-postgresql"
			s.closers = append(s.closers, stop)
		}
		m, err := embedded.StartMongo(ctx, embedded.MongoConfig{Dir: filepath.Join(dir, "mongo"), Socket: embedded.SocketPath(dir), PostgreSQLURL: pgURL, Logger: log})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("apptest: ferretdb: %w", err)
		}
		s.MongoURI = m.URI()
		s.closers = append([]func() error{m.Close}, s.closers...)
	}
	if ep := os.Getenv("SPROUT_S3_ENDPOINT"); ep != "" {
		s.S3 = uploads.S3Config{Endpoint: ep, AccessKey: os.Getenv("SPROUT_S3_ACCESS_KEY"), SecretKey: os.Getenv("SPROUT_S3_SECRET_KEY"),
			Secure: os.Getenv("SPROUT_S3_SECURE") == "true"}
	} else {
		g, err := embedded.StartS3(ctx, embedded.S3Config{Dir: filepath.Join(dir, "objects"), Addr: "127.0.0.1:0",
			CredentialsFile: filepath.Join(dir, "s3-credentials.json"), Logger: log})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("apptest: s3 gateway: %w", err)
		}
		s.S3 = uploads.S3Config{Endpoint: g.Endpoint(), AccessKey: g.AccessKey(), SecretKey: g.SecretKey()}
		s.closers = append([]func() error{g.Close}, s.closers...)
	}
	return s, nil
}

// Close stops the servers and removes the temporary directory.
func (s *Stack) Close() {
	for _, c := range s.closers {
		_ = c()
	}
	_ = os.RemoveAll(s.dir)
}

// Main is a TestMain body: start the stack, run the tests, stop it.
func Main(m interface{ Run() int }, out **Stack) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apptest:", err)
		return 1
	}
	*out = s
	code := m.Run()
	s.Close()
	return code
}

// RandomName returns a short unique name for a database or bucket.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Config returns a configuration over the stack with a fresh database and
// bucket, so tests do not see each other's data.
func (s *Stack) Config(t testing.TB) app.Config {
	t.Helper()
	return app.Config{
		Addr:          "127.0.0.1:0",
		DataDir:       t.TempDir(),
		MongoURI:      s.MongoURI,
		MongoDatabase: RandomName("t_"),
		S3Endpoint:    s.S3.Endpoint,
		S3AccessKey:   s.S3.AccessKey,
		S3SecretKey:   s.S3.SecretKey,
		S3Secure:      s.S3.Secure,
		S3Bucket:      strings.ReplaceAll(RandomName("t-"), "_", "-"),
		BaseURL:       "http://127.0.0.1:8080",
		LogLevel:      "error",
	}
}

// NewApp builds an instance over cfg and closes it when the test ends.
func NewApp(t testing.TB, cfg app.Config, opts ...app.Options) *app.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, Logger(t), opts...)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// Logger writes to the test log at warn level and above.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Serve runs a on a free loopback port until the test ends and returns its
// base URL, for browser tests and real HTTP clients.
func Serve(t testing.TB, a *app.App) string {
	t.Helper()
	ln, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String()
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base
}
