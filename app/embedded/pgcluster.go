package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres is wrapped by StartPostgresCluster's error when the
// PostgreSQL server tools (initdb, pg_ctl, and runuser plus a postgres user
// when running as root) are not installed, so tests can skip instead of fail.
var ErrNoPostgres = errors.New("postgresql server tools not available")

// pgDatabase is the database StartPostgresCluster creates.
const pgDatabase = "sprout"

// StartPostgresCluster starts a throw-away PostgreSQL cluster for tests and
// CI: initdb into a new directory under dir ("" means the system temporary
// directory), then pg_ctl start on a free 127.0.0.1 port with trust
// authentication, then CREATE DATABASE sprout. It returns the URL
// (postgres://postgres@127.0.0.1:PORT/sprout) and a stop function that stops
// the server and removes the directory.
//
// initdb and the server refuse to run as root; as root they are run as the
// postgres user (runuser -u postgres --) in a directory chowned to it, so dir
// must be traversable by that user (the system temporary directory is; a
// testing.T.TempDir is not).
func StartPostgresCluster(dir string) (url string, stop func() error, err error) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w: %w", ErrNoPostgres, err)
	}

	pgctl, err := exec.LookPath("pg_ctl")
	if err != nil {
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w: %w", ErrNoPostgres, err)
	}

	var (
		runuser  string
		uid, gid = -1, -1
	)

	if os.Geteuid() == 0 {
		if runuser, err = exec.LookPath("runuser"); err != nil {
			return "", nil, fmt.Errorf("embedded: postgres cluster: %w: %w", ErrNoPostgres, err)
		}

		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("embedded: postgres cluster: %w: %w", ErrNoPostgres, err)
		}

		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}

	base, err := os.MkdirTemp(dir, "sprout-pg-")
	if err != nil {
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
	}

	if base, err = filepath.Abs(base); err != nil {
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
	}

	cleanup := func() { _ = os.RemoveAll(base) }

	if uid >= 0 {
		if err = os.Chown(base, uid, gid); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
		}
	}

	// run runs a server tool, as the postgres user when we are root, from
	// inside base: the process's working directory may be one that user
	// cannot enter (StartS3 moves it into the objects directory).
	run := func(bin string, args ...string) error {
		var cmd *exec.Cmd
		if runuser != "" {
			cmd = exec.Command(runuser, append([]string{"-u", "postgres", "--", bin}, args...)...)
		} else {
			cmd = exec.Command(bin, args...)
		}

		cmd.Dir = base
		cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")

		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, out)
		}

		return nil
	}

	data := filepath.Join(base, "data")

	if err = run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
	}

	port, err := freePort("127.0.0.1")
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
	}

	// Loopback TCP only; the Unix socket goes into base rather than
	// /var/run/postgresql, which may not exist or belong to someone else.
	// fsync is pointless for a throw-away cluster and slows tests.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %s -k %s -c fsync=off -c full_page_writes=off", port, base)

	err = run(pgctl, "-D", data, "-l", filepath.Join(base, "postgres.log"), "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(base, "postgres.log"))
		cleanup()

		return "", nil, fmt.Errorf("embedded: postgres cluster: %w\n%s", err, log)
	}

	var once sync.Once
	var stopErr error

	stop = func() error {
		once.Do(func() {
			if err := run(pgctl, "-D", data, "-m", "fast", "-w", "stop"); err != nil {
				stopErr = fmt.Errorf("embedded: postgres cluster: %w", err)
			}

			cleanup()
		})

		return stopErr
	}

	if err = createDatabase(port); err != nil {
		_ = stop()
		return "", nil, fmt.Errorf("embedded: postgres cluster: %w", err)
	}

	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s", port, pgDatabase), stop, nil
}

// createDatabase creates pgDatabase through the maintenance database.
func createDatabase(port string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", port))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{pgDatabase}.Sanitize()); err != nil {
		return fmt.Errorf("create database: %w", err)
	}

	return nil
}
