package embedded

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"github.com/versity/versitygw/s3api"
)

// Limits handed to versitygw; embedgw refuses to start with zero values.
const (
	// s3MaxConnections bounds concurrent TCP connections (fasthttp's
	// Concurrency); far above what one Sprout instance opens.
	s3MaxConnections = 1024
	// s3MaxRequests bounds in-flight requests; kept <= s3MaxConnections as
	// embedgw warns otherwise.
	s3MaxRequests = 512
	// s3MaxParts is the S3 maximum number of parts per multipart upload.
	s3MaxParts = 10000
	// s3BindAttempts: with port 0 we pick a free port and hand it to the
	// gateway; another process may take it in between, so retry a few times.
	s3BindAttempts = 5
)

// S3Config configures the embedded S3 server.
type S3Config struct {
	// Dir is the root of the posix backend (e.g. $DATA/objects): each bucket
	// is a directory, each object a file. Created if missing.
	Dir string
	// Addr is the loopback host:port to listen on; "" or "127.0.0.1:0" picks
	// a free port. Non-loopback addresses are rejected.
	Addr string
	// CredentialsFile holds the root access and secret keys as JSON (e.g.
	// $DATA/s3-credentials.json). Generated randomly with mode 0600 on first
	// start, re-used afterwards so objects and clients stay valid. Required.
	CredentialsFile string
	// Logger receives the embedded stack's messages; nil logs errors to
	// stderr.
	Logger *slog.Logger
}

// S3 is a running embedded versitygw S3 server (plain HTTP, path-style,
// region us-east-1, one root account).
//
// Only one S3 may run per process: embedgw.RunVersityGW refuses a second
// concurrent gateway (package-level state), and the posix backend changes the
// process's working directory to Dir (see StartS3). Once Close has returned,
// StartS3 may be called again in the same process.
type S3 struct {
	endpoint string
	access   string
	secret   string
	prevWD   string // working directory before the posix backend changed it

	cancel  context.CancelFunc
	done    chan struct{} // closed when RunVersityGW has returned
	mu      sync.Mutex
	runErr  error // RunVersityGW's result, valid after done is closed
	stopped bool  // Close has run

	closeOnce sync.Once
	closeErr  error
}

