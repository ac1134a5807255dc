package main

// Reliability tests of the real binary (SECURITY.md 27, 28, 29 and 31): the
// stores run as `sprout stores` subprocesses so that they can be stopped and
// started again on the same socket or port and data directory while `sprout serve`
// keeps running, and the app itself is killed (-9) or stopped (SIGTERM)
// mid-upload.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/sprout-vn/sprout/app/apptest"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on the waits of these tests.
const (
	storesTimeout   = 60 * time.Second // `sprout stores` until it prints its lines
	outageTimeout   = 45 * time.Second // one request while a store is down
	recoveryTimeout = 45 * time.Second // a store back until requests succeed
	uploadTimeout   = 90 * time.Second // one upload, start to answer
)

// storesProc is one `sprout stores` process.
type storesProc struct {
	cmd     *exec.Cmd
	args    []string
	stdout  *lockedBuffer
	stderr  *lockedBuffer
	done    chan struct{}
	waitErr error
	env     []string // the SPROUT_* lines it printed
}

// startStores runs `sprout stores --data-dir dataDir args...` and waits until
// it has printed its environment lines. The process is stopped when the test
// ends if the test has not stopped it.
func startStores(t *testing.T, dataDir string, args ...string) *storesProc {
	t.Helper()
	p := &storesProc{
		args:   append([]string{"stores", "--data-dir", dataDir, "--log-level", "warn"}, args...),
		stdout: &lockedBuffer{},
		stderr: &lockedBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd = exec.Command(sproutBin, p.args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("sprout stores: %v", err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("sprout %s logged:\n%s", strings.Join(p.args, " "), p.stderr.String())
		}
	})

	want := []string{"SPROUT_MONGODB_URI", "SPROUT_S3_ENDPOINT", "SPROUT_S3_ACCESS_KEY", "SPROUT_S3_SECRET_KEY", "SPROUT_S3_SECURE"}
	if slices.Contains(args, "--no-mongo") {
		want = want[1:]
	}
	if slices.Contains(args, "--no-s3") {
		want = want[:1]
	}
	deadline := time.Now().Add(storesTimeout)
	for {
		var env []string
		for _, line := range strings.Split(p.stdout.String(), "\n") {
			if k, _, ok := strings.Cut(line, "="); ok && slices.Contains(want, k) {
				env = append(env, line)
			}
		}
		if len(env) == len(want) {
			p.env = env
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("sprout %s exited (%v) before it was ready:\n%s", strings.Join(p.args, " "), p.waitErr, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sprout %s printed %q within %v", strings.Join(p.args, " "), p.stdout.String(), storesTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *storesProc) signal(sig os.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *storesProc) stop(t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Fatalf("sprout stores did not exit within %v of SIGTERM", stopTimeout)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("sprout stores exited with %d after SIGTERM\n%s", code, p.stderr.String())
	}
}

// api sends a JSON request (body nil: none) with an optional bearer token.
func (s *server) api(t *testing.T, method, path, token string, body any) (int, string) {
	t.Helper()
	var b, ct string
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b, ct = string(j), "application/json"
	}
	var h []string
	if token != "" {
		h = []string{"Authorization", "Bearer " + token}
	}
	return s.send(t, nil, method, path, ct, b, h...)
}

// addStaff creates a staff member with `sprout user add` on the stores of
// env and returns an API token.
func addStaff(t *testing.T, s *server, env []string, email string) string {
	t.Helper()
	r := runSprout(t, e2ePassword+"\n", cleanEnv(env...), "user", "add", "--email", email, "--name", "Cán bộ", "--role", "staff")
	if r.code != 0 {
		t.Fatalf("sprout user add: exit %d\n%s", r.code, r.stderr)
	}
	return s.apiToken(t, email, e2ePassword)
}

// openCompetition creates a competition open now, whose decks may be up to
// maxBytes, and returns its id.
func openCompetition(t *testing.T, s *server, staffToken string, maxBytes int64) string {
	t.Helper()
	now := time.Now()
	code, body := s.api(t, http.MethodPost, "/api/v1/competitions", staffToken, map[string]any{
		"title": map[string]string{"vi": "Ý tưởng khởi nghiệp Lào Cai", "en": "Lào Cai Startup Ideas"}, "year": now.Year(),
		"opens_at": now.Add(-24 * time.Hour).Format(time.RFC3339), "closes_at": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"tracks": []string{"idea", "project"}, "eligibility": map[string]any{"min_age": 18, "max_age": 35, "max_team": 3},
		"deck":   map[string]any{"max_bytes": maxBytes},
		"rounds": []map[string]any{{"key": "so-khao", "name": map[string]string{"vi": "Sơ khảo", "en": "Preliminary"}, "blind": true, "judges_per_entry": 3}},
	})
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/competitions: %d %s", code, body)
	}
	var comp struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &comp); err != nil || comp.ID == "" {
		t.Fatalf("competition %s: %v", body, err)
	}
	code, body = s.api(t, http.MethodPost, "/api/v1/competitions/"+comp.ID+"/transition", staffToken, map[string]string{"to": "open"})
	if code != http.StatusOK {
		t.Fatalf("open the competition: %d %s", code, body)
	}
	return comp.ID
}

