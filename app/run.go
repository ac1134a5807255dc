package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/sprout-vn/sprout/app/embedded"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/handlers"
	"github.com/sprout-vn/sprout/models"
)

// Version is set at build time with -ldflags "-X github.com/sprout-vn/sprout/app.Version=…".
var Version = "dev"

// defaultMemoryLimit is the soft heap limit of `sprout serve` unless
// GOMEMLIMIT is set.
const defaultMemoryLimit = 64 << 20

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `Usage: sprout [command] [flags]

Commands:
  serve       run the web server (the default)
  user add    create a user: --email E --name N --role R [--role R2]; password on stdin
  user reset-password
              set a new password for --email E (an admin locked out); password on stdin;
              every session and token of the account ends
  stores      run the embedded MongoDB-protocol (Unix socket) and S3 servers on their own
  version     print the version

Configuration comes from SPROUT_* environment variables; run "sprout serve -h" for the flags.
`

// Run is the whole program: it returns the process exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return runServe(rest, stderr, getenv)
	case "user":
		switch {
		case len(rest) > 0 && rest[0] == "add":
			return runUserAdd(rest[1:], stdin, stdout, stderr, getenv)
		case len(rest) > 0 && rest[0] == "reset-password":
			return runResetPassword(rest[1:], stdin, stdout, stderr, getenv)
		}
		fmt.Fprint(stderr, usage)
		return exitUsage
	case "stores":
		return runStores(rest, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "sprout", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sprout: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
}

func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// loadConfig reads the configuration and prints one line naming the bad
// variable on failure.
func loadConfig(args []string, stderr io.Writer, getenv func(string) string) (Config, int) {
	cfg, err := LoadConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) || strings.Contains(err.Error(), flag.ErrHelp.Error()) {
			return cfg, exitUsage
		}
		fmt.Fprintln(stderr, "sprout: configuration:", err)
		return cfg, exitUsage
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		fmt.Fprintln(stderr, "sprout: configuration: SPROUT_DATA_DIR:", err)
		return cfg, exitUsage
	}
	cfg.DataDir = abs
	return cfg, exitOK
}

func runServe(args []string, stderr io.Writer, getenv func(string) string) int {
	cfg, code := loadConfig(args, stderr, getenv)
	if code != exitOK {
		return code
	}
	log := newLogger(stderr, cfg.LogLevel)
	// A soft memory limit makes the garbage collector hand memory back
	// after bursts (password hashing) on a small server. Deck part
	// buffers are outside the heap and not counted (uploads.bufferPool).
	// GOMEMLIMIT, when set, wins.
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	a, err := New(startCtx, cfg, log)
	cancel()
	if err != nil {
		log.Error("start-up failed", "err", err)
		return exitFailure
	}
	ln, err := a.Listen()
	if err != nil {
		_ = a.Close()
		log.Error("start-up failed", "err", err)
		return exitFailure
	}
	if err := a.Serve(ctx, ln); err != nil {
		log.Error("server stopped", "err", err)
		return exitFailure
	}
	log.Info("stopped cleanly")
	return exitOK
}

// roleFlags collects repeated --role values.
type roleFlags []string

func (r *roleFlags) String() string     { return strings.Join(*r, ",") }
func (r *roleFlags) Set(v string) error { *r = append(*r, v); return nil }

func runUserAdd(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "e-mail address (required)")
	name := fs.String("name", "", "full name (required)")
	var roles roleFlags
	fs.Var(&roles, "role", "role: applicant, judge, mentor, staff or admin (repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var rs []models.Role
	for _, s := range roles {
		r, ok := models.ParseRole(s)
		if !ok {
			fmt.Fprintf(stderr, "sprout: --role: unknown role %q (use applicant, judge, mentor, staff or admin)\n", s)
			return exitUsage
		}
		rs = append(rs, r)
	}
	switch {
	case strings.TrimSpace(*email) == "" || !strings.Contains(*email, "@"):
		fmt.Fprintln(stderr, "sprout: --email: a valid e-mail address is required")
		return exitUsage
	case strings.TrimSpace(*name) == "":
		fmt.Fprintln(stderr, "sprout: --name: required")
		return exitUsage
	case len(rs) == 0:
		fmt.Fprintln(stderr, "sprout: --role: at least one role is required")
		return exitUsage
	}
	password, code := readPassword(stdin, stderr, *email)
	if code != exitOK {
		return code
	}
	cfg, code := loadConfig(nil, stderr, getenv)
	if code != exitOK {
		return code
	}
	log := newLogger(stderr, "error")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, closeFn, err := OpenStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	defer closeFn()
	hash, err := models.HashPassword(password)
	if err != nil {
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	u := &models.User{Email: *email, Name: strings.TrimSpace(*name), PasswordHash: hash, Roles: rs}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, models.ErrEmailTaken) {
			fmt.Fprintf(stderr, "sprout: --email: %s is already registered\n", u.Email)
			return exitFailure
		}
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	_ = st.Audit(ctx, models.AuditEvent{Action: models.AuditUserCreated, Target: u.ID, Detail: "cli:" + roles.String()})
	fmt.Fprintf(stdout, "created user %s (%s) with roles %s\n", u.Email, u.ID, roles.String())
	return exitOK
}

