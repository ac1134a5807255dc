// Package embedded runs Sprout's zero-configuration data stores inside the
// process: FerretDB v1 (MongoDB wire protocol over SQLite, or PostgreSQL) for
// documents and versitygw (a real S3 server over a plain folder) for pitch
// decks. The application talks to both through the same drivers it uses in
// production (mongo-driver v2 and minio-go), so the embedded default exercises
// the production code paths.
//
// FerretDB has no authentication here (its embeddable package does not
// offer it), so it never listens on TCP, where any local process could read
// every password hash, session and token: it serves a Unix socket of mode
// 0600 in a directory of mode 0700, which only this user (and root) can
// reach. versitygw checks S3 signatures and listens on loopback only: it has
// no TLS, so it must not face a network either.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// defaultAddr makes the operating system choose a free loopback port (for
// the S3 server; FerretDB has no TCP listener).
const defaultAddr = "127.0.0.1:0"

// SocketName is the file name of FerretDB's Unix socket. The driver takes a
// host ending in "sock" for a socket path.
const SocketName = "mongodb.sock"

// MaxSocketPath is the longest Unix socket path Linux accepts: sun_path is
// 108 bytes including the terminating NUL.
const MaxSocketPath = 107

// defaultFixInterval is how often a running Mongo re-applies the SQLite _id
// index fix, so that collections created after start-up (by this process or,
// under `sprout stores`, by other instances) get the index too.
const defaultFixInterval = 30 * time.Second

// defaultStartTimeout bounds start-up when the caller's context has no
// deadline, so a broken PostgreSQL URL fails start-up instead of hanging it.
const defaultStartTimeout = 30 * time.Second

// MongoConfig configures the embedded FerretDB server.
type MongoConfig struct {
	// Dir is the directory holding FerretDB's SQLite files, one per database
	// (e.g. $DATA/mongo). It is created if missing. Unused when PostgreSQLURL
	// is set. Make it absolute before StartS3 runs: see StartS3.
	Dir string
	// Socket is the path of the Unix socket FerretDB listens on; it is made
	// absolute (versitygw changes the working directory). Its directory is
	// created with mode 0700 if missing; an existing one must be a real
	// directory of this user with mode 0700. The socket is made 0600. A
	// socket left by a killed process is removed; one that answers is an
	// error (another server uses it). "" or a path longer than
	// MaxSocketPath bytes means a fresh private directory from os.MkdirTemp
	// instead, removed at Close (the long case logs a warning naming it).
	// SocketPath gives the usual place in a data directory. There is no TCP
	// option: FerretDB here has no authentication.
	Socket string
	// PostgreSQLURL, when set, makes FerretDB store documents in that
	// PostgreSQL database (its postgresql handler) instead of SQLite files.
	PostgreSQLURL string
	// Logger receives FerretDB's errors and the embedded stack's own
	// messages; nil logs errors to stderr.
	Logger *slog.Logger

	// fixInterval overrides defaultFixInterval; negative disables the
	// periodic fix. Tests use it to observe FerretDB's unfixed behaviour.
	fixInterval time.Duration
}

// Mongo is a running embedded FerretDB server. Its methods are safe for
// concurrent use.
type Mongo struct {
	uri    string
	socket string // absolute socket path
	tmpDir string // private directory made for the socket, removed at Close; or ""
	dir    string // absolute SQLite directory; "" in PostgreSQL mode
	log    *slog.Logger

	cancelRun context.CancelFunc
	runDone   chan struct{}

	cancelFix context.CancelFunc
	fixDone   chan struct{}

	fixMu     sync.Mutex // serialises FixIndexes runs
	closeOnce sync.Once
}

