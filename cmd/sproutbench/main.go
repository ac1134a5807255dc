// Command sproutbench measures pitch-deck uploads through the real Sprout
// server against the same bytes PutObject-ed straight to the same S3 server,
// in one run (SECURITY.md 8, DESIGN.md "Uploads, measured here").
//
// It starts `sprout stores` (embedded FerretDB, on its Unix socket in the
// data directory, and versitygw) and `sprout serve` as subprocesses on free
// loopback ports with a temporary data directory, creates a staff member (`sprout user add`), a competition and
// one applicant with a draft entry per concurrent upload through the API,
// then for each concurrency level:
//
//   - app: every worker PUTs a generated PDF to /api/v1/entries/{id}/deck
//     as multipart/form-data streamed from memory with a known
//     Content-Length; the wall time of the whole batch gives MB/s;
//     when conc × size is under -min-mb (400 MB), each worker repeats its
//     upload one after another until the batch reaches it, so that a batch
//     at concurrency 1 lasts long enough to time (16 uploads of 25 MB);
//   - direct: every worker PutObject-s the same bytes with their known size
//     (minio-go, default options) to the same S3 server, with the keys the
//     stores printed; same MB/s.
//
// Before each phase the disk is flushed and the page cache dropped (when
// run as root), then the machine idles for a moment (settle). The two
// phases of a run alternate which goes first.
//
// While each phase runs, the app's VmRSS is read from /proc/PID/status every
// 20 ms and the peak kept; VmHWM (the process's lifetime peak) is printed at
// the end. MB is 10^6 bytes of file content (multipart framing excluded).
//
//	go run ./cmd/sproutbench                      # builds ./cmd/sprout first
//	go run ./cmd/sproutbench -sprout ./sprout -conc 1,16,32 -runs 10
//
// `sproutbench pages` measures the main pages instead (pages.go).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// password is long and uncommon enough for the server's password rules.
const password = "mùa xuân trên cao nguyên đá"

// Bounds.
const (
	startTimeout = 2 * time.Minute  // a subprocess until it is ready
	stopTimeout  = 40 * time.Second // SIGTERM until exit
	phaseTimeout = 15 * time.Minute // one measured batch
	sampleEvery  = 20 * time.Millisecond
	clockTicks   = 100 // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux
	directBucket = "sproutbench"
	minEntries   = 16
	mb           = 1e6
)

