// Package embedded runs Sprout's zero-configuration data stores inside the
// process: FerretDB v1 (MongoDB wire protocol over SQLite, or PostgreSQL) for
// documents and versitygw (a real S3 server over a plain folder) for pitch
// decks. The application talks to both through the same drivers it uses in
// production (mongo-driver v2 and minio-go), so the embedded default exercises
// the production code paths.
//
// Every server listens on loopback only: these stores have no TLS and, for
// FerretDB, no authentication, so exposing them on a network interface would
// expose all data.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// defaultAddr makes the operating system choose a free loopback port.
const defaultAddr = "127.0.0.1:0"

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
	// Addr is the loopback host:port to listen on; "" or "127.0.0.1:0" picks
	// a free port. Non-loopback addresses are rejected.
	Addr string
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
	uri string
	dir string // absolute SQLite directory; "" in PostgreSQL mode
	log *slog.Logger

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
func StartMongo(ctx context.Context, cfg MongoConfig) (*Mongo, error) {
	addr, err := loopbackAddr(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: start ferretdb: %w", err)
	}

	log := loggerOrStderr(cfg.Logger)
	m := &Mongo{log: log}

	fcfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: addr},
		Logger:   errorOnlyLogger(log).With(slog.String("component", "ferretdb")),
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

	// New binds the listener, so a busy port fails here, synchronously.
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

	m.uri = f.MongoDBURI()

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

	log.Info("embedded ferretdb started", slog.String("uri", m.uri), slog.String("handler", fcfg.Handler))

	return m, nil
}

// URI returns the MongoDB connection string, e.g. "mongodb://127.0.0.1:PORT/".
func (m *Mongo) URI() string {
	return m.uri
}

// Close stops the server: it cancels FerretDB's Run and waits for it to
// return (FerretDB gives connected clients up to 3 seconds to disconnect).
// It is safe to call more than once.
func (m *Mongo) Close() error {
	m.closeOnce.Do(func() {
		if m.cancelFix != nil {
			m.cancelFix()
			<-m.fixDone
		}

		m.stopRun()
	})

	return nil
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
		return "", fmt.Errorf("listen address %q is not loopback: the embedded stores have no TLS or access control and must listen on 127.0.0.1 or ::1", addr)
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