// StartMongo starts FerretDB in this process and returns once it answers a
// ping. ctx bounds start-up only; the server runs until Close.
//
// In SQLite mode it first applies FixIndexes to existing databases and then
// re-applies it periodically until Close.
func StartMongo(ctx context.Context, cfg MongoConfig) (m *Mongo, err error) {
	log := loggerOrStderr(cfg.Logger)
	m = &Mongo{log: log}

	// Checked before anything is created on disk.
	socket, err := socketPlan(cfg.Socket)
	if err != nil {
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	fcfg := &ferretdb.Config{
		Logger: errorOnlyLogger(log).With(slog.String("component", "ferretdb")),
	}

	if cfg.PostgreSQLURL != "" {
		fcfg.Handler = "postgresql"
		fcfg.PostgreSQLURL = cfg.PostgreSQLURL
	} else {
		if cfg.Dir == "" {
			return nil, errors.New("embedded: start ferretdb: MongoConfig.Dir is empty")
		}

		dir, err := filepath.Abs(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
		}

		// The directory becomes part of a SQLite URI ("file:DIR/?..."),
		// where these characters would start the query or fragment or be
		// percent-decoded.
		if strings.ContainsAny(dir, "?#%") {
			return nil, fmt.Errorf("embedded: start ferretdb: directory %q must not contain '?', '#' or '%%'", dir)
		}

		if err = os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
		}

		m.dir = dir

		// Before FerretDB opens the files, so nothing contends for locks.
		if err = m.FixIndexes(ctx); err != nil {
			return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
		}

		fcfg.Handler = "sqlite"
		fcfg.SQLiteURL = "file:" + dir + "/"
	}

	if socket == "" {
		// No path, or one the kernel would refuse: a private directory.
		if m.tmpDir, err = os.MkdirTemp("", "sprout-mongo-"); err != nil {
			return nil, fmt.Errorf("embedded: start ferretdb: socket directory: %w", err)
		}

		tmpDir := m.tmpDir
		defer func() {
			if err != nil {
				_ = os.RemoveAll(tmpDir)
			}
		}()

		socket = filepath.Join(m.tmpDir, SocketName)
		if err = CheckSocketPath(socket); err != nil {
			return nil, fmt.Errorf("embedded: start ferretdb: %w (set TMPDIR to a shorter directory)", err)
		}

		if cfg.Socket != "" {
			log.Warn("embedded ferretdb: the socket path in the data directory is too long for the kernel; using a private temporary directory instead",
				slog.String("wanted", cfg.Socket), slog.Int("bytes", len(cfg.Socket)), slog.Int("limit", MaxSocketPath), slog.String("socket", socket))
		}
	} else if err = prepareSocket(socket); err != nil {
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	m.socket = socket
	fcfg.Listener = ferretdb.ListenerConfig{Unix: socket}

	// New binds the listener, so a socket in use fails here, synchronously.
	f, err := ferretdb.New(fcfg)
	if err != nil {
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	// The server outlives the start-up context, but keeps its values.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	m.cancelRun = cancelRun
	m.runDone = make(chan struct{})

	go func() {
		defer close(m.runDone)

		// Run always returns nil; it returns once everything is closed.
		_ = f.Run(runCtx)
	}()

	// The socket was made with the umask's mode; the 0700 directory already
	// kept others out in between.
	if err = os.Chmod(socket, 0o600); err != nil {
		m.stopRun()
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	m.uri = SocketURI(socket)

	if err = ping(ctx, m.uri); err != nil {
		m.stopRun()
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	interval := cfg.fixInterval
	if interval == 0 {
		interval = defaultFixInterval
	}

	if m.dir != "" && interval > 0 {
		fixCtx, cancelFix := context.WithCancel(context.WithoutCancel(ctx))
		m.cancelFix = cancelFix
		m.fixDone = make(chan struct{})

		go m.fixLoop(fixCtx, interval)
	}

	log.Info("embedded ferretdb started", slog.String("uri", m.uri), slog.String("socket", m.socket), slog.String("handler", fcfg.Handler))

	return m, nil
}

// URI returns the MongoDB connection string: the socket path, escaped, as
// the host, e.g. "mongodb://%2Fsrv%2Fsprout%2Fsocket%2Fmongodb.sock/".
func (m *Mongo) URI() string {
	return m.uri
}

// Socket returns the absolute path of the Unix socket the server listens on.
func (m *Mongo) Socket() string {
	return m.socket
}

// SocketPath returns where the embedded FerretDB of a data directory
// listens: DATA/socket/mongodb.sock.
func SocketPath(dataDir string) string {
	return filepath.Join(dataDir, "socket", SocketName)
}

// Serving reports whether a server accepts connections on the Unix socket
// at path (for a command that should use the data directory's running
// server instead of starting a second one on the same files).
func Serving(path string) bool {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return false
	}

	_ = c.Close()

	return true
}

// SocketURI returns the MongoDB connection string for a Unix socket path.
// The driver query-unescapes the host, so the path is query-escaped ("/" as
// %2F, a space as "+").
func SocketURI(path string) string {
	return "mongodb://" + url.QueryEscape(path) + "/"
}

// CheckSocketPath reports why path cannot be FerretDB's socket: longer than
// MaxSocketPath bytes, or containing ':', which the driver would read as a
// port separator after unescaping the host.
func CheckSocketPath(path string) error {
	if len(path) > MaxSocketPath {
		return fmt.Errorf("socket path %q is %d bytes; Unix socket paths are limited to %d", path, len(path), MaxSocketPath)
	}

	if strings.Contains(path, ":") {
		return fmt.Errorf("socket path %q must not contain ':' (a MongoDB URI cannot carry it)", path)
	}

	return nil
}

// socketPlan returns the absolute socket path to use, or "" for a private
// temporary directory (no path, or one too long for the kernel).
func socketPlan(path string) (string, error) {
	if path == "" {
		return "", nil
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("socket: %w", err)
	}

	if len(abs) > MaxSocketPath {
		return "", nil
	}

	if err = CheckSocketPath(abs); err != nil {
		return "", err
	}

	return abs, nil
}

// prepareSocket makes the socket's directory private and removes a stale
// socket file.
func prepareSocket(path string) error {
	dir := filepath.Dir(path)

	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}

	switch err := os.Mkdir(dir, 0o700); {
	case err == nil:
		// The umask can only have taken bits away; make it exactly 0700.
		if err = os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("socket directory: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("socket directory: %w", err)
	}

	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}

	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory", dir)
	}

	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("socket directory %s belongs to uid %d, not to this user (uid %d)", dir, st.Uid, os.Geteuid())
	}

	if perm := fi.Mode().Perm(); perm != 0o700 {
		return fmt.Errorf("socket directory %s has mode %#o; it must be private (chmod 700 %s)", dir, perm, dir)
	}

	return removeStaleSocket(path)
}

