package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/address"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// dialChildEnv marks a re-executed test binary as the attacker: it only
// connects to the MongoDB URI in this variable and pings (see TestMain).
const dialChildEnv = "SPROUT_EMBEDDED_TEST_DIAL_URI"

// dialChild is the attacker's side: a real mongo-driver client that
// connects to uri and pings. It prints "ok" or the error and returns the
// exit status (0 connected, 3 refused).
func dialChild(uri string, out io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(3 * time.Second))
	if err == nil {
		defer func() { _ = c.Disconnect(context.Background()) }()
		err = c.Database("sprout").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	}

	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return 3
	}

	fmt.Fprintln(out, "ok")

	return 0
}

// ownTCPListeners returns the TCP sockets in LISTEN state that belong to
// this process, as inode → local address (hex, as /proc/net/tcp{,6} print
// it). Sockets of other processes are left out, so parallel test runs on the
// machine do not disturb the comparison.
func ownTCPListeners(t testing.TB) map[string]string {
	t.Helper()

	own := map[string]bool{}

	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}

	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			own[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}

	listening := map[string]string{}

	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if errors.Is(err, fs.ErrNotExist) && table == "/proc/net/tcp6" {
			continue // no IPv6 in this kernel
		}

		if err != nil {
			t.Fatal(err)
		}

		sc := bufio.NewScanner(f)
		sc.Scan() // header

		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}

			if fields[3] == "0A" && own[fields[9]] { // TCP_LISTEN
				listening[fields[9]] = table + " " + fields[1]
			}
		}

		err = sc.Err()
		f.Close()

		if err != nil {
			t.Fatal(err)
		}
	}

	return listening
}

// socketFromURI returns the Unix socket path a mongodb:// URI names, as
// the driver's own parser reads it, or "" if its host is not a socket path.
func socketFromURI(t testing.TB, uri string) string {
	t.Helper()

	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		t.Fatalf("URI %q: %v", uri, err)
	}

	if len(cs.Hosts) != 1 {
		t.Fatalf("URI %q has hosts %q", uri, cs.Hosts)
	}

	p := cs.Hosts[0]
	if address.Address(p).Network() != "unix" || !filepath.IsAbs(p) {
		return ""
	}

	return p
}

// TestMongoSocketOnly attacks the embedded FerretDB as another local user
// would: it starts FerretDB the way the application does, in a data
// directory that everyone may traverse, and checks that
//
//	(a) it opens no TCP listener: the URI names a socket file, not a
//	    host:port, and this process has no LISTEN socket in
//	    /proc/net/tcp{,6} after the start that it did not have before;
//	(b) the socket is mode 0600 in a directory of mode 0700 owned by us;
//	(c) a real client (this test binary re-executed as "nobody", through
//	    runuser or setpriv) cannot connect: permission denied. Controls: the
//	    same client as root connects, and as nobody it connects too once the
//	    permissions are loosened — so (c) fails because of the permissions
//	    and nothing else.
func TestMongoSocketOnly(t *testing.T) {
	sharedS3(t) // listens on TCP: the scan must see it

	before := ownTCPListeners(t)
	if len(before) == 0 {
		t.Fatal("no TCP listener of this process found, though the shared S3 gateway listens on TCP: the /proc scan is broken")
	}

	data := worldTraversableDir(t)

	// As app.New does for SPROUT_DATA_DIR.
	m, err := StartMongo(t.Context(), MongoConfig{Dir: filepath.Join(data, "mongo"), Socket: SocketPath(data), fixInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	// (a)
	for inode, addr := range ownTCPListeners(t) {
		if _, ok := before[inode]; !ok {
			t.Errorf("a new TCP listener appeared with FerretDB: %s (inode %s)", addr, inode)
		}
	}

	sock := socketFromURI(t, m.URI())
	if sock == "" {
		t.Fatalf("URI() = %q: want mongodb://<escaped absolute socket path>/, not a host:port", m.URI())
	}

	if sock != SocketPath(data) || m.Socket() != sock {
		t.Errorf("socket %s (Socket() %s), want %s", sock, m.Socket(), SocketPath(data))
	}

	// (b)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}

	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: mode %v, want a socket of mode 0600", sock, fi.Mode())
	}

	sockDir := filepath.Dir(sock)

	di, err := os.Lstat(sockDir)
	if err != nil {
		t.Fatal(err)
	}

	if !di.IsDir() || di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s: mode %v, want a directory of mode 0700", sockDir, di.Mode())
	}

	if st, ok := di.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		t.Errorf("socket directory %s is not owned by this user", sockDir)
	}

	// (c)
	child := attackerCommand(t)

	if out, code := child(false, m.URI()); code != 0 {
		t.Fatalf("control: the client as %s could not connect (exit %d): %s", currentUser(), code, out)
	}

	out, code := child(true, m.URI())
	if code == 0 {
		t.Fatalf("an unprivileged user connected to the embedded FerretDB: %s", out)
	}

	if code != 3 || !strings.Contains(out, "permission denied") {
		t.Fatalf("unprivileged client: exit %d, %q; want exit 3 with permission denied", code, out)
	}

	t.Logf("as nobody: %s", strings.TrimSpace(out))

	// Control: loosened, the unprivileged client gets through, so what
	// stopped it above was the permissions.
	if err = os.Chmod(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}

	if err = os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}

	out, code = child(true, m.URI())

	if err = os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}

	if err = os.Chmod(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}

	if code != 0 {
		t.Fatalf("control: with the permissions loosened the unprivileged client still failed (exit %d): %s", code, out)
	}
}