// applicant is a registered applicant with a draft entry.
type applicant struct {
	email, token, entryID string
}

// newApplicant registers email, signs in and starts a draft entry in compID.
func newApplicant(t *testing.T, s *server, compID, email string) applicant {
	t.Helper()
	if code, body := s.send(t, nil, http.MethodPost, "/api/v1/accounts", "application/json", applicantJSON(email)); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/accounts %s: %d %s", email, code, body)
	}
	a := applicant{email: email, token: s.apiToken(t, email, e2ePassword)}
	code, body := s.api(t, http.MethodPost, "/api/v1/competitions/"+compID+"/entries", a.token, map[string]any{
		"title": "Trà shan tuyết Bắc Hà", "track": "idea", "sector": "agriculture", "stage": "idea",
		"summary": "Trà cổ thụ", "problem": "Giá thấp", "solution": "Chế biến sâu", "customers": "Du khách",
		"market": "Miền Bắc", "advantage": "Cây cổ thụ", "business_model": "Bán trực tuyến", "technology": "Truy xuất QR",
		"plan": "12 tháng", "funding_need": 350000000, "impact": "Việc làm cho phụ nữ", "commune": "Bắc Hà",
		"team": []map[string]any{{"name": "Lù Văn Sinh", "role": "CTO", "birth_year": 1999, "gender": "male", "email": "sinh@example.vn"}},
	})
	if code != http.StatusCreated {
		t.Fatalf("POST entries for %s: %d %s", email, code, body)
	}
	var e struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.ID == "" {
		t.Fatalf("entry %s: %v", body, err)
	}
	a.entryID = e.ID
	return a
}