// removeStaleSocket removes path if it is a socket nobody serves (left by a
// killed process), and fails if a server answers on it or it is not a
// socket.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}

	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}

	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket", path)
	}

	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("socket %s is in use: another process serves these documents (stop it, or point SPROUT_MONGODB_URI at %s)", path, SocketURI(path))
	}

	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("socket %s: %w", path, err)
	}

	if err = os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}

	return nil
}

// Close stops the server: it cancels FerretDB's Run and waits for it to
// return (FerretDB gives connected clients up to 3 seconds to disconnect);
// the socket file goes with the listener, and a temporary socket directory
// is removed. It is safe to call more than once.
func (m *Mongo) Close() (err error) {
	m.closeOnce.Do(func() {
		if m.cancelFix != nil {
			m.cancelFix()
			<-m.fixDone
		}

		m.stopRun()

		if m.tmpDir != "" {
			err = os.RemoveAll(m.tmpDir)
		}
	})

	return err
}

// stopRun cancels FerretDB's Run and waits for it to return.
func (m *Mongo) stopRun() {
	m.cancelRun()
	<-m.runDone
}

// fixLoop re-applies FixIndexes every interval until ctx is cancelled.
func (m *Mongo) fixLoop(ctx context.Context, interval time.Duration) {
	defer close(m.fixDone)

	t := time.NewTicker(interval)
	defer t.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.FixIndexes(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("embedded ferretdb: periodic _id index fix failed", slog.Any("error", err))
			}
		}
	}
}

// ping waits until the server at uri answers a ping command. It goes through
// the real driver so that a handler that cannot reach its backend (a wrong
// PostgreSQL URL) fails start-up rather than the first request.
func ping(ctx context.Context, uri string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}

	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}

	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()

	if err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}

	return nil
}

// loopbackAddr validates a listen address: the host must be a loopback IP or
// "localhost" (which is mapped to 127.0.0.1 so that one port is bound, not
// one per resolved address). "" means defaultAddr.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return defaultAddr, nil
	}

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}

	if host == "localhost" {
		host = "127.0.0.1"
	}

	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("listen address %q is not loopback: the embedded S3 server has no TLS and must listen on 127.0.0.1 or ::1", addr)
	}

	return net.JoinHostPort(ip.String(), port), nil
}

// loggerOrStderr returns l, or for nil a logger that prints errors to stderr:
// silence would hide why a store stopped working.
func loggerOrStderr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}

	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// errorOnlyLogger returns a logger that writes through l's handler but only
// at ERROR and above: FerretDB logs every error reply it sends at WARN, which
// in an application that uses "not found" and "duplicate key" as normal
// control flow would drown real problems.
func errorOnlyLogger(l *slog.Logger) *slog.Logger {
	return slog.New(minLevelHandler{h: l.Handler(), min: slog.LevelError})
}

// minLevelHandler wraps a slog.Handler and drops records below min. slog has
// no way to raise the level of an existing handler, hence the wrapper.
type minLevelHandler struct {
	h   slog.Handler
	min slog.Level
}

// Enabled implements slog.Handler.
func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.h.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min {
		return nil
	}

	return h.h.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{h: h.h.WithAttrs(attrs), min: h.min}
}

// WithGroup implements slog.Handler.
func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{h: h.h.WithGroup(name), min: h.min}
}
