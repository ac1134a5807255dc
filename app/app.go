package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/session"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/sprout-vn/sprout/app/embedded"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/uploads"
	"github.com/sprout-vn/sprout/views"
)

// Timeouts and lifetimes.
const (
	ShutdownTimeout = 30 * time.Second
	SessionTTL      = 12 * time.Hour
	TokenTTL        = 30 * 24 * time.Hour
	sweepInterval   = 10 * time.Minute
	// formBodyLimit caps every request body except deck uploads, which
	// stream and count their own bytes.
	formBodyLimit = 1 << 20
	// passwordHashSlots bounds argon2id runs at once (19 MiB each).
	passwordHashSlots = 4
	// SessionCookie is the session cookie's name.
	SessionCookie = "sprout_session"
	csrfCookie    = "sprout_csrf"
)

// App is one Sprout instance: its stores, views and HTTP server.
type App struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	store    *store.Store
	bucket   *uploads.Bucket
	decks    *uploads.Decks
	mongo    *embedded.Mongo // nil when an external MongoDB is configured
	s3       *embedded.S3    // nil when an external S3 is configured
	mailer   *mailer         // nil when no SMTP server is configured (staff read the outbox page)
	views    *views.Views
	sessions *session.Store
	web      *fiber.App

	observeCmd func(*event.CommandStartedEvent) // Options.Observe

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Options are for tests: an injected clock.
type Options struct {
	Now func() time.Time
	// Observe, if set, sees every command sent to MongoDB (tests).
	Observe func(*event.CommandStartedEvent)
}

// New builds everything: the embedded stack when nothing else is
// configured, the MongoDB and S3 clients, indexes, the bucket, views and
// routes. It fails fast on anything broken at start.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts ...Options) (a *App, err error) {
	a = &App{cfg: cfg, log: log, now: time.Now}
	for _, o := range opts {
		if o.Now != nil {
			a.now = o.Now
		}
		if o.Observe != nil {
			a.observeCmd = o.Observe
		}
	}
	self := a // a is nil once an error is returned
	defer func() {
		if err != nil {
			_ = self.Close()
		}
	}()
	if err := a.openStores(ctx); err != nil {
		return nil, err
	}
	// Six uploads stream at once (each up to two 5 MiB part buffers,
	// mapped outside the Go heap: 60 MiB at most); more only queue, which
	// on two cores costs no throughput (DESIGN.md targets: peak RSS
	// ≤ 150 MB during 32 concurrent 25 MB uploads; docs/BENCHMARKS.md).
	// One account holds at most UploadsPerAccount of them, the wait for one
	// is bounded, and an upload trickling in under the minimum rate is cut
	// off: one applicant cannot stall the others (issue 7).
	lim := cfg.uploadLimits()
	a.decks = &uploads.Decks{Bucket: a.bucket, Pending: a.store, Now: a.now, Log: log,
		Slots: uploads.NewSlots(lim.UploadSlots), SlotWait: lim.UploadSlotWait, PerOwner: lim.UploadsPerAccount,
		MinRate: uploads.MinRate{BytesPerSecond: max(lim.UploadMinRate, 0), Grace: lim.UploadRateGrace, Window: lim.UploadRateWindow}}
	if a.views, err = views.New(); err != nil {
		return nil, err
	}
	valid, err := handlers.NewValidator()
	if err != nil {
		return nil, err
	}
	a.sessions = session.New(session.Config{
		Storage:        a.store.Sessions(),
		Expiration:     SessionTTL,
		KeyLookup:      "cookie:" + SessionCookie,
		CookieHTTPOnly: true,
		CookieSecure:   cfg.Secure(),
		CookieSameSite: fiber.CookieSameSiteLaxMode,
		KeyGenerator:   randomID,
	})
	// The session's CSRF token is a csrf.Token (loadSession); gob must know
	// the type to decode session data.
	a.sessions.RegisterType(csrf.Token{})
	if cfg.SMTPURL != "" {
		if a.mailer, err = newMailer(a.store, cfg.SMTPURL, cfg.MailFrom, log); err != nil {
			return nil, err
		}
	}
	if a.web, err = a.buildFiber(); err != nil {
		return nil, err
	}
	a.routes(valid)
	bg, stop := context.WithCancel(context.Background())
	a.stop = stop
	a.wg.Add(1)
	go a.sweep(bg)
	a.wg.Add(1)
	go a.repairDerived(bg)
	if a.mailer != nil {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); a.mailer.run(bg) }()
	}
	return a, nil
}