func runResetPassword(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("user reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "e-mail address of the account (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if strings.TrimSpace(*email) == "" || !strings.Contains(*email, "@") {
		fmt.Fprintln(stderr, "sprout: --email: a valid e-mail address is required")
		return exitUsage
	}
	password, code := readPassword(stdin, stderr, *email)
	if code != exitOK {
		return code
	}
	cfg, code := loadConfig(nil, stderr, getenv)
	if code != exitOK {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, closeFn, err := OpenStore(ctx, cfg, newLogger(stderr, "error"))
	if err != nil {
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	defer closeFn()
	u, err := st.UserByEmail(ctx, *email)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			fmt.Fprintf(stderr, "sprout: --email: no account has the address %s\n", models.NormalizeEmail(*email))
			return exitFailure
		}
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	hash, err := models.HashPassword(password)
	if err == nil {
		err = st.SetPassword(ctx, u.ID, hash)
	}
	if err == nil {
		err = st.ClearAttempts(ctx, "acct:"+u.Email, handlers.MaxFailuresPerAccountAll, handlers.FailureWindow)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sprout:", err)
		return exitFailure
	}
	_ = st.Audit(ctx, models.AuditEvent{Action: "password:reset", Target: u.ID, Detail: "cli"})
	fmt.Fprintf(stdout, "new password set for %s; every session and token of the account has ended\n", u.Email)
	return exitOK
}

// readPassword reads one line of standard input as the password of the
// account with email and checks it; a code other than exitOK has been
// explained on stderr.
func readPassword(stdin io.Reader, stderr io.Writer, email string) (string, int) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "sprout: reading the password from standard input:", err)
		return "", exitFailure
	}
	password := strings.TrimRight(line, "\r\n")
	if err := models.CheckPassword(password, email); err != nil {
		fmt.Fprintln(stderr, "sprout: password:", passwordProblem(err))
		return "", exitUsage
	}
	return password, exitOK
}

func passwordProblem(err error) string {
	var re *models.RuleError
	if errors.As(err, &re) {
		switch re.Key {
		case "error.password_short":
			return fmt.Sprintf("at least %d characters are required", models.PasswordMin)
		case "error.password_long":
			return fmt.Sprintf("at most %d characters are allowed", models.PasswordMax)
		case "error.password_common":
			return "too common or easy to guess; choose another"
		}
	}
	return err.Error()
}

// OpenStore opens only the document store, for commands that need no web
// server. With no URI configured it uses the embedded FerretDB of the data
// directory: the running one if its socket answers (`sprout serve` is up;
// the socket's directory is private to this user), else one started here.
func OpenStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.Store, func(), error) {
	uri := cfg.MongoURI
	var m *embedded.Mongo
	if sock := embedded.SocketPath(cfg.DataDir); uri == "" && embedded.Serving(sock) {
		uri = embedded.SocketURI(sock)
		log.Info("using the running embedded FerretDB", "socket", sock)
	}
	if uri == "" {
		var err error
		m, err = embedded.StartMongo(ctx, embedded.MongoConfig{Dir: filepath.Join(cfg.DataDir, "mongo"), Socket: embedded.SocketPath(cfg.DataDir), Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("embedded FerretDB: %w", err)
		}
		uri = m.URI()
	}
	st, err := store.Open(ctx, uri, cfg.MongoDatabase, store.Options{})
	if err == nil {
		err = st.EnsureIndexes(ctx)
	}
	if err == nil && m != nil {
		err = m.FixIndexes(ctx)
	}
	closeFn := func() {
		if st != nil {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = st.Close(c)
			cancel()
		}
		if m != nil {
			_ = m.Close()
		}
	}
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return st, closeFn, nil
}

func runStores(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("stores", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr(getenv, "SPROUT_DATA_DIR", "./data"), "data directory (SPROUT_DATA_DIR)")
	mongoSocket := fs.String("mongo-socket", "", "Unix socket for the MongoDB-protocol server, in a private (0700) directory; default DATA/socket/mongodb.sock")
	mongoAddr := fs.String("mongo-addr", "", "removed: the MongoDB-protocol server has no authentication, so it serves only a Unix socket (--mongo-socket)")
	s3Addr := fs.String("s3-addr", "127.0.0.1:9000", "loopback address for the S3 server")
	pgURL := fs.String("postgresql-url", "", "run FerretDB on this PostgreSQL database instead of SQLite")
	noMongo := fs.Bool("no-mongo", false, "do not run the MongoDB-protocol server")
	noS3 := fs.Bool("no-s3", false, "do not run the S3 server")
	logLevel := fs.String("log-level", envOr(getenv, "SPROUT_LOG_LEVEL", "info"), "log level")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *mongoAddr != "" {
		fmt.Fprintln(stderr, "sprout: stores: --mongo-addr: no longer supported: FerretDB has no authentication, so it listens only on a Unix socket that other users cannot open (--mongo-socket; default DATA/socket/mongodb.sock)")
		return exitUsage
	}
	if *noMongo && *noS3 {
		fmt.Fprintln(stderr, "sprout: stores: --no-mongo and --no-s3 leave nothing to run")
		return exitUsage
	}
	socket := ""
	if *mongoSocket != "" {
		// Absolute now: the S3 server changes the working directory.
		abs, err := filepath.Abs(*mongoSocket)
		if err == nil {
			err = embedded.CheckSocketPath(abs)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sprout: stores: --mongo-socket:", err)
			return exitUsage
		}
		socket = abs
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := embedded.RunStores(ctx, embedded.StoresConfig{
		DataDir: *dataDir, MongoSocket: socket, S3Addr: *s3Addr, PostgreSQLURL: *pgURL,
		Mongo: !*noMongo, S3: !*noS3, Logger: newLogger(stderr, *logLevel),
	}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "sprout: stores:", err)
		return exitFailure
	}
	return exitOK
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}
