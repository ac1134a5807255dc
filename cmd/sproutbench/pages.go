package main

// sproutbench pages: how fast the main pages are at a province's scale
// (docs/BENCHMARKS.md, "Pages").
//
// It starts `sprout serve` on the embedded default (FerretDB on SQLite and
// versitygw in-process, a temporary data directory), makes a staff member
// with `sprout user add` and an open competition, then, for each -n in
// turn (cumulative: 100, then 400 more for 500, …), seeds entries through
// the real API as applicants do: sign-up, token, a draft with the whole
// dossier and two team members, a small PDF deck, and every second entry
// submitted. Each connection has a session of its own (applicants: the
// first ones seeded; staff: one staff member signed in once per
// connection). Then it measures each page for -duration at each -conc level
// (each worker its own connection, requests back to back): p50 and p99 of
// the time to the whole answer, requests per second, p50 against /healthz's
// p50 in the same run, the database's share of the server's time (from
// Server-Timing) and the bytes of the body on the wire (asking for brotli
// or gzip, as browsers do) against its uncompressed size, and the app's
// CPU time per request (/proc/PID/stat; the embedded stores run in the
// app's process), which a loaded machine changes less than latency.
//
//	go run ./cmd/sproutbench pages                     # -n 100,500,2000
//	go run ./cmd/sproutbench pages -n 500 -duration 5s -conc 1,16

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type pagesOptions struct {
	sprout   string
	n        []int
	conc     []int
	duration time.Duration
	workers  int
	keep     bool
	judges   int // council members judging at each -n ≥ minJudged (0: none)
	reviewW  int // judges submitting reviews at once
}

func runPages(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sproutbench pages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o pagesOptions
	fs.StringVar(&o.sprout, "sprout", "", "sprout binary (default: go build ./cmd/sprout into a temporary directory)")
	nList := fs.String("n", "100,500,2000", "comma-separated entry counts, seeded one after another (cumulative)")
	concList := fs.String("conc", "1,16", "comma-separated connection counts")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measuring time per page and connection count")
	fs.IntVar(&o.workers, "seed-workers", 2, "applicants seeded at once")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	fs.IntVar(&o.judges, "judges", 10, "council members who judge at each -n of at least 100 (3 per entry, every review submitted), then the judge pages; 0: none")
	fs.IntVar(&o.reviewW, "review-workers", 4, "judges submitting their reviews at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	parse := func(flagName, s string) ([]int, bool) {
		var out []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintf(stderr, "sproutbench pages: %s: bad value %q\n", flagName, f)
				return nil, false
			}
			out = append(out, n)
		}
		return out, true
	}
	var ok bool
	if o.n, ok = parse("-n", *nList); !ok {
		return 2
	}
	if o.conc, ok = parse("-conc", *concList); !ok {
		return 2
	}
	slices.Sort(o.n)
	p := &pagesBench{bench: &bench{opts: options{keep: o.keep}, out: stdout, log: stderr}, o: o}
	err := p.run()
	p.cleanUp()
	if err != nil {
		fmt.Fprintln(stderr, "sproutbench pages:", err)
		return 1
	}
	return 0
}

type pagesBench struct {
	*bench
	o      pagesOptions
	compID string
	staff  []*http.Client // staff sessions (cookie), one per connection
	users  []*seeded      // applicants, in seeding order
	deck   []byte
	jury   *jury   // the council, when -judges > 0
	health float64 // /healthz p50 at the first -conc of the last main run
}

type seeded struct {
	email, token, entryID string
	submitted             bool
	web                   *http.Client // signed in, made for the first maxConc applicants
}

var communes = []string{"Bắc Hà", "Sa Pa", "Mường Khương", "Bát Xát", "Si Ma Cai", "Văn Bàn", "Bảo Thắng", "Bảo Yên"}
var words = []string{"Trà shan tuyết", "Mật ong bạc hà", "Gạo Séng Cù", "Thổ cẩm Dao đỏ", "Du lịch cộng đồng", "Mận hậu", "Dược liệu", "Cá hồi"}