func (a *App) openStores(ctx context.Context) error {
	cfg := a.cfg
	uri := cfg.MongoURI
	if uri == "" {
		dir := filepath.Join(cfg.DataDir, "mongo")
		m, err := embedded.StartMongo(ctx, embedded.MongoConfig{Dir: dir, Socket: embedded.SocketPath(cfg.DataDir), Logger: a.log})
		if err != nil {
			return fmt.Errorf("app: embedded FerretDB: %w", err)
		}
		a.mongo, uri = m, m.URI()
		a.log.Info("using embedded FerretDB (SQLite)", "dir", dir, "socket", m.Socket(), "uri", uri)
	} else {
		a.log.Info("using MongoDB", "uri", redactURI(uri), "database", cfg.MongoDatabase)
	}
	s3cfg := uploads.S3Config{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, Bucket: cfg.S3Bucket, Secure: cfg.S3Secure,
		PublicURL: cfg.S3PublicURL}
	if cfg.S3Endpoint == "" {
		dir := filepath.Join(cfg.DataDir, "objects")
		s, err := embedded.StartS3(ctx, embedded.S3Config{Dir: dir, Addr: "127.0.0.1:0", CredentialsFile: filepath.Join(cfg.DataDir, "s3-credentials.json"), Logger: a.log})
		if err != nil {
			return fmt.Errorf("app: embedded S3 gateway: %w", err)
		}
		a.s3 = s
		s3cfg.Endpoint, s3cfg.AccessKey, s3cfg.SecretKey, s3cfg.Secure = s.Endpoint(), s.AccessKey(), s.SecretKey(), false
		a.log.Info("using embedded S3 gateway (versitygw)", "dir", dir, "endpoint", s.Endpoint(), "bucket", cfg.S3Bucket)
	} else {
		a.log.Info("using S3", "endpoint", cfg.S3Endpoint, "bucket", cfg.S3Bucket, "secure", cfg.S3Secure)
	}
	var err error
	if a.store, err = store.Open(ctx, uri, cfg.MongoDatabase, store.Options{Now: a.now, Observe: a.observeCmd}); err != nil {
		return err
	}
	store.SetLogger(a.store, a.log)
	if err := a.store.EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("app: MongoDB at start: %w", err)
	}
	if a.mongo != nil {
		if err := a.mongo.FixIndexes(ctx); err != nil {
			return fmt.Errorf("app: index embedded collections: %w", err)
		}
	}
	// Derived list documents (docs/DATA.md): built for a data directory
	// made before they existed, repaired after a crash; idempotent.
	// A failure leaves the rows to the repair loop (repairDerived) rather
	// than keeping the server down.
	if n, err := a.store.RebuildDerived(ctx); err != nil {
		a.log.Warn("rebuild derived entry lists: left to the repair loop", "documents", n, "err", err)
	} else if n > 0 {
		a.log.Info("rebuilt derived entry lists", "documents", n)
	}
	if a.bucket, err = uploads.NewBucket(s3cfg); err != nil {
		return err
	}
	if err := a.bucket.Ensure(ctx); err != nil {
		return fmt.Errorf("app: S3 at start: %w", err)
	}
	return nil
}

