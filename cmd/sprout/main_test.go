package main

// End-to-end tests of the real binary: TestMain builds it once, and each test
// runs it as a subprocess with its own data directory and a free loopback
// port. Every SPROUT_* variable of the test's environment is dropped (CI sets
// SPROUT_MONGODB_URI for other packages): these tests are about the
// zero-configuration default, embedded FerretDB and versitygw.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Bounds on the waits below.
const (
	readyTimeout = 60 * time.Second // start-up until /readyz answers 200
	stopTimeout  = 35 * time.Second // SIGTERM until exit (the drain allows 30 s)
	cliTimeout   = 2 * time.Minute  // one CLI command (user add starts FerretDB)
)

// e2ePassword is long and uncommon enough for models.CheckPassword.
const e2ePassword = "mùa xuân trên cao nguyên đá"

// sproutBin is the binary TestMain builds.
var sproutBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sprout-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sproutBin = filepath.Join(dir, "sprout")
	build := exec.Command("go", "build", "-o", sproutBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build:", err)
		return 1
	}
	return m.Run()
}

// cleanEnv is the test's environment without any SPROUT_* variable, plus
// extra ("KEY=value").
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPROUT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is how a finished command went.
type result struct {
	code           int
	stdout, stderr string
}

// runSprout runs the binary to completion with stdin and env.
func runSprout(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, sproutBin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("sprout %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("sprout %s: still running after %v\nstderr:\n%s", strings.Join(args, " "), cliTimeout, stderr.String())
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// lockedBuffer collects a subprocess's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one `sprout` (serve) process.
type server struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	stderr  *lockedBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	client  *http.Client
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `sprout` with no arguments in workDir, with SPROUT_ADDR
// on a free port and env added, and waits until GET /readyz answers 200. The
// process is stopped when the test ends if the test has not stopped it.
func startServer(t *testing.T, workDir string, env ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := tryStart(t, workDir, env)
		if err == nil {
			return s
		}
		// The free port may have been taken between freeAddr and the
		// server's listen: try another one.
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			t.Logf("port taken, retrying: %v", err)
			continue
		}
		t.Fatalf("start sprout: %v\nstderr:\n%s", err, s.stderr.String())
	}
}

func tryStart(t *testing.T, workDir string, env []string) (*server, error) {
	addr := freeAddr(t)
	s := &server{
		base:   "http://" + addr,
		stderr: &lockedBuffer{},
		done:   make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	s.cmd = exec.Command(sproutBin)
	s.cmd.Env = cleanEnv(append([]string{"SPROUT_ADDR=" + addr}, env...)...)
	s.cmd.Dir = workDir
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return s, err
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
		if t.Failed() {
			t.Logf("sprout at %s logged:\n%s", s.base, s.stderr.String())
		}
	})

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return s, fmt.Errorf("exited before it was ready: %v", s.waitErr)
		default:
		}
		resp, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("GET /readyz not 200 after %v (last: %v)", readyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit status and how long it took.
func (s *server) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	s.client.CloseIdleConnections()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("sprout did not exit within %v of SIGTERM", stopTimeout)
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(start)
}

// logValue returns attribute key of the first JSON log line whose msg is
// msg.
func (s *server) logValue(t *testing.T, msg, key string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != msg {
			continue
		}
		v, _ := line[key].(string)
		if v == "" {
			t.Fatalf("log line %q has no %q: %s", msg, key, sc.Text())
		}
		return v
	}
	t.Fatalf("no log line %q", msg)
	return ""
}