func (p *pagesBench) run() error {
	var err error
	if p.tmp, err = os.MkdirTemp("", "sproutbench-pages-"); err != nil {
		return err
	}
	bin := p.o.sprout
	if bin == "" {
		bin = filepath.Join(p.tmp, "sprout")
		p.logf("building ./cmd/sprout")
		build := exec.Command("go", "build", "-o", bin, "github.com/sprout-vn/sprout/cmd/sprout")
		build.Stdout, build.Stderr = p.log, p.log
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	data := filepath.Join(p.tmp, "data")
	env := []string{"SPROUT_DATA_DIR=" + data, "SPROUT_LOG_LEVEL=warn"}
	add := exec.Command(bin, "user", "add", "--email", "canbo@example.vn", "--name", "Cán bộ", "--role", "staff")
	add.Env, add.Dir = cleanEnv(env...), p.tmp
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("sprout user add: %w\n%s", err, out)
	}
	if p.o.judges > 0 {
		// The admin who makes the council members' accounts.
		add := exec.Command(bin, "user", "add", "--email", adminEmail, "--name", "Quản trị", "--role", "admin")
		add.Env, add.Dir = cleanEnv(env...), p.tmp
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			return fmt.Errorf("sprout user add (admin): %w\n%s", err, out)
		}
	}
	appAddr, err := freeAddr()
	if err != nil {
		return err
	}
	p.base = "http://" + appAddr
	if p.app, err = start(bin, p.tmp, append(env, "SPROUT_ADDR="+appAddr)); err != nil {
		return err
	}
	maxConc := slices.Max(p.o.conc)
	p.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxConc + 4}}
	if err := p.waitReady(); err != nil {
		return err
	}
	if err := p.competition(); err != nil {
		return err
	}
	for range maxConc {
		c, err := p.signIn("canbo@example.vn")
		if err != nil {
			return err
		}
		p.staff = append(p.staff, c)
	}
	p.deck = genPDF(64 << 10)
	fmt.Fprintf(p.out, "%d CPUs, %s/%s, load average %s; embedded default (FerretDB/SQLite and versitygw in the app's process); %v per page and connection count\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAvg(), p.o.duration)
	fmt.Fprintln(p.out, "| entries | page | conn | requests | p50 ms | p99 ms | req/s | p50 ÷ /healthz p50 | db share | app CPU ms/req | body on the wire, median (uncompressed, first user's) |")
	fmt.Fprintln(p.out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, n := range p.o.n {
		start := time.Now()
		if err := p.seed(n, maxConc); err != nil {
			return err
		}
		p.logf("seeded %d entries in %v; load average %s", n, time.Since(start).Round(time.Second), loadAvg())
		if err := p.measureAll(n, p.pages()); err != nil {
			return err
		}
		if p.judged(n) {
			if err := p.judge(n); err != nil {
				return err
			}
			if err := p.measureAll(n, p.judgePages(n)); err != nil {
				return err
			}
		}
	}
	rss, _ := procStatusKB(p.app.pid(), "VmHWM:")
	fmt.Fprintf(p.out, "\napp VmHWM %.1f MiB; load average %s\n", float64(rss)/1024, loadAvg())
	return nil
}

// competition makes an open competition with decks up to 2 MiB.
func (p *pagesBench) competition() error {
	staff, err := p.token("canbo@example.vn")
	if err != nil {
		return err
	}
	now := time.Now()
	var comp struct {
		ID string `json:"id"`
	}
	if err := p.call(http.MethodPost, "/api/v1/competitions", staff, map[string]any{
		"title": map[string]string{"vi": "Ý tưởng khởi nghiệp Lào Cai", "en": "Lào Cai Startup Ideas"}, "year": now.Year(),
		"opens_at": now.Add(-24 * time.Hour).Format(time.RFC3339), "closes_at": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"tracks": []string{"idea", "project"}, "eligibility": map[string]any{"min_age": 18, "max_age": 35, "max_team": 5},
		"deck":   map[string]any{"max_bytes": 2 << 20},
		"rounds": p.rounds(),
	}, http.StatusCreated, &comp); err != nil {
		return err
	}
	p.compID = comp.ID
	return p.call(http.MethodPost, "/api/v1/competitions/"+comp.ID+"/transition", staff, map[string]string{"to": "open"}, http.StatusOK, nil)
}

// seed adds applicants with entries until there are n; the first web of
// them get a signed-in cookie session for the pages.
func (p *pagesBench) seed(n, web int) error {
	from := len(p.users)
	if n <= from {
		return nil
	}
	p.logf("seeding entries %d–%d", from+1, n)
	add := make([]*seeded, n-from)
	errs := make([]error, len(add))
	sem := make(chan struct{}, max(1, p.o.workers))
	var wg sync.WaitGroup
	for k := range add {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			add[k], errs[k] = p.seedOne(from + k)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	p.users = append(p.users, add...)
	for i := 0; i < web && i < len(p.users); i++ {
		if p.users[i].web == nil {
			c, err := p.signIn(p.users[i].email)
			if err != nil {
				return err
			}
			p.users[i].web = c
		}
	}
	return nil
}

func (p *pagesBench) seedOne(i int) (*seeded, error) {
	s := &seeded{email: fmt.Sprintf("ungvien%05d@example.vn", i)}
	gender := []string{"female", "male"}[i%2]
	if err := p.call(http.MethodPost, "/api/v1/accounts", "", map[string]any{
		"email": s.email, "password": password, "name": fmt.Sprintf("Hoàng Thị Mai %d", i), "birth_year": 1995 + i%10,
		"gender": gender, "province": "Lào Cai", "commune": communes[i%len(communes)],
		"consent": map[string]any{"terms": true, "notice_version": "2026-01"},
	}, http.StatusCreated, nil); err != nil {
		return nil, err
	}
	var err error
	if s.token, err = p.token(s.email); err != nil {
		return nil, err
	}
	var e struct {
		ID string `json:"id"`
	}
	w := words[i%len(words)]
	long := strings.Repeat(w+" — cây bản địa, chế biến sâu, bán qua hợp tác xã. ", 8)
	if err := p.call(http.MethodPost, "/api/v1/competitions/"+p.compID+"/entries", s.token, map[string]any{
		"title": fmt.Sprintf("%s %s số %d", w, communes[i%len(communes)], i), "track": []string{"idea", "project"}[i%2],
		"sector": "agriculture", "stage": "idea",
		"summary": long, "problem": long, "solution": long, "customers": long, "market": long, "advantage": long,
		"business_model": long, "technology": long, "plan": long, "impact": long,
		"funding_need": 350000000 + i, "commune": communes[(i/3)%len(communes)], "founded_year": 2024,
		"team": []map[string]any{
			{"name": fmt.Sprintf("Lù Văn Sinh %d", i), "role": "CTO", "birth_year": 1999, "gender": "male", "email": fmt.Sprintf("sinh%d@example.vn", i)},
			{"name": fmt.Sprintf("Giàng Thị Mỷ %d", i), "role": "Marketing", "birth_year": 2001, "gender": "female"},
		},
	}, http.StatusCreated, &e); err != nil {
		return nil, err
	}
	s.entryID = e.ID
	if err := p.putDeck(s, fmt.Sprintf("bai-thi-%d.pdf", i)); err != nil {
		return nil, err
	}
	if i%2 == 0 {
		if err := p.call(http.MethodPost, "/api/v1/entries/"+e.ID+"/submit", s.token, nil, http.StatusOK, nil); err != nil {
			return nil, err
		}
		s.submitted = true
	}
	return s, nil
}

func (p *pagesBench) putDeck(s *seeded, name string) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("deck", name)
	_, _ = fw.Write(p.deck)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPut, p.base+"/api/v1/entries/"+s.entryID+"/deck", &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT deck: %d %s", resp.StatusCode, body)
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn signs in through the HTML form, as a browser does, and returns a
// client holding the session cookie.
func (p *pagesBench) signIn(email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: p.http.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.base + "/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on /login (%d)", resp.StatusCode)
	}
	resp, err = c.PostForm(p.base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in of %s: %d %.300s", email, resp.StatusCode, body)
	}
	return c, nil
}