// s3Credentials is the JSON form of CredentialsFile.
type s3Credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// StartS3 starts versitygw with its posix backend in this process and
// returns once it listens. ctx bounds start-up only; the server runs until
// Close.
//
// Beware: versitygw's posix backend resolves bucket and object paths relative
// to the working directory, so it changes the process's working directory to
// Dir (os.Chdir) for as long as it runs; Close restores the previous one. Any
// path the application uses must therefore be absolute before StartS3 is
// called (StartS3 itself makes Dir and CredentialsFile absolute first).
func StartS3(ctx context.Context, cfg S3Config) (*S3, error) {
	addr, err := loopbackAddr(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	if cfg.Dir == "" {
		return nil, errors.New("embedded: start s3: S3Config.Dir is empty")
	}

	if cfg.CredentialsFile == "" {
		return nil, errors.New("embedded: start s3: S3Config.CredentialsFile is empty")
	}

	// Fail before posix.New changes the working directory under a gateway
	// that is already running and relies on it.
	if err := gatewayAlreadyRunning(ctx); err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	credFile, err := filepath.Abs(cfg.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	if err = os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	creds, err := loadOrCreateCredentials(credFile)
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	ms, sidecar, err := chooseMetaStorer(dir, meta.XattrMeta{}.Test)
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	prevWD, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("embedded: start s3: %w", err)
	}

	host, port, _ := net.SplitHostPort(addr) // validated by loopbackAddr

	log := loggerOrStderr(cfg.Logger)

	for attempt := 1; ; attempt++ {
		p := port
		if port == "0" {
			if p, err = freePort(host); err != nil {
				return nil, fmt.Errorf("embedded: start s3: %w", err)
			}
		}

		s, err := startGateway(ctx, dir, sidecar, ms, net.JoinHostPort(host, p), creds, log)
		if err == nil {
			s.prevWD = prevWD
			log.Info("embedded s3 started", slog.String("endpoint", s.endpoint), slog.String("dir", dir))

			return s, nil
		}

		// Undo the posix backend's chdir.
		_ = os.Chdir(prevWD)

		if port != "0" || attempt >= s3BindAttempts || !isAddrInUse(err) {
			return nil, fmt.Errorf("embedded: start s3: %w", err)
		}
	}
}

// startGateway runs one RunVersityGW on addr and waits until it listens or
// fails.
func startGateway(ctx context.Context, dir, sidecar string, ms meta.MetadataStorer, addr string, creds s3Credentials, log *slog.Logger) (*S3, error) {
	// A new backend per attempt: RunVersityGW shuts its backend down when it
	// returns, even after a failed bind.
	be, err := posix.New(dir, ms, posix.PosixOpts{SideCarDir: sidecar})
	if err != nil {
		return nil, fmt.Errorf("posix backend: %w", err)
	}

	listening := make(chan struct{})
	var once sync.Once

	gcfg := &embedgw.Config{
		RootUserAccess: creds.AccessKey,
		RootUserSecret: creds.SecretKey,
		// What RunVersityGW would build for single-account mode, minus the
		// line auth.New prints on stdout (where `sprout stores` prints the
		// environment for other instances).
		IAMService: auth.NewIAMServiceSingle(auth.Account{
			Access: creds.AccessKey,
			Secret: creds.SecretKey,
			Role:   auth.RoleAdmin,
		}),
		Ports:             []string{addr},
		MaxConnections:    s3MaxConnections,
		MaxRequests:       s3MaxRequests,
		MultipartMaxParts: s3MaxParts,
		// No per-request lines on stdout, no banner.
		Quiet: true,
		// Re-using connections matters for an application that streams
		// many objects; fasthttp still closes idle ones on shutdown.
		KeepAlive: true,
		S3Options: []s3api.Option{
			s3api.WithOnListen(func() { once.Do(func() { close(listening) }) }),
		},
	}

	// The gateway outlives the start-up context, but keeps its values.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))

	s := &S3{
		endpoint: addr,
		access:   creds.AccessKey,
		secret:   creds.SecretKey,
		cancel:   cancel,
		done:     make(chan struct{}),
	}

	go func() {
		err := embedgw.RunVersityGW(runCtx, be, gcfg)

		s.mu.Lock()
		s.runErr = err
		stopped := s.stopped
		s.mu.Unlock()

		// Failures before listening are returned by StartS3 instead.
		if err != nil && !stopped && isClosed(listening) {
			log.Error("embedded s3 stopped", slog.Any("error", err))
		}

		close(s.done)
	}()

	startCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var c context.CancelFunc
		startCtx, c = context.WithTimeout(ctx, defaultStartTimeout)
		defer c()
	}

	select {
	case <-listening:
		return s, nil
	case <-s.done:
		cancel()

		if s.runErr == nil {
			return nil, errors.New("versitygw returned before listening")
		}

		return nil, fmt.Errorf("versitygw: %w", s.runErr)
	case <-startCtx.Done():
		cancel()
		<-s.done

		return nil, fmt.Errorf("versitygw did not start listening: %w", context.Cause(startCtx))
	}
}

// Endpoint returns "127.0.0.1:PORT" (no scheme; plain HTTP), as minio.New
// wants it.
func (s *S3) Endpoint() string {
	return s.endpoint
}

// AccessKey returns the root access key.
func (s *S3) AccessKey() string {
	return s.access
}

// SecretKey returns the root secret key.
func (s *S3) SecretKey() string {
	return s.secret
}

// Close stops the gateway, waits until it has shut down (it lets in-flight
// requests finish for up to 10 seconds) and restores the working directory
// that StartS3 found. It is safe to call more than once; it returns the error
// the gateway stopped with, if it stopped on its own.
func (s *S3) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()

		s.cancel()
		<-s.done

		if s.runErr != nil {
			s.closeErr = fmt.Errorf("embedded: s3: %w", s.runErr)
		}

		if s.prevWD != "" {
			if err := os.Chdir(s.prevWD); err != nil {
				s.closeErr = errors.Join(s.closeErr, fmt.Errorf("embedded: s3: restore working directory: %w", err))
			}
		}
	})

	return s.closeErr
}