// waitLog waits until a JSON log line with msg appears.
func (s *server) waitLog(t *testing.T, msg string, within time.Duration) {
	t.Helper()
	want := fmt.Sprintf(`"msg":%q`, msg)
	deadline := time.Now().Add(within)
	for !strings.Contains(s.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %v", msg, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send makes a request and returns the status and body.
func (s *server) send(t *testing.T, c *http.Client, method, path, contentType, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c == nil {
		c = s.client
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// applicantJSON is the registration body of the API example.
func applicantJSON(email string) string {
	b, _ := json.Marshal(map[string]any{
		"email": email, "password": e2ePassword, "name": "Hoàng Thị Mai", "birth_year": 2000,
		"gender": "female", "province": "Lào Cai", "commune": "Bắc Hà",
		"consent": map[string]any{"terms": true, "notice_version": "2026-01"},
	})
	return string(b)
}

// apiToken signs in through POST /api/v1/tokens.
func (s *server) apiToken(t *testing.T, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	code, resp := s.send(t, nil, http.MethodPost, "/api/v1/tokens", "application/json", string(body))
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/tokens: %d %s", code, resp)
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(resp), &out); err != nil {
		t.Fatalf("token response %s: %v", resp, err)
	}
	if out.Token == "" || !out.ExpiresAt.After(time.Now()) {
		t.Fatalf("token response %s: want a token and a future expires_at", resp)
	}
	return out.Token
}

// me is GET /api/v1/me's answer.
type me struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (s *server) me(t *testing.T, token string) me {
	t.Helper()
	code, body := s.send(t, nil, http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/me: %d %s", code, body)
	}
	var m me
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("GET /api/v1/me %s: %v", body, err)
	}
	return m
}

// TestZeroConfigStart: `sprout` with nothing configured but the port serves
// Vietnamese pages from the embedded stack kept in ./data.
func TestZeroConfigStart(t *testing.T) {
	work := t.TempDir()
	s := startServer(t, work) // no SPROUT_DATA_DIR: the default ./data

	code, body := s.send(t, nil, http.MethodGet, "/readyz", "", "")
	if code != http.StatusOK || !strings.Contains(body, `"mongodb":"ok"`) || !strings.Contains(body, `"s3":"ok"`) {
		t.Errorf("GET /readyz: %d %s", code, body)
	}
	// Go's client sends no Accept-Language: the site speaks Vietnamese.
	code, body = s.send(t, nil, http.MethodGet, "/", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d", code)
	}
	for _, want := range []string{`<html lang="vi">`, "Cuộc thi", "Đăng ký"} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %q", want)
		}
	}
	for _, msg := range []string{"using embedded FerretDB (SQLite)", "using embedded S3 gateway (versitygw)"} {
		if !strings.Contains(s.stderr.String(), `"msg":"`+msg+`"`) {
			t.Errorf("no log line %q", msg)
		}
	}
	data := filepath.Join(work, "data")
	for _, p := range []string{"mongo", "objects", "s3-credentials.json"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Errorf("default data directory: %v", err)
		}
	}
	if fi, err := os.Stat(filepath.Join(data, "s3-credentials.json")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("s3-credentials.json has mode %v, want 0600", fi.Mode().Perm())
	}
	// The documents are served only on a private Unix socket: the process
	// listens on TCP for HTTP and S3, and nothing else.
	sock := filepath.Join(data, "socket", "mongodb.sock")
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want a socket of mode 0600", sock, fi.Mode(), err)
	}
	if fi, err := os.Lstat(filepath.Dir(sock)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want a directory of mode 0700", filepath.Dir(sock), fi.Mode(), err)
	}
	if uri := s.logValue(t, "using embedded FerretDB (SQLite)", "uri"); !strings.Contains(uri, "mongodb.sock") || strings.Contains(uri, "127.0.0.1") {
		t.Errorf("embedded FerretDB URI %q; want the socket", uri)
	}
	_, httpPort, _ := net.SplitHostPort(strings.TrimPrefix(s.base, "http://"))
	_, s3Port, _ := net.SplitHostPort(s.logValue(t, "using embedded S3 gateway (versitygw)", "endpoint"))
	if got, want := tcpListenPorts(t, s.cmd.Process.Pid), []string{httpPort, s3Port}; !slices.Equal(got, sortedCopy(want)) {
		t.Errorf("the server listens on TCP ports %v; want only HTTP and S3 %v", got, sortedCopy(want))
	}

	r := runSprout(t, "", cleanEnv(), "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sprout ") {
		t.Errorf("sprout version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	if code, took := s.stop(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM (%v), want 0", code, took)
	}
}