// target is what one worker requests for a page: path, or in turn each
// of paths (from the worker's own offset).
type target struct {
	c     *http.Client
	path  string
	paths []string
}

func (t target) at(i int) target {
	if len(t.paths) > 0 {
		t.path = t.paths[i%len(t.paths)]
	}
	return t
}

type pageDef struct {
	name    string
	targets func(w int) target
}

func (p *pagesBench) pages() []pageDef {
	web := func(w int) *seeded { return p.users[w%len(p.webUsers())] }
	list := "/staff/competitions/" + p.compID + "/entries"
	return []pageDef{
		{"/healthz", func(int) target { return target{c: p.http, path: "/healthz"} }},
		{"home /", func(w int) target { return target{c: web(w).web, path: "/"} }},
		{"competition page, signed in", func(w int) target { return target{c: web(w).web, path: "/competitions/" + p.compID} }},
		{"account", func(w int) target { return target{c: web(w).web, path: "/account"} }},
		{"entry page", func(w int) target { return target{c: web(w).web, path: "/entries/" + web(w).entryID} }},
		{"staff list, first page", func(w int) target { return target{c: p.staff[w%len(p.staff)], path: list} }},
		{"staff list, search \"bac ha\"", func(w int) target { return target{c: p.staff[w%len(p.staff)], path: list + "?q=bac+ha"} }},
		{"CSV export", func(w int) target { return target{c: p.staff[w%len(p.staff)], path: list + ".csv"} }},
	}
}