type options struct {
	sprout string
	size   int
	conc   []int
	runs   int
	minMB  int
	extra  int
	keep   bool
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "pages" {
		return runPages(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("sproutbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.sprout, "sprout", "", "sprout binary (default: go build ./cmd/sprout into a temporary directory)")
	fs.IntVar(&o.size, "size", 25_000_000, "deck size in bytes")
	concList := fs.String("conc", "1,16,32", "comma-separated concurrency levels")
	fs.IntVar(&o.runs, "runs", 10, "measurements per level (each one an app batch and a direct batch; even, so each goes first equally often)")
	fs.IntVar(&o.minMB, "min-mb", 400, "each batch moves at least this many MB: with fewer concurrent uploads, every worker repeats its upload one after another")
	fs.IntVar(&o.extra, "extra-applicants", 0, "applicants (with draft entries) to create besides those the levels use, to measure with a larger database")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, s := range strings.Split(*concList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "sproutbench: -conc: bad level %q\n", s)
			return 2
		}
		o.conc = append(o.conc, n)
	}
	if o.size < 1024 || o.runs < 1 || o.minMB < 0 {
		fmt.Fprintln(stderr, "sproutbench: -size must be at least 1024, -runs at least 1 and -min-mb not negative")
		return 2
	}
	b := &bench{opts: o, out: stdout, log: stderr}
	err := b.run()
	b.cleanUp()
	if err != nil {
		fmt.Fprintln(stderr, "sproutbench:", err)
		return 1
	}
	return 0
}

// bench is one run of the benchmark.
type bench struct {
	opts     options
	out, log io.Writer
	tmp      string
	stores   *proc
	app      *proc
	base     string   // http://127.0.0.1:PORT of the app
	env      []string // SPROUT_* lines the stores printed
	s3       *minio.Client
	http     *http.Client
	entries  []entry
	levels   map[int][]entry // each concurrency level's own entries
	deck     []byte
	deckSHA  string
}

type entry struct{ id, token string }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run() error {
	var err error
	if b.tmp, err = os.MkdirTemp("", "sproutbench-"); err != nil {
		return err
	}
	bin := b.opts.sprout
	if bin == "" {
		bin = filepath.Join(b.tmp, "sprout")
		b.logf("building ./cmd/sprout")
		build := exec.Command("go", "build", "-o", bin, "github.com/sprout-vn/sprout/cmd/sprout")
		build.Stdout, build.Stderr = b.log, b.log
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	data := filepath.Join(b.tmp, "data")

	// The stores, on their own, as in production.
	s3Addr, err := freeAddr()
	if err != nil {
		return err
	}
	b.stores, err = start(bin, b.tmp, nil, "stores", "--data-dir", data, "--s3-addr", s3Addr, "--log-level", "warn")
	if err != nil {
		return err
	}
	if b.env, err = b.stores.envLines(5); err != nil {
		return err
	}
	vars := map[string]string{}
	for _, l := range b.env {
		k, v, _ := strings.Cut(l, "=")
		vars[k] = v
	}
	b.s3, err = minio.New(vars["SPROUT_S3_ENDPOINT"], &minio.Options{
		Creds: credentials.NewStaticV4(vars["SPROUT_S3_ACCESS_KEY"], vars["SPROUT_S3_SECRET_KEY"], ""), Region: "us-east-1",
	})
	if err != nil {
		return err
	}

	// A staff member on the command line, then the server.
	add := exec.Command(bin, "user", "add", "--email", "canbo@example.vn", "--name", "Cán bộ", "--role", "staff")
	add.Env, add.Dir = cleanEnv(b.env...), b.tmp
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("sprout user add: %w\n%s", err, out)
	}
	appAddr, err := freeAddr()
	if err != nil {
		return err
	}
	b.base = "http://" + appAddr
	b.app, err = start(bin, b.tmp, append([]string{"SPROUT_ADDR=" + appAddr, "SPROUT_DATA_DIR=" + filepath.Join(b.tmp, "app"), "SPROUT_LOG_LEVEL=warn"}, b.env...))
	if err != nil {
		return err
	}
	maxConc := slices.Max(b.opts.conc)
	b.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxConc, MaxConnsPerHost: 0}}
	if err := b.waitReady(); err != nil {
		return err
	}
	startRSS, _ := procStatusKB(b.app.pid(), "VmRSS:")
	// Each concurrency level gets entries of its own, at least minEntries
	// so that repeated uploads (see reps) go to different entries, as they
	// would in a competition, plus one for the warm-up. Every upload adds
	// a version to its entry, and each version grows the entry's document,
	// which FerretDB decodes whole on every read: sharing entries between
	// levels made the later levels pay for the earlier ones' uploads (at
	// 16, a ratio of 0.77 after the level at 1 had put 10 versions on each
	// entry, against 0.81 on fresh entries; docs/BENCHMARKS.md).
	total := 1 + b.opts.extra
	for _, conc := range b.opts.conc {
		total += max(conc, minEntries)
	}
	if err := b.setUp(total); err != nil {
		return err
	}
	b.levels = make(map[int][]entry)
	next := 1 + b.opts.extra
	for _, conc := range b.opts.conc {
		n := max(conc, minEntries)
		b.levels[conc] = b.entries[next : next+n]
		next += n
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.s3.MakeBucket(ctx, directBucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("make bucket %s: %w", directBucket, err)
	}

	b.deck = genPDF(b.opts.size)
	sum := sha256.Sum256(b.deck)
	b.deckSHA = hex.EncodeToString(sum[:])

	// Warm up both paths (connections, the client's bucket-region cache).
	if _, err := b.appPhase(1, b.entries[:1]); err != nil {
		return fmt.Errorf("warm-up through the app: %w", err)
	}
	if _, err := b.directPhase(1); err != nil {
		return fmt.Errorf("warm-up straight to S3: %w", err)
	}
	idle, _ := procStatusKB(b.app.pid(), "VmRSS:")

	fmt.Fprintf(b.out, "deck %d bytes (generated PDF); %d CPUs, %s/%s, load average %s; app RSS %.1f MiB when ready, %.1f MiB after set-up and warm-up\n\n",
		b.opts.size, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAvg(), float64(startRSS)/1024, float64(idle)/1024)
	fmt.Fprintln(b.out, "| conc | uploads per batch | run | app MB/s | direct MB/s | ratio | app upload, median ms (of it database) | app RSS, app phase (start → peak) | app peak RSS, direct phase | CPU s app/stores/bench, app phase | CPU s app/stores/bench, direct phase |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	type sum3 struct{ ratios, peaks, app, direct []float64 }
	summary := map[int]*sum3{}
	for _, conc := range b.opts.conc {
		summary[conc] = &sum3{}
		for r := range b.opts.runs {
			var viaApp, direct phaseResult
			var err error
			// Alternate which goes first, against order effects.
			if r%2 == 0 {
				if viaApp, err = b.appPhase(conc, b.levels[conc]); err == nil {
					direct, err = b.directPhase(conc)
				}
			} else {
				if direct, err = b.directPhase(conc); err == nil {
					viaApp, err = b.appPhase(conc, b.levels[conc])
				}
			}
			if err != nil {
				return fmt.Errorf("conc %d run %d: %w", conc, r+1, err)
			}
			ratio := viaApp.mbps / direct.mbps
			summary[conc].ratios = append(summary[conc].ratios, ratio)
			summary[conc].app = append(summary[conc].app, viaApp.mbps)
			summary[conc].direct = append(summary[conc].direct, direct.mbps)
			summary[conc].peaks = append(summary[conc].peaks, viaApp.peakMiB)
			fmt.Fprintf(b.out, "| %d | %d × %d | %d | %.0f | %.0f | %.2f | %.0f (%.1f) | %.1f → %.1f MiB | %.1f MiB | %s | %s |\n",
				conc, conc, b.reps(conc), r+1, viaApp.mbps, direct.mbps, ratio, viaApp.requestMs, viaApp.dbMs, viaApp.startMiB, viaApp.peakMiB, direct.peakMiB, viaApp.cpu, direct.cpu)
		}
	}
	hwm, _ := procStatusKB(b.app.pid(), "VmHWM:")
	storesHWM, _ := procStatusKB(b.stores.pid(), "VmHWM:")
	fmt.Fprintf(b.out, "\napp VmHWM (lifetime peak RSS) %.1f MiB; stores VmHWM %.1f MiB; load average %s\n\n", float64(hwm)/1024, float64(storesHWM)/1024, loadAvg())
	// The phase that runs second in a pair is the slower one here (on the
	// 2-core machine, by 5–20 %, whichever it is, despite settle), so a
	// run's ratio leans one way or the other with the order. The order
	// alternates, so the summary compares each path's median over all runs
	// (with an even number of runs each went first equally often); the
	// median of the per-run ratios is shown too.
	fmt.Fprintln(b.out, "| conc | app MB/s, median | direct MB/s, median | ratio of the medians | median of the per-run ratios | max app peak RSS, app phase |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- | --- |")
	for _, conc := range b.opts.conc {
		s := summary[conc]
		fmt.Fprintf(b.out, "| %d | %.0f | %.0f | %.2f | %.2f | %.1f MiB |\n", conc, median(s.app), median(s.direct),
			median(s.app)/median(s.direct), median(s.ratios), slices.Max(s.peaks))
	}
	return nil
}

// cpuTimes is CPU seconds spent during a phase by the app, the stores and
// this process.
type cpuTimes struct{ app, stores, self float64 }

func (c cpuTimes) String() string { return fmt.Sprintf("%.1f/%.1f/%.1f", c.app, c.stores, c.self) }

type phaseResult struct {
	mbps     float64
	startMiB float64 // RSS when the batch started
	// app phase only: medians per upload of the request's time (until
	// the answer) and of its database time (Server-Timing "db")
	requestMs, dbMs float64
	peakMiB         float64
	cpu             cpuTimes
}

// measure runs conc copies of one upload at once and times the batch while
// sampling the app's RSS.
//
// upload is called with the worker's number, w, and the upload's number in
// the batch, seq (w + conc × how many that worker made before).
func (b *bench) measure(conc int, upload func(ctx context.Context, w, seq int) error) (phaseResult, error) {
	settle()
	ctx, cancel := context.WithTimeout(context.Background(), phaseTimeout)
	defer cancel()
	runtime.GC()
	appPID, storesPID := b.app.pid(), b.stores.pid()
	cpu0 := cpuTimes{procCPU(appPID), procCPU(storesPID), procCPU(os.Getpid())}
	startKB, _ := procStatusKB(appPID, "VmRSS:")
	sampler := sampleRSS(appPID)
	reps := b.reps(conc)
	errs := make([]error, conc)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range conc {
		wg.Go(func() {
			for r := range reps {
				if errs[i] = upload(ctx, i, i+r*conc); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(begin)
	peak := sampler.stop()
	cpu := cpuTimes{procCPU(appPID) - cpu0.app, procCPU(storesPID) - cpu0.stores, procCPU(os.Getpid()) - cpu0.self}
	if err := errors.Join(errs...); err != nil {
		return phaseResult{}, err
	}
	return phaseResult{
		mbps:     float64(conc*reps*len(b.deck)) / mb / wall.Seconds(),
		startMiB: float64(startKB) / 1024,
		peakMiB:  float64(peak) / 1024,
		cpu:      cpu,
	}, nil
}

// reps is how many uploads each of conc workers makes one after another in
// a batch: enough for the batch to move -min-mb.
func (b *bench) reps(conc int) int {
	batch := conc * len(b.deck)
	return max(1, (b.opts.minMB*mb+batch-1)/batch)
}

// settle gives each phase the same start: the previous phase's writes
// (hundreds of MB in the S3 server's files) are flushed to disk first, and
// the machine gets a moment to finish that work. Without it the phase that
// ran second in a run paid for the first one's writeback: the same direct
// batch took 1.6–1.8 CPU seconds in the stores process when it ran first and
// 2.4–3.0 s when it ran second, and its MB/s fell by a third.
func settle() {
	syscall.Sync()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0)
	time.Sleep(settlePause)
}

// settlePause is how long settle waits after flushing.
const settlePause = 2 * time.Second

// appPhase uploads the deck through PUT /api/v1/entries/{id}/deck.
func (b *bench) appPhase(conc int, entries []entry) (phaseResult, error) {
	head, tail, ct := multipartFrame("deck.pdf")
	length := int64(len(head) + len(b.deck) + len(tail))
	timings := &requestTimings{}
	res, err := b.measure(conc, func(ctx context.Context, i, seq int) error {
		// Each upload of a batch to its own entry while there are
		// enough (conc × reps ≤ len(entries) with the defaults), and
		// never two at once to the same one (conc ≤ len(entries)).
		// Uploading to one entry over and over measures something else:
		// each version grows the entry's document, which FerretDB decodes
		// whole on every read (docs/BENCHMARKS.md).
		e := entries[seq%len(entries)]
		body := io.MultiReader(bytes.NewReader(head), bytes.NewReader(b.deck), bytes.NewReader(tail))
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, b.base+"/api/v1/entries/"+e.id+"/deck", body)
		if err != nil {
			return err
		}
		req.ContentLength = length
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.token)
		began := time.Now()
		resp, err := b.http.Do(req)
		if err != nil {
			return fmt.Errorf("upload %d: %w", i, err)
		}
		defer resp.Body.Close()
		timings.add(time.Since(began), serverTiming(resp.Header.Get("Server-Timing"), "db"))
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("upload %d: %w", i, err)
		}
		var out struct {
			SHA256 string `json:"sha256"`
		}
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(answer, &out) != nil || out.SHA256 != b.deckSHA {
			return fmt.Errorf("upload %d: %d %s", i, resp.StatusCode, answer)
		}
		return nil
	})
	res.requestMs, res.dbMs = timings.medians()
	return res, err
}

// requestTimings collects, per upload, the time until the answer's headers
// and the time the server says it spent on the database (Server-Timing).
type requestTimings struct {
	mu        sync.Mutex
	total, db []float64
}

func (t *requestTimings) add(total time.Duration, dbMs float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total = append(t.total, float64(total.Microseconds())/1000)
	t.db = append(t.db, dbMs)
}

func (t *requestTimings) medians() (total, db float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.total) == 0 {
		return 0, 0
	}
	return median(t.total), median(t.db)
}