// entryDeck is what GET /api/v1/entries/{id} says about the current deck.
type entryDeck struct {
	Version int    `json:"version"`
	Title   string `json:"title"`
	Deck    *struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"deck"`
}

func (s *server) entry(t *testing.T, a applicant) entryDeck {
	t.Helper()
	code, body := s.api(t, http.MethodGet, "/api/v1/entries/"+a.entryID, a.token, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/entries/%s: %d %s", a.entryID, code, body)
	}
	var e entryDeck
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("entry %s: %v", body, err)
	}
	return e
}

// downloadDeck GETs the entry's deck and returns the status and the SHA-256
// of the body.
func (s *server) downloadDeck(t *testing.T, a applicant) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+"/api/v1/entries/"+a.entryID+"/deck", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	c := &http.Client{Timeout: uploadTimeout}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET deck of %s: %v", a.entryID, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatalf("GET deck of %s: read: %v", a.entryID, err)
	}
	return resp.StatusCode, hex.EncodeToString(h.Sum(nil))
}

// genPDF makes n bytes that sniff as a PDF: the header, then random bytes.
func genPDF(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 's', 'p', 'r', 'o', 'u', 't'}).Read(b)
	copy(b, "%PDF-1.7\n")
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// multipartFrame returns the bytes that go before and after a file sent as
// the form's "deck" field, and the Content-Type.
func multipartFrame(filename string) (head, tail []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if _, err := w.CreateFormFile("deck", filename); err != nil {
		panic(err)
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	_ = w.Close()
	return head, bytes.Clone(buf.Bytes()), w.FormDataContentType()
}

// deckAnswer is how one upload went.
type deckAnswer struct {
	code int
	body string
	err  error // transport failure: no answer
}

// putDeck PUTs file (read from r, size bytes) as the deck of a, with a known
// Content-Length.
func putDeck(ctx context.Context, base string, a applicant, r io.Reader, size int64, header ...string) deckAnswer {
	head, tail, ct := multipartFrame("deck.pdf")
	body := io.MultiReader(bytes.NewReader(head), r, bytes.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/v1/entries/"+a.entryID+"/deck", body)
	if err != nil {
		return deckAnswer{err: err}
	}
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A client of its own: no connection is shared with another upload.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return deckAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return deckAnswer{code: resp.StatusCode, err: err}
	}
	return deckAnswer{code: resp.StatusCode, body: string(b)}
}

// uploadedSHA is the sha256 of a 2xx upload answer.
func uploadedSHA(t *testing.T, body string) string {
	t.Helper()
	var out struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Errorf("upload answer %q: %v", body, err)
	}
	return out.SHA256
}

// pacedReader lets r through at rate bytes per second at most, so an
// upload stays in flight for a known time.
type pacedReader struct {
	r     io.Reader
	rate  float64
	start time.Time
	n     int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	due := p.start.Add(time.Duration(float64(p.n+int64(len(b))) / p.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

// errorJSON is the API's error body.
type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestKillDuringUploads (SECURITY.md 27): eight applicants upload distinct
// 2–6 MB decks at once, paced so that they finish at different times; the
// app is killed with SIGKILL after a few have been acknowledged. After a
// restart on the same stores every acknowledged deck reads back with the
// SHA-256 it was acknowledged with, and every entry that names a deck (an
// unacknowledged upload may still have landed) serves it, with the bytes
// that were sent.
func TestKillDuringUploads(t *testing.T) {
	st := startStores(t, t.TempDir(), "--s3-addr", freeAddr(t))
	work := t.TempDir()
	s := startServer(t, work, st.env...)
	staff := addStaff(t, s, st.env, "canbo@example.vn")
	compID := openCompetition(t, s, staff, 16<<20)

	const n = 8
	apps := make([]applicant, n)
	decks := make([][]byte, n)
	for i := range n {
		apps[i] = newApplicant(t, s, compID, fmt.Sprintf("ungvien%d@example.vn", i))
		decks[i] = genPDF(uint64(i)+1, 2<<20+i*(4<<20)/(n-1)+i) // 2 MiB … 6 MiB, all sizes distinct
	}

	// Upload i takes about 0.8 s + 0.5 s × i to send.
	answers := make([]deckAnswer, n)
	acked := make(chan int, n)
	ctx, cancel := context.WithTimeout(context.Background(), uploadTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			secs := 0.8 + 0.5*float64(i)
			r := &pacedReader{r: bytes.NewReader(decks[i]), rate: float64(len(decks[i])) / secs}
			answers[i] = putDeck(ctx, s.base, apps[i], r, int64(len(decks[i])))
			if answers[i].err == nil && answers[i].code/100 == 2 {
				acked <- i
			}
		})
	}
	// Kill once three have been acknowledged (or after a bound, whatever
	// has happened by then).
	timeout := time.After(30 * time.Second)
	for got := 0; got < 3; {
		select {
		case <-acked:
			got++
		case <-timeout:
			got = 3
		}
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-s.done
	wg.Wait()

	var ackedIdx, lost []int
	for i, a := range answers {
		switch {
		case a.err == nil && a.code/100 == 2:
			ackedIdx = append(ackedIdx, i)
			if got := uploadedSHA(t, a.body); got != sha(decks[i]) {
				t.Errorf("upload %d acknowledged with sha256 %s, sent %s", i, got, sha(decks[i]))
			}
		case a.err == nil:
			t.Errorf("upload %d answered %d %s", i, a.code, a.body)
		default:
			lost = append(lost, i)
		}
	}
	t.Logf("acknowledged before the kill: %v; cut off: %v", ackedIdx, lost)
	if len(ackedIdx) == 0 || len(lost) == 0 {
		t.Errorf("the kill should fall among the uploads: %d acknowledged, %d cut off", len(ackedIdx), len(lost))
	}

	s2 := startServer(t, work, st.env...)
	attached := 0
	for i, a := range apps {
		e := s2.entry(t, a)
		isAcked := slices.Contains(ackedIdx, i)
		if e.Deck == nil {
			if isAcked {
				t.Errorf("entry %d: upload acknowledged, but the entry names no deck after the restart", i)
			}
			if code, _ := s2.downloadDeck(t, a); code != http.StatusNotFound {
				t.Errorf("entry %d has no deck; GET deck answered %d, want 404", i, code)
			}
			continue
		}
		attached++
		if e.Deck.SHA256 != sha(decks[i]) || e.Deck.Size != int64(len(decks[i])) {
			t.Errorf("entry %d names a deck of %d bytes, sha256 %s; sent %d bytes, %s (acknowledged: %v)",
				i, e.Deck.Size, e.Deck.SHA256, len(decks[i]), sha(decks[i]), isAcked)
		}
		code, got := s2.downloadDeck(t, a)
		if code != http.StatusOK {
			t.Errorf("entry %d names a deck but GET deck answered %d (acknowledged: %v)", i, code, isAcked)
			continue
		}
		if got != sha(decks[i]) {
			t.Errorf("entry %d: deck downloads with sha256 %s, sent %s (acknowledged: %v)", i, got, sha(decks[i]), isAcked)
		}
	}
	t.Logf("after the restart %d of %d entries name a deck (%d acknowledged)", attached, n, len(ackedIdx))
}

// TestS3Outage (SECURITY.md 28): with the S3 server in its own process,
// stopped: the draft's text still saves, an upload gets 503
// storage_unavailable with a message that says so, and /readyz names s3.
// With S3 started again on the same port and data directory the same upload
// succeeds, with no restart of the app.
func TestS3Outage(t *testing.T) {
	s3Data, s3Addr := t.TempDir(), freeAddr(t)
	st := startStores(t, s3Data, "--no-mongo", "--s3-addr", s3Addr)
	appData := t.TempDir()
	env := append([]string{"SPROUT_DATA_DIR=" + appData}, st.env...)
	// user add opens the app's embedded FerretDB: before the server does.
	r := runSprout(t, e2ePassword+"\n", cleanEnv(env...), "user", "add", "--email", "canbo@example.vn", "--name", "Cán bộ", "--role", "staff")
	if r.code != 0 {
		t.Fatalf("sprout user add: exit %d\n%s", r.code, r.stderr)
	}
	s := startServer(t, t.TempDir(), env...)
	compID := openCompetition(t, s, s.apiToken(t, "canbo@example.vn", e2ePassword), 20<<20)
	a := newApplicant(t, s, compID, "mai@example.vn")
	pdf := apptest.Fixture(t, "valid-deck.pdf")
	upload := func() deckAnswer {
		ctx, cancel := context.WithTimeout(context.Background(), outageTimeout)
		defer cancel()
		return putDeck(ctx, s.base, a, bytes.NewReader(pdf), int64(len(pdf)), "Accept-Language", "en")
	}
	if ans := upload(); ans.err != nil || ans.code != http.StatusCreated {
		t.Fatalf("upload before the outage: %d %s %v", ans.code, ans.body, ans.err)
	}

	st.stop(t)

	v := s.entry(t, a).Version
	code, body := s.api(t, http.MethodPatch, "/api/v1/entries/"+a.entryID, a.token, map[string]any{"title": "Trà shan tuyết cổ thụ", "version": v})
	if code != http.StatusOK {
		t.Errorf("PATCH the draft with S3 down: %d %s", code, body)
	} else if e := s.entry(t, a); e.Title != "Trà shan tuyết cổ thụ" || e.Version != v+1 {
		t.Errorf("after the PATCH: title %q, version %d; want the new title and version %d", e.Title, e.Version, v+1)
	}

	start := time.Now()
	ans := upload()
	t.Logf("upload with S3 down answered %d after %v", ans.code, time.Since(start).Round(time.Millisecond))
	var e errorJSON
	switch {
	case ans.err != nil:
		t.Errorf("upload with S3 down: %v", ans.err)
	case ans.code != http.StatusServiceUnavailable:
		t.Errorf("upload with S3 down: %d %s; want 503", ans.code, ans.body)
	case json.Unmarshal([]byte(ans.body), &e) != nil || e.Error.Code != "storage_unavailable" ||
		!strings.Contains(strings.ToLower(e.Error.Message), "storage"):
		t.Errorf("upload with S3 down: body %s; want code storage_unavailable and a message about storage", ans.body)
	}
	if code, body := s.send(t, &http.Client{Timeout: outageTimeout}, http.MethodGet, "/readyz", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, `"s3"`) {
		t.Errorf("GET /readyz with S3 down: %d %s; want 503 naming s3", code, body)
	}
	// The deck from before the outage is still the entry's.
	if e := s.entry(t, a); e.Deck == nil || e.Deck.SHA256 != sha(pdf) {
		t.Errorf("entry's deck after the failed upload: %+v", e.Deck)
	}

	startStores(t, s3Data, "--no-mongo", "--s3-addr", s3Addr)
	deadline := time.Now().Add(recoveryTimeout)
	for {
		ans = upload()
		if ans.err == nil && ans.code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload with S3 back: %d %s %v; want 201 within %v", ans.code, ans.body, ans.err, recoveryTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := uploadedSHA(t, ans.body); got != sha(pdf) {
		t.Errorf("upload after the outage: sha256 %s, want %s", got, sha(pdf))
	}
	if code, got := s.downloadDeck(t, a); code != http.StatusOK || got != sha(pdf) {
		t.Errorf("GET deck after the outage: %d, sha256 %s", code, got)
	}
	select {
	case <-s.done:
		t.Fatalf("the app exited: %v", s.waitErr)
	default:
	}
}

// TestMongoOutage (SECURITY.md 29): with the MongoDB-protocol server in its
// own process, stopped: pages and the API answer 503 (an HTML page in
// Vietnamese, a JSON error), /readyz names mongodb, and the app does not
// crash. Started again on the same data directory (so the same socket), the same
// requests succeed with no restart of the app.
func TestMongoOutage(t *testing.T) {
	mData := t.TempDir()
	st := startStores(t, mData, "--no-s3")
	s := startServer(t, t.TempDir(), append([]string{"SPROUT_DATA_DIR=" + t.TempDir()}, st.env...)...)
	const email = "mai@example.vn"
	if code, body := s.send(t, nil, http.MethodPost, "/api/v1/accounts", "application/json", applicantJSON(email)); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/accounts: %d %s", code, body)
	}
	token := s.apiToken(t, email, e2ePassword)

	slow := &http.Client{Timeout: outageTimeout}
	home := func() (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/", nil)
		resp, err := slow.Do(req)
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), readAll(t, resp)
	}
	me := func() (int, string) {
		return s.send(t, slow, http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+token)
	}
	ready := func() (int, string) { return s.send(t, slow, http.MethodGet, "/readyz", "", "") }

	st.stop(t)

	start := time.Now()
	code, ct, page := home()
	t.Logf("GET / with MongoDB down answered %d after %v", code, time.Since(start).Round(time.Millisecond))
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(ct, "text/html") || !strings.Contains(page, "Tạm thời gián đoạn") {
		t.Errorf("GET / with MongoDB down: %d %s, shows «Tạm thời gián đoạn»: %v; want a 503 page", code, ct, strings.Contains(page, "Tạm thời gián đoạn"))
	}
	code, body := me()
	var e errorJSON
	if code != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("GET /api/v1/me with MongoDB down: %d %s; want 503 with a JSON error", code, body)
	}
	code, body = ready()
	var readiness struct {
		Failing []string `json:"failing"`
	}
	if code != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &readiness) != nil || !slices.Contains(readiness.Failing, "mongodb") {
		t.Errorf("GET /readyz with MongoDB down: %d %s; want 503 naming mongodb", code, body)
	}
	if slices.Contains(readiness.Failing, "s3") {
		// Each check has its own deadline: a hung MongoDB ping must not
		// make the working S3 look down.
		t.Errorf("GET /readyz also names s3, which is up: %s", body)
	}
	select {
	case <-s.done:
		t.Fatalf("the app exited with MongoDB down: %v\n%s", s.waitErr, s.stderr.String())
	default:
	}
	if strings.Contains(s.stderr.String(), "panic") {
		t.Errorf("the app logged a panic:\n%s", s.stderr.String())
	}

	startStores(t, mData, "--no-s3")
	deadline := time.Now().Add(recoveryTimeout)
	for {
		c1, _, page := home()
		c2, body := me()
		c3, _ := ready()
		if c1 == http.StatusOK && c2 == http.StatusOK && c3 == http.StatusOK {
			if !strings.Contains(page, "Cuộc thi") || !strings.Contains(body, email) {
				t.Errorf("after recovery: GET / shows «Cuộc thi»: %v; GET /api/v1/me %s", strings.Contains(page, "Cuộc thi"), body)
			}
			t.Logf("recovered %v after the restart of the store", time.Since(deadline.Add(-recoveryTimeout)).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MongoDB back for %v: GET / %d, GET /api/v1/me %d, /readyz %d; want 200s", recoveryTimeout, c1, c2, c3)
		}
		time.Sleep(250 * time.Millisecond)
	}
	select {
	case <-s.done:
		t.Fatalf("the app exited: %v", s.waitErr)
	default:
	}
}

// TestSIGTERMDrainsUpload (SECURITY.md 31): SIGTERM arrives while a 20 MB
// deck is still being sent, slowly; the upload is answered 201, the process
// exits 0, and after a restart the deck reads back with its SHA-256.
func TestSIGTERMDrainsUpload(t *testing.T) {
	data, work := t.TempDir(), t.TempDir()
	env := []string{"SPROUT_DATA_DIR=" + data}
	r := runSprout(t, e2ePassword+"\n", cleanEnv(env...), "user", "add", "--email", "canbo@example.vn", "--name", "Cán bộ", "--role", "staff")
	if r.code != 0 {
		t.Fatalf("sprout user add: exit %d\n%s", r.code, r.stderr)
	}
	s := startServer(t, work, env...)
	compID := openCompetition(t, s, s.apiToken(t, "canbo@example.vn", e2ePassword), 32<<20)
	a := newApplicant(t, s, compID, "mai@example.vn")

	pdf := genPDF(31, 20_000_000)
	const chunk = 256 << 10 // ~76 chunks, 40 ms apart: ~3 s
	pr, pw := io.Pipe()
	written := make(chan int, 128) // bytes pushed so far, after each chunk
	go func() {
		for off := 0; off < len(pdf); off += chunk {
			if _, err := pw.Write(pdf[off:min(off+chunk, len(pdf))]); err != nil {
				pw.CloseWithError(err)
				close(written)
				return
			}
			select {
			case written <- min(off+chunk, len(pdf)):
			default:
			}
			time.Sleep(40 * time.Millisecond)
		}
		pw.Close()
		close(written)
	}()
	answer := make(chan deckAnswer, 1)
	ctx, cancel := context.WithTimeout(context.Background(), uploadTimeout)
	defer cancel()
	go func() { answer <- putDeck(ctx, s.base, a, pr, int64(len(pdf))) }()

	// SIGTERM once a quarter has gone.
	for w := range written {
		if w >= len(pdf)/4 {
			break
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "shutting down: draining requests", 5*time.Second)
	sigAt := time.Now()

	var ans deckAnswer
	select {
	case ans = <-answer:
	case <-time.After(uploadTimeout):
		t.Fatal("no answer to the upload in flight")
	}
	t.Logf("upload answered %d, %v after SIGTERM", ans.code, time.Since(sigAt).Round(time.Millisecond))
	if ans.err != nil || ans.code != http.StatusCreated {
		t.Errorf("upload in flight at SIGTERM: %d %s %v; want 201", ans.code, ans.body, ans.err)
	} else if got := uploadedSHA(t, ans.body); got != sha(pdf) {
		t.Errorf("upload answered sha256 %s, sent %s", got, sha(pdf))
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("did not exit within %v of the answer", stopTimeout)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}

	s2 := startServer(t, work, env...)
	if code, got := s2.downloadDeck(t, a); code != http.StatusOK || got != sha(pdf) {
		t.Errorf("after the restart GET deck: %d, sha256 %s; want 200, %s", code, got, sha(pdf))
	}
}