// worldTraversableDir returns a new directory of mode 0755 (t.TempDir's are
// 0700, which alone would stop another user), removed at the end.
func worldTraversableDir(t testing.TB) string {
	t.Helper()

	dir, err := os.MkdirTemp("", "sprout-socket-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	if err = os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	return dir
}

func currentUser() string {
	return fmt.Sprintf("uid %d", os.Geteuid())
}

// attackerCommand returns a function that runs dialChild on a URI in a
// copy of this test binary, as this user or (unprivileged) as nobody
// (uid/gid 65534), and returns its output and exit status. Tests run as root
// here; without root, or without runuser and setpriv, the test is skipped,
// except under CI=true, where it fails.
func attackerCommand(t testing.TB) func(unprivileged bool, uri string) (string, int) {
	t.Helper()

	need := func(format string, args ...any) {
		t.Helper()

		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: "+format, args...)
		}

		t.Skipf(format, args...)
	}

	if os.Geteuid() != 0 {
		need("not root: cannot run a client as another user")
	}

	var drop []string

	if p, err := exec.LookPath("runuser"); err == nil {
		drop = []string{p, "-u", "nobody", "--"}
	} else if p, err := exec.LookPath("setpriv"); err == nil {
		drop = []string{p, "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	} else {
		need("neither runuser nor setpriv is installed")
	}

	// The go tool's build directory is private; copy the binary where
	// nobody may execute it.
	binDir := worldTraversableDir(t)
	bin := filepath.Join(binDir, "embedded.test")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	if err = copyFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}

	return func(unprivileged bool, uri string) (string, int) {
		t.Helper()

		args := []string{bin, "-test.run=^$"}
		if unprivileged {
			args = append(append([]string{}, drop...), args...)
		}

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()

		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = binDir
		cmd.Env = append(os.Environ(), dialChildEnv+"="+uri)

		out, err := cmd.CombinedOutput()

		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}

		return string(out), cmd.ProcessState.ExitCode()
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()

	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}

	if _, err = io.Copy(out, in); err != nil {
		out.Close()
		return err
	}

	return out.Close()
}