// serverTiming returns the dur of metric name in a Server-Timing value
// ("db;dur=1.23, app;dur=4.56"), or 0.
func serverTiming(header, name string) float64 {
	for _, m := range strings.Split(header, ",") {
		parts := strings.Split(strings.TrimSpace(m), ";")
		if parts[0] != name {
			continue
		}
		for _, p := range parts[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur="); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
	}
	return 0
}

// directPhase PutObject-s the same bytes with their known size, then
// removes them (untimed) so the disk does not fill.
func (b *bench) directPhase(conc int) (phaseResult, error) {
	key := func(i int) string { return fmt.Sprintf("direct/%d", i) }
	res, err := b.measure(conc, func(ctx context.Context, i, _ int) error {
		info, err := b.s3.PutObject(ctx, directBucket, key(i), bytes.NewReader(b.deck), int64(len(b.deck)),
			minio.PutObjectOptions{ContentType: "application/pdf"})
		if err != nil {
			return fmt.Errorf("put %d: %w", i, err)
		}
		if info.Size != int64(len(b.deck)) {
			return fmt.Errorf("put %d: stored %d bytes", i, info.Size)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range conc {
		_ = b.s3.RemoveObject(ctx, directBucket, key(i), minio.RemoveObjectOptions{})
	}
	return res, err
}

// setUp creates a staff token, an open competition and n applicants, each
// with a draft entry.
func (b *bench) setUp(n int) error {
	staff, err := b.token("canbo@example.vn")
	if err != nil {
		return err
	}
	now := time.Now()
	maxBytes := max(int64(b.opts.size)+1<<20, 1<<20)
	var comp struct {
		ID string `json:"id"`
	}
	if err := b.call(http.MethodPost, "/api/v1/competitions", staff, map[string]any{
		"title": map[string]string{"vi": "Đo tải tệp", "en": "Upload benchmark"}, "year": now.Year(),
		"opens_at": now.Add(-24 * time.Hour).Format(time.RFC3339), "closes_at": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"tracks": []string{"idea", "project"}, "eligibility": map[string]any{"min_age": 18, "max_age": 35, "max_team": 3},
		"deck":   map[string]any{"max_bytes": maxBytes},
		"rounds": []map[string]any{{"key": "so-khao", "name": map[string]string{"vi": "Sơ khảo", "en": "Preliminary"}, "blind": true, "judges_per_entry": 3}},
	}, http.StatusCreated, &comp); err != nil {
		return err
	}
	if err := b.call(http.MethodPost, "/api/v1/competitions/"+comp.ID+"/transition", staff, map[string]string{"to": "open"}, http.StatusOK, nil); err != nil {
		return err
	}
	b.logf("creating %d applicants with draft entries", n)
	b.entries = make([]entry, n)
	errs := make([]error, n)
	// One at a time: each sign-up and sign-in runs argon2id with 19 MiB,
	// and heap freed by those stays in the app's RSS for a while.
	sem := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b.entries[i], errs[i] = b.applicant(comp.ID, fmt.Sprintf("ungvien%02d@example.vn", i))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *bench) applicant(compID, email string) (entry, error) {
	if err := b.call(http.MethodPost, "/api/v1/accounts", "", map[string]any{
		"email": email, "password": password, "name": "Hoàng Thị Mai", "birth_year": 2000,
		"gender": "female", "province": "Lào Cai", "commune": "Bắc Hà",
		"consent": map[string]any{"terms": true, "notice_version": "2026-01"},
	}, http.StatusCreated, nil); err != nil {
		return entry{}, err
	}
	tok, err := b.token(email)
	if err != nil {
		return entry{}, err
	}
	var e struct {
		ID string `json:"id"`
	}
	err = b.call(http.MethodPost, "/api/v1/competitions/"+compID+"/entries", tok, map[string]any{
		"title": "Trà shan tuyết Bắc Hà", "track": "idea", "sector": "agriculture", "stage": "idea",
		"summary": "Trà cổ thụ", "problem": "Giá thấp", "solution": "Chế biến sâu", "customers": "Du khách",
		"market": "Miền Bắc", "advantage": "Cây cổ thụ", "business_model": "Bán trực tuyến", "technology": "Truy xuất QR",
		"plan": "12 tháng", "funding_need": 350000000, "impact": "Việc làm cho phụ nữ", "commune": "Bắc Hà",
	}, http.StatusCreated, &e)
	return entry{id: e.ID, token: tok}, err
}

func (b *bench) token(email string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := b.call(http.MethodPost, "/api/v1/tokens", "", map[string]string{"email": email, "password": password}, http.StatusCreated, &out)
	return out.Token, err
}

// call sends a JSON request and decodes the answer into out (if not nil),
// failing unless the status is want.
func (b *bench) call(method, path, token string, body any, want int, out any) error {
	j, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, bytes.NewReader(j))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, answer)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

func (b *bench) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		if b.app.exited() {
			return fmt.Errorf("sprout serve exited:\n%s", b.app.stderr.String())
		}
		resp, err := http.Get(b.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sprout serve not ready after %v:\n%s", startTimeout, b.app.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) cleanUp() {
	for _, p := range []*proc{b.app, b.stores} {
		if p != nil {
			p.stop()
		}
	}
	if b.tmp == "" {
		return
	}
	if b.opts.keep {
		b.logf("kept %s", b.tmp)
		return
	}
	_ = os.RemoveAll(b.tmp)
}

// proc is a sprout subprocess.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
}

func start(bin, dir string, env []string, args ...string) (*proc, error) {
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env, p.cmd.Dir = cleanEnv(env...), dir
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// envLines waits until the process has printed n KEY=VALUE lines.
func (p *proc) envLines(n int) ([]string, error) {
	deadline := time.Now().Add(startTimeout)
	for {
		var lines []string
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if strings.HasPrefix(l, "SPROUT_") && strings.Contains(l, "=") {
				lines = append(lines, l)
			}
		}
		if len(lines) >= n {
			return lines, nil
		}
		if p.exited() || time.Now().After(deadline) {
			return nil, fmt.Errorf("sprout stores printed %q:\n%s", p.stdout.String(), p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cleanEnv is this process's environment without SPROUT_* variables, plus
// extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPROUT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rssSampler keeps the peak VmRSS of a process.
type rssSampler struct {
	quit chan struct{}
	done chan struct{}
	peak int64 // KiB
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			if kb, err := procStatusKB(pid, "VmRSS:"); err == nil && kb > s.peak {
				s.peak = kb
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak in KiB.
func (s *rssSampler) stop() int64 {
	close(s.quit)
	<-s.done
	return s.peak
}

// procStatusKB reads a "Key:   123 kB" line of /proc/PID/status.
func procStatusKB(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// procCPU is the user+system CPU seconds of a process so far (0 if
// unknown).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(u+s) / clockTicks
}

// genPDF makes n bytes that the server accepts as a PDF: the header, then
// random bytes (incompressible, as a deck full of images nearly is).
func genPDF(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{'s', 'p', 'r', 'o', 'u', 't'}).Read(b)
	copy(b, "%PDF-1.7\n")
	return b
}

// multipartFrame returns what goes before and after a file sent as the
// form's "deck" field, and the Content-Type.
func multipartFrame(filename string) (head, tail []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_, _ = w.CreateFormFile("deck", filename)
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	_ = w.Close()
	return head, bytes.Clone(buf.Bytes()), w.FormDataContentType()
}

// loadAvg is the 1-minute load average (the machine may be shared).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