func (a *App) buildFiber() (*fiber.App, error) {
	proxies, err := a.cfg.trustedProxies()
	if err != nil {
		return nil, err
	}
	fc := fiber.Config{
		AppName:               "Sprout",
		DisableStartupMessage: true,
		// Decks stream from the connection; nothing is pre-parsed or
		// buffered whole (DESIGN.md, "Uploads, measured here").
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    formBodyLimit,
		ReadTimeout:                  10 * time.Minute,
		WriteTimeout:                 10 * time.Minute,
		IdleTimeout:                  90 * time.Second,
		// fasthttp marks a connection active before its first byte unless it
		// reads that byte first; without this one idle browser connection
		// holds graceful shutdown for the full timeout. It also keeps
		// per-connection buffers small on a cheap server.
		ReduceMemoryUsage: true,
		ErrorHandler:      a.errorHandler,
	}
	if len(proxies) > 0 {
		fc.EnableTrustedProxyCheck = true
		fc.TrustedProxies = proxies
		fc.ProxyHeader = fiber.HeaderXForwardedFor
	}
	w := fiber.New(fc)
	w.Server().ExpectHandler = a.expectContinue
	return w, nil
}

// Handler returns the Fiber app (tests call its Test method).
func (a *App) Handler() *fiber.App { return a.web }

// Store returns the persistence layer.
func (a *App) Store() *store.Store { return a.store }

// Bucket returns the deck bucket.
func (a *App) Bucket() *uploads.Bucket { return a.bucket }

// Decks returns the deck pipeline (for tests and tools).
func (a *App) Decks() *uploads.Decks { return a.decks }

// Listen opens the configured address.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("app: listen on %s: %w", a.cfg.Addr, err)
	}
	return ln, nil
}

// Serve answers requests on ln until ctx is cancelled, then stops accepting,
// drains requests in flight for up to ShutdownTimeout and closes the stores
// and the embedded servers.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- a.web.Listener(ln) }()
	a.log.Info("Sprout is serving", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL)
	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down: draining requests", "timeout", ShutdownTimeout.String())
		if err := a.web.ShutdownWithTimeout(ShutdownTimeout); err != nil {
			a.log.Error("shutdown", "err", err)
		}
	case serveErr = <-errc:
	}
	if err := a.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

// Close stops background work, disconnects and stops the embedded servers.
// It is safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		if a.stop != nil {
			a.stop()
		}
		a.wg.Wait()
		var errs []error
		if a.store != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, a.store.Close(ctx))
			cancel()
		}
		if a.s3 != nil {
			errs = append(errs, a.s3.Close())
		}
		if a.mongo != nil {
			errs = append(errs, a.mongo.Close())
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// sweep removes expired sessions, tokens and throttle windows: FerretDB has
// no TTL indexes, and small collections keep look-ups fast.
func (a *App) sweep(ctx context.Context) {
	defer a.wg.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.store.SweepExpired(ctx)
			if err != nil {
				a.log.Warn("sweep expired", "err", err)
			}
			if c, err := a.store.SweepClaims(ctx); err != nil {
				a.log.Warn("sweep write claims", "err", err)
			} else {
				n += c
			}
			// Stale pending uploads and objects no record names.
			if d, err := a.decks.Sweep(ctx, time.Hour); err != nil {
				a.log.Warn("sweep decks", "err", err)
			} else {
				n += int64(d)
			}
			if n > 0 {
				a.log.Info("swept expired and orphaned data", "count", n)
			}
		}
	}
}

// randomID makes session ids: 256 bits from crypto/rand.
func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms; if it does,
		// running on is unsafe.
		fmt.Fprintln(os.Stderr, "sprout: crypto/rand:", err)
		os.Exit(1)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// redactURI hides a password in a connection string for logs.
func redactURI(uri string) string {
	at := strings.LastIndex(uri, "@")
	scheme := strings.Index(uri, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return uri
	}
	cred := uri[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return uri[:scheme+3] + user + ":***" + uri[at:]
	}
	return uri
}