func (p *pagesBench) webUsers() []*seeded {
	n := 0
	for n < len(p.users) && p.users[n].web != nil {
		n++
	}
	return p.users[:n]
}

type sample struct {
	total    time.Duration
	db, serv float64
	wire     int
}

// get requests t once, asking for compression as browsers do.
func get(ctx context.Context, t target, base, encoding string) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+t.path, nil)
	if err != nil {
		return sample{}, err
	}
	req.Header.Set("Accept-Encoding", encoding)
	start := time.Now()
	resp, err := t.c.Do(req)
	if err != nil {
		return sample{}, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return sample{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("GET %s: %d", t.path, resp.StatusCode)
	}
	st := resp.Header.Get("Server-Timing")
	db := serverTiming(st, "db")
	return sample{total: d, db: db, serv: db + serverTiming(st, "app"), wire: int(n)}, nil
}

func (p *pagesBench) measureAll(n int, pages []pageDef) error {
	var health float64
	if len(pages) > 0 && pages[0].name != "/healthz" {
		health = p.health
	}
	for _, pg := range pages {
		plain, err := get(context.Background(), pg.targets(0).at(0), p.base, "identity")
		if err != nil {
			return err
		}
		for _, conc := range p.o.conc {
			time.Sleep(300 * time.Millisecond)
			s, err := p.measure(pg, conc)
			if err != nil {
				return fmt.Errorf("%s at %d: %w", pg.name, conc, err)
			}
			if pg.name == "/healthz" && conc == p.o.conc[0] {
				health, p.health = s.p50, s.p50
			}
			ratio := "—"
			if health > 0 {
				ratio = fmt.Sprintf("%.1f", s.p50/health)
			}
			fmt.Fprintf(p.out, "| %d | %s | %d | %d | %.2f | %.2f | %.0f | %s | %.0f %% | %.2f | %s (%s) |\n", n, pg.name, conc, s.count,
				s.p50, s.p99, s.rate, ratio, 100*s.dbShare, s.cpuMs, kb(s.wire), kb(plain.wire))
		}
	}
	return nil
}

func kb(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}

type pageResult struct {
	count          int
	p50, p99, rate float64
	dbShare        float64
	cpuMs          float64 // the app's CPU time (with the embedded stores) per request
	wire           int
}

// measure runs conc workers, each its own connection, requesting the page
// back to back for the duration (after a short warm-up).
func (p *pagesBench) measure(pg pageDef, conc int) (pageResult, error) {
	warm, cancelWarm := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelWarm()
	for w := range conc {
		if _, err := get(warm, pg.targets(w).at(0), p.base, "br, gzip"); err != nil && warm.Err() == nil {
			return pageResult{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.o.duration)
	defer cancel()
	var mu sync.Mutex
	var all []sample
	var firstErr error
	var wg sync.WaitGroup
	cpu0 := procCPU(p.app.pid())
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			t := pg.targets(w)
			var mine []sample
			for i := 0; ctx.Err() == nil; i++ {
				s, err := get(ctx, t.at(i), p.base, "br, gzip")
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						firstErr = cmpOr(firstErr, err)
						mu.Unlock()
					}
					break
				}
				mine = append(mine, s)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := procCPU(p.app.pid()) - cpu0
	if firstErr != nil {
		return pageResult{}, firstErr
	}
	if len(all) == 0 {
		// Slower than the duration (main's staff list at 16): report it
		// rather than stop the run.
		fmt.Fprintf(p.log, "%s at %d: no request finished within %v\n", pg.name, conc, p.o.duration)
		return pageResult{p50: p.o.duration.Seconds() * 1000, p99: p.o.duration.Seconds() * 1000}, nil
	}
	ms := make([]float64, len(all))
	wire := make([]float64, len(all))
	var db, serv float64
	for i, s := range all {
		ms[i] = float64(s.total.Microseconds()) / 1000
		wire[i] = float64(s.wire)
		db += s.db
		serv += s.serv
	}
	slices.Sort(ms)
	r := pageResult{count: len(all), p50: percentile(ms, 0.50), p99: percentile(ms, 0.99), rate: float64(len(all)) / elapsed.Seconds(), wire: int(median(wire))}
	if serv > 0 {
		r.dbShare = db / serv
	}
	r.cpuMs = 1000 * cpu / float64(len(all))
	return r, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// percentile of sorted xs (nearest rank).
func percentile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