// tcpListenPorts returns the sorted TCP ports process pid listens on (its
// sockets in LISTEN state in /proc/PID/net/tcp{,6}).
func tcpListenPorts(t *testing.T, pid int) []string {
	t.Helper()
	proc := "/proc/" + strconv.Itoa(pid)
	own := map[string]bool{}
	fds, err := os.ReadDir(proc + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if link, err := os.Readlink(proc + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(link, "socket:[") {
			own[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var ports []string
	for _, table := range []string{"/net/tcp", "/net/tcp6"} {
		b, err := os.ReadFile(proc + table)
		if err != nil {
			if table == "/net/tcp6" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !own[f[9]] { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			n, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil {
				t.Fatalf("%s: %q", table, line)
			}
			ports = append(ports, strconv.FormatUint(n, 10))
		}
	}
	return sortedCopy(ports)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestStoresRefusesTCPForMongo: `sprout stores` has no TCP option for the
// MongoDB protocol any more, and a socket path the kernel cannot take is
// refused; each with one line naming the flag, before anything is created.
func TestStoresRefusesTCPForMongo(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("s", 120), "mongodb.sock")
	for _, tc := range []struct {
		args     []string
		mentions string
	}{
		{[]string{"--mongo-addr", "127.0.0.1:27017"}, "--mongo-addr"},
		{[]string{"--mongo-socket", long}, "--mongo-socket"},
	} {
		t.Run(tc.mentions, func(t *testing.T) {
			data := t.TempDir()
			r := runSprout(t, "", cleanEnv(), append([]string{"stores", "--no-s3", "--data-dir", data}, tc.args...)...)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2", r.code)
			}
			line := strings.TrimSuffix(r.stderr, "\n")
			if line == "" || strings.Contains(line, "\n") || !strings.Contains(line, tc.mentions) {
				t.Errorf("stderr %q: want one line mentioning %s", r.stderr, tc.mentions)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("the data directory got %d entries though start-up was refused", len(entries))
			}
		})
	}
}

// TestUserAddCLI: `sprout user add` creates an admin while no server runs;
// the server then knows them, and one added while it runs. Duplicates, short passwords and unknown roles
// are refused.
func TestUserAddCLI(t *testing.T) {
	data := t.TempDir()
	env := cleanEnv("SPROUT_DATA_DIR=" + data)
	add := func(stdin string, args ...string) result {
		t.Helper()
		return runSprout(t, stdin, env, append([]string{"user", "add"}, args...)...)
	}
	admin := []string{"--email", "admin@example.vn", "--name", "Quản trị", "--role", "admin", "--role", "staff"}

	r := add(e2ePassword+"\n", admin...)
	if r.code != 0 || !strings.Contains(r.stdout, "admin@example.vn") {
		t.Fatalf("user add: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = add(e2ePassword+"\n", admin...)
	if r.code == 0 || !strings.Contains(r.stderr, "--email") {
		t.Errorf("second user add with the same e-mail: exit %d, stderr %q; want failure naming --email", r.code, r.stderr)
	}
	r = add("ngắn\n", "--email", "judge@example.vn", "--name", "Giám khảo", "--role", "judge")
	if r.code != 2 || !strings.Contains(r.stderr, "password") {
		t.Errorf("short password: exit %d, stderr %q; want 2 naming the password", r.code, r.stderr)
	}
	r = add(e2ePassword+"\n", "--email", "boss@example.vn", "--name", "Sếp", "--role", "overlord")
	if r.code != 2 || !strings.Contains(r.stderr, "--role") {
		t.Errorf("unknown role: exit %d, stderr %q; want 2 naming --role", r.code, r.stderr)
	}

	s := startServer(t, t.TempDir(), "SPROUT_DATA_DIR="+data)
	m := s.me(t, s.apiToken(t, "admin@example.vn", e2ePassword))
	if m.Email != "admin@example.vn" || m.Name != "Quản trị" || strings.Join(m.Roles, ",") != "admin,staff" {
		t.Errorf("GET /api/v1/me = %+v; want admin@example.vn, Quản trị, admin,staff", m)
	}
	// While the server runs, `user add` on its data directory goes through
	// the server's socket (a second FerretDB would refuse the busy socket).
	r = add(e2ePassword+"\n", "--email", "judge@example.vn", "--name", "Giám khảo", "--role", "judge")
	if r.code != 0 {
		t.Fatalf("user add while the server runs: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if m := s.me(t, s.apiToken(t, "judge@example.vn", e2ePassword)); m.Email != "judge@example.vn" {
		t.Errorf("the server does not know the user added while it ran: %+v", m)
	}
	// An admin locked out: reset-password on the command line sets a new
	// password while the server runs, and the old token is dead at once.
	oldTok := s.apiToken(t, "admin@example.vn", e2ePassword)
	const fresh = "một mật khẩu mới cho quản trị"
	r = runSprout(t, "ngắn\n", env, "user", "reset-password", "--email", "admin@example.vn")
	if r.code != 2 || !strings.Contains(r.stderr, "password") {
		t.Errorf("reset-password with a short password: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runSprout(t, fresh+"\n", env, "user", "reset-password", "--email", "nobody@example.vn")
	if r.code == 0 || !strings.Contains(r.stderr, "--email") {
		t.Errorf("reset-password of an unknown address: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runSprout(t, fresh+"\n", env, "user", "reset-password", "--email", "ADMIN@example.vn")
	if r.code != 0 {
		t.Fatalf("reset-password: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if code, _ := s.send(t, nil, http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+oldTok); code != http.StatusUnauthorized {
		t.Errorf("a token from before the reset still works: %d", code)
	}
	if m := s.me(t, s.apiToken(t, "admin@example.vn", fresh)); m.Email != "admin@example.vn" {
		t.Errorf("sign-in with the new password: %+v", m)
	}
	// The refused users do not exist.
	body, _ := json.Marshal(map[string]string{"email": "boss@example.vn", "password": e2ePassword})
	if code, resp := s.send(t, nil, http.MethodPost, "/api/v1/tokens", "application/json", string(body)); code != http.StatusUnauthorized {
		t.Errorf("token for a user whose creation was refused: %d %s", code, resp)
	}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestRestartKeepsData: accounts, API tokens, sessions and stored objects
// survive a SIGTERM and a new start on the same data directory.
func TestRestartKeepsData(t *testing.T) {
	data := t.TempDir()
	work := t.TempDir()
	s := startServer(t, work, "SPROUT_DATA_DIR="+data)

	// An applicant through the API, and a token.
	const apiEmail = "mai.hoang@example.vn"
	if code, body := s.send(t, nil, http.MethodPost, "/api/v1/accounts", "application/json", applicantJSON(apiEmail)); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/accounts: %d %s", code, body)
	}
	token := s.apiToken(t, apiEmail, e2ePassword)

	// Another through the HTML form, signed in by cookie.
	const formEmail, formName = "binh.tran@example.vn", "Trần Văn Bình"
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	code, page := s.send(t, browser, http.MethodGet, "/register", "", "")
	m := csrfInput.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET /register: %d, CSRF field found: %v", code, m != nil)
	}
	form := url.Values{
		"_csrf": {m[1]}, "name": {formName}, "email": {formEmail}, "password": {e2ePassword},
		"birth_year": {"1998"}, "gender": {"male"}, "province": {"Lào Cai"}, "commune": {"Sa Pa"},
		"consent_terms": {"1"},
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page = readAll(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account" || !strings.Contains(page, formName) {
		t.Fatalf("POST /register ended at %s with %d; want /account 200 showing %q", resp.Request.URL.Path, resp.StatusCode, formName)
	}
	var session string
	for _, c := range jar.Cookies(resp.Request.URL) {
		if c.Name == "sprout_session" {
			session = c.Value
		}
	}
	if session == "" {
		t.Fatal("no sprout_session cookie after registering")
	}

	// An object in the deck bucket, through the embedded S3 gateway.
	deck := bytes.Repeat([]byte("Sprout %PDF deck bytes · "), 4096)
	const key = "decks/restart/deck.pdf"
	s3c := s3Client(t, data, s.logValue(t, "using embedded S3 gateway (versitygw)", "endpoint"))
	putCtx, cancelPut := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelPut()
	if _, err := s3c.PutObject(putCtx, "sprout-decks", key, bytes.NewReader(deck), int64(len(deck)),
		minio.PutObjectOptions{ContentType: "application/pdf"}); err != nil {
		t.Fatalf("put object: %v", err)
	}

	code, took := s.stop(t)
	if code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
	t.Logf("stopped in %v", took)
	if !strings.Contains(s.stderr.String(), `"msg":"stopped cleanly"`) {
		t.Error(`no "stopped cleanly" log line`)
	}
	if onDisk, err := os.ReadFile(filepath.Join(data, "objects", "sprout-decks", filepath.FromSlash(key))); err != nil || !bytes.Equal(onDisk, deck) {
		t.Errorf("object file under the data directory: err %v, same bytes %v", err, bytes.Equal(onDisk, deck))
	}

	// Start again on the same data directory (another port).
	s2 := startServer(t, work, "SPROUT_DATA_DIR="+data)
	if got := s2.me(t, token); got.Email != apiEmail {
		t.Errorf("GET /api/v1/me with the old token: email %q, want %q", got.Email, apiEmail)
	}
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, page = s2.send(t, noRedirect, http.MethodGet, "/account", "", "", "Cookie", "sprout_session="+session)
	if code != http.StatusOK || !strings.Contains(page, formName) || !strings.Contains(page, formEmail) {
		t.Errorf("GET /account with the old session cookie: %d, shows the name: %v", code, strings.Contains(page, formName))
	}
	s3c = s3Client(t, data, s2.logValue(t, "using embedded S3 gateway (versitygw)", "endpoint"))
	getCtx, cancelGet := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelGet()
	obj, err := s3c.GetObject(getCtx, "sprout-decks", key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatalf("read object after restart: %v", err)
	}
	if !bytes.Equal(got, deck) {
		t.Errorf("object after restart: %d bytes, want the same %d bytes", len(got), len(deck))
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// s3Client reaches the embedded gateway at endpoint with the keys the server
// keeps in DATA/s3-credentials.json.
func s3Client(t *testing.T, dataDir, endpoint string) *minio.Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "s3-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
	}
	if err := json.Unmarshal(b, &creds); err != nil || creds.AccessKey == "" || creds.SecretKey == "" {
		t.Fatalf("s3-credentials.json: %v (%d bytes)", err, len(b))
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(creds.AccessKey, creds.SecretKey, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBadConfiguration: a wrong setting stops the start with exit status 2
// and one line naming the variable, before anything is created.
func TestBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		env      string
		mentions string
	}{
		{"SPROUT_ADDR=nonsense", "SPROUT_ADDR"},
		{"SPROUT_S3_ENDPOINT=localhost:9", "SPROUT_S3_ACCESS_KEY"},
		{"SPROUT_LOG_LEVEL=loud", "SPROUT_LOG_LEVEL"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			data := t.TempDir()
			r := runSprout(t, "", cleanEnv("SPROUT_DATA_DIR="+data, "SPROUT_ADDR="+freeAddr(t), tc.env))
			if r.code != 2 {
				t.Errorf("exit status %d, want 2", r.code)
			}
			line := strings.TrimSuffix(r.stderr, "\n")
			if line == "" || strings.Contains(line, "\n") || !strings.Contains(line, tc.mentions) {
				t.Errorf("stderr %q: want one line mentioning %s", r.stderr, tc.mentions)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("the data directory got %d entries though start-up was refused", len(entries))
			}
		})
	}
}

// TestGracefulShutdownDrains: a request in flight when SIGTERM arrives (a
// client still sending its body) is answered; new connections are refused
// meanwhile; then the process exits 0.
func TestGracefulShutdownDrains(t *testing.T) {
	s := startServer(t, t.TempDir(), "SPROUT_DATA_DIR="+t.TempDir())
	addr := strings.TrimPrefix(s.base, "http://")

	const email = "cham@example.vn"
	body := applicantJSON(email)
	half := len(body) / 2
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(stopTimeout))
	head := "POST /api/v1/accounts HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	// Let the server read the head and start the handler, which now waits
	// for the rest of the body.
	time.Sleep(300 * time.Millisecond)

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "shutting down: draining requests", 5*time.Second)
	// The listener closes; the process keeps running for the request.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-s.done:
		t.Fatalf("exited (%v) with a request in flight", s.waitErr)
	default:
	}

	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatalf("finish the body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer of the request in flight: %v", err)
	}
	answer := readAll(t, resp)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(answer, email) {
		t.Errorf("request in flight answered %d %s; want 201 with the account", resp.StatusCode, answer)
	}

	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("did not exit within %v after the last request", stopTimeout)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