// TestMongoSocketPathEscaping: a data directory with a space, a plus sign,
// '@', ',' and Vietnamese letters still gives a URI the driver reads back to
// the same socket path.
func TestMongoSocketPathEscaping(t *testing.T) {
	data := filepath.Join(worldTraversableDir(t), "Lào Cai+dữ liệu @1,2")

	m, err := StartMongo(t.Context(), MongoConfig{Dir: filepath.Join(data, "mongo"), Socket: SocketPath(data), fixInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	if got := socketFromURI(t, m.URI()); got != SocketPath(data) {
		t.Errorf("URI %q names %q, want %q", m.URI(), got, SocketPath(data))
	}

	c := mongoClient(t, m.URI())
	coll := c.Database("esc").Collection("items")

	if _, err = coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}

	if n, err := coll.CountDocuments(t.Context(), bson.D{}); err != nil || n != 1 {
		t.Errorf("count = %d, %v", n, err)
	}
}

// TestMongoSocketTooLong: when the data directory's socket path is longer
// than the kernel accepts, FerretDB listens in a private temporary directory
// instead, says where in the log, and removes it at Close.
func TestMongoSocketTooLong(t *testing.T) {
	data := filepath.Join(worldTraversableDir(t), strings.Repeat("d", 120))
	want := SocketPath(data)

	if len(want) <= MaxSocketPath {
		t.Fatalf("test path %d bytes is not too long", len(want))
	}

	log, buf := testLogger()

	m, err := StartMongo(t.Context(), MongoConfig{Dir: filepath.Join(data, "mongo"), Socket: want, Logger: log, fixInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	sock := m.Socket()
	if sock == want || len(sock) > MaxSocketPath || socketFromURI(t, m.URI()) != sock {
		t.Fatalf("socket %q (URI %q); want a short path elsewhere", sock, m.URI())
	}

	if !strings.Contains(buf.String(), "too long") || !strings.Contains(buf.String(), sock) {
		t.Errorf("the log does not say where the socket went:\n%s", buf)
	}

	if _, err = os.Stat(want); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: %v; want nothing there", want, err)
	}

	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, %v; want mode 0600", sock, fi.Mode(), err)
	}

	if di, err := os.Lstat(filepath.Dir(sock)); err != nil || !di.IsDir() || di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory: %v, %v; want mode 0700", di.Mode(), err)
	}

	c := mongoClient(t, m.URI())
	if err = c.Database("long").RunCommand(t.Context(), bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Fatal(err)
	}

	_ = c.Disconnect(t.Context())

	if err = m.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err = os.Stat(filepath.Dir(sock)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary socket directory after Close: %v; want it removed", err)
	}
}

// TestMongoSocketStaleAndBusy: a socket file left by a killed process is
// replaced; a socket another server answers on is refused, and that server
// keeps working.
func TestMongoSocketStaleAndBusy(t *testing.T) {
	data := worldTraversableDir(t)
	sock := SocketPath(data)

	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		t.Fatal(err)
	}

	// What kill -9 leaves: a socket file nobody listens on.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}

	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()

	cfg := MongoConfig{Dir: filepath.Join(data, "mongo"), Socket: sock, fixInterval: -1}

	m, err := StartMongo(t.Context(), cfg)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	t.Cleanup(func() { m.Close() })

	m2, err := StartMongo(t.Context(), cfg)
	if err == nil {
		m2.Close()
		t.Fatal("a second server on a socket in use started")
	}

	if !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), sock) {
		t.Errorf("error %q; want it to say the socket is in use", err)
	}

	c := mongoClient(t, m.URI())
	if err = c.Database("busy").RunCommand(t.Context(), bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Errorf("the first server after the refused start: %v", err)
	}
}

// TestMongoSocketDirChecks: the socket's directory must be private and
// ours, and the path must be a socket; the errors say which.
func TestMongoSocketDirChecks(t *testing.T) {
	base := worldTraversableDir(t)

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}

	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}

	link := filepath.Join(base, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(private, "file.sock")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ socket, mentions string }{
		{filepath.Join(open, SocketName), "chmod 700 " + open},
		{filepath.Join(link, SocketName), "not a directory"},
		{file, "not a socket"},
		{filepath.Join(base, "a:b", SocketName), "':'"},
	} {
		m, err := StartMongo(t.Context(), MongoConfig{Dir: filepath.Join(base, "mongo"), Socket: tc.socket, fixInterval: -1})
		if err == nil {
			m.Close()
			t.Errorf("Socket %s: started", tc.socket)

			continue
		}

		if !strings.Contains(err.Error(), tc.mentions) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Socket %s: %q; want one line mentioning %q", tc.socket, err, tc.mentions)
		}
	}

	if fi, err := os.Stat(open); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the refused directory's mode changed: %v, %v", fi.Mode(), err)
	}
}

func TestCheckSocketPath(t *testing.T) {
	ok := "/" + strings.Repeat("s", MaxSocketPath-1)
	if err := CheckSocketPath(ok); err != nil {
		t.Errorf("%d bytes: %v", len(ok), err)
	}

	for _, bad := range []string{ok + "s", "/srv/a:b/mongodb.sock"} {
		if err := CheckSocketPath(bad); err == nil {
			t.Errorf("CheckSocketPath(%q) = nil", bad)
		}
	}
}