// loadOrCreateCredentials reads the root keys from path, or generates and
// saves them if the file does not exist. Keys are never regenerated over an
// unreadable file: that would silently invalidate every configured client.
func loadOrCreateCredentials(path string) (s3Credentials, error) {
	creds, err := readCredentials(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return creds, err
	}

	creds = s3Credentials{
		// S3-style key shapes: 20-character access key, 40-character
		// secret; base32 from crypto/rand (≥ 100 and 200 random bits).
		AccessKey: rand.Text()[:20],
		SecretKey: (rand.Text() + rand.Text())[:40],
	}

	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return s3Credentials{}, err
	}

	if err = os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return s3Credentials{}, fmt.Errorf("credentials: %w", err)
	}

	// Write a temporary file (CreateTemp makes it 0600), then hard-link it
	// into place: the link fails if another process created the file
	// meanwhile, and a reader never sees a half-written file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".s3-credentials-*")
	if err != nil {
		return s3Credentials{}, fmt.Errorf("credentials: %w", err)
	}
	defer os.Remove(tmp.Name())

	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s3Credentials{}, fmt.Errorf("credentials: %w", err)
	}

	if err = os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return readCredentials(path)
		}

		return s3Credentials{}, fmt.Errorf("credentials: %w", err)
	}

	return creds, nil
}

// readCredentials reads and validates the credentials file, tightening its
// mode to 0600 if it was readable by others.
func readCredentials(path string) (s3Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return s3Credentials{}, fmt.Errorf("credentials: %w", err)
	}

	var creds s3Credentials
	if err = json.Unmarshal(data, &creds); err != nil {
		return s3Credentials{}, fmt.Errorf("credentials %s: %w", path, err)
	}

	if creds.AccessKey == "" || creds.SecretKey == "" {
		return s3Credentials{}, fmt.Errorf("credentials %s: access_key or secret_key is empty", path)
	}

	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err = os.Chmod(path, 0o600); err != nil {
			return s3Credentials{}, fmt.Errorf("credentials: %w", err)
		}
	}

	return creds, nil
}

// chooseMetaStorer picks where versitygw keeps object metadata (ETag,
// content type, user metadata). Extended attributes on the object files are
// its default; where the filesystem lacks them, a sidecar directory beside
// Dir (DIR.meta) is used. Once a sidecar directory exists it is always used,
// so the choice cannot flip between runs and orphan the metadata.
func chooseMetaStorer(dir string, xattrTest func(string) error) (meta.MetadataStorer, string, error) {
	sidecar := filepath.Clean(dir) + ".meta"

	useSidecar := false
	if fi, err := os.Stat(sidecar); err == nil && fi.IsDir() {
		useSidecar = true
	} else if err := xattrTest(dir); err != nil {
		useSidecar = true
	}

	if !useSidecar {
		return meta.XattrMeta{}, "", nil
	}

	if err := os.MkdirAll(sidecar, 0o750); err != nil {
		return nil, "", fmt.Errorf("metadata directory: %w", err)
	}

	sc, err := meta.NewSideCar(sidecar)
	if err != nil {
		return nil, "", fmt.Errorf("metadata directory: %w", err)
	}

	return sc, sidecar, nil
}

// gatewayAlreadyRunning reports an error if a versitygw gateway already runs
// in this process. embedgw only tells by refusing to start, so this calls
// RunVersityGW with an empty configuration: v1.8.0 first claims the
// one-per-process slot (failing if taken), then rejects the empty root keys
// and releases the slot, without touching the (nil) backend.
func gatewayAlreadyRunning(ctx context.Context) error {
	err := embedgw.RunVersityGW(ctx, nil, &embedgw.Config{})
	if err != nil && strings.Contains(err.Error(), "already running") {
		return fmt.Errorf("another S3 gateway runs in this process (versitygw allows one): %w", err)
	}

	return nil
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// freePort asks the kernel for a free port on host. versitygw binds its own
// listener and does not report the port it got, so "port 0" must be resolved
// before it starts.
func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()

	_, port, err := net.SplitHostPort(l.Addr().String())

	return port, err
}

// isAddrInUse reports whether err is a failed bind because the port was
// taken.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
