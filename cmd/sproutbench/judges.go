package main

// sproutbench pages, the council's part (docs/BENCHMARKS.md, "Judge
// pages"): at each -n of at least minJudged entries, with -judges council
// members (default 10), every draft is submitted, the judges are put on
// the panel (the first one a chair), the n's own round is assigned 3 judges
// per entry (500 entries: 1,500 assignments) and released, and every judge
// submits every review through the API (-review-workers judges at a time,
// each judge one review after another, as a person does). Then the judge
// pages are measured as the main ones: the judge's home, the scoring page
// (each connection going round its judge's assignments), the judge's queue
// through the API and the round sheet as staff. Each connection has a
// session of its own (connection w: judge w mod -judges).

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	adminEmail = "quantri@example.vn"
	minJudged  = 100
	perEntry   = 3
)

type jury struct {
	judges []*judgeUser
	web    []*http.Client // one session per connection
	webOf  []int          // the judge of each session
}

type judgeUser struct {
	email, id, token string
	work             map[string][]string // round → assignment ids
}

// rubric is the default rubric of the app's preset rounds.
var rubric = []struct {
	key, vi, en string
	max         int
}{
	{"novelty", "Tính mới, sáng tạo", "Novelty", 20},
	{"problem", "Tính cấp thiết, giải quyết vấn đề thực tế", "Real problem", 10},
	{"market", "Thị trường, khả năng thương mại hoá", "Market", 15},
	{"feasibility", "Mô hình / kế hoạch kinh doanh, tính khả thi", "Feasibility", 20},
	{"team", "Đội ngũ, nguồn lực", "Team", 10},
	{"impact", "Tác động kinh tế–xã hội, môi trường", "Impact", 15},
	{"technology", "Ứng dụng KHCN, chuyển đổi số", "Technology", 5},
	{"pitch", "Thuyết trình, phản biện", "Pitch", 5},
}

// judgedSizes are the -n values at which the council judges.
func (p *pagesBench) judgedSizes() []int {
	var out []int
	if p.o.judges > 0 {
		for _, n := range p.o.n {
			if n >= minJudged {
				out = append(out, n)
			}
		}
	}
	return out
}

func (p *pagesBench) judged(n int) bool { return slices.Contains(p.judgedSizes(), n) }

// roundKey is the round judged at n entries: "so-khao" for the first, one
// more round for each later n (the queues keep the earlier rounds' rows).
func (p *pagesBench) roundKey(n int) string {
	sizes := p.judgedSizes()
	if len(sizes) == 0 || sizes[0] == n {
		return "so-khao"
	}
	return fmt.Sprintf("so-khao-%d", n)
}

// rounds are the competition's rounds, each with the default rubric.
func (p *pagesBench) rounds() []map[string]any {
	var criteria []map[string]any
	for _, c := range rubric {
		criteria = append(criteria, map[string]any{"key": c.key, "label": map[string]string{"vi": c.vi, "en": c.en}, "max": c.max, "weight": 1})
	}
	sizes := p.judgedSizes()
	if len(sizes) == 0 {
		sizes = []int{0}
	}
	var out []map[string]any
	for _, n := range sizes {
		name := map[string]string{"vi": "Sơ khảo", "en": "Preliminary"}
		if key := p.roundKey(n); key != "so-khao" {
			name = map[string]string{"vi": fmt.Sprintf("Sơ khảo (%d bài)", n), "en": fmt.Sprintf("Preliminary (%d entries)", n)}
		}
		out = append(out, map[string]any{"key": p.roundKey(n), "name": name, "blind": true, "judges_per_entry": perEntry, "criteria": criteria})
	}
	return out
}

// council makes the judges' accounts (as the admin), puts them on the
// panel (the first a chair) and signs them in, once per connection.
func (p *pagesBench) council() error {
	admin, err := p.token(adminEmail)
	if err != nil {
		return err
	}
	staff, err := p.token("canbo@example.vn")
	if err != nil {
		return err
	}
	j := &jury{}
	for i := range p.o.judges {
		u := &judgeUser{email: fmt.Sprintf("giamkhao%02d@example.vn", i), work: map[string][]string{}}
		var made struct {
			ID string `json:"id"`
		}
		if err := p.call(http.MethodPost, "/api/v1/users", admin, map[string]any{
			"email": u.email, "name": fmt.Sprintf("Giám khảo Vàng Seo %d", i), "password": password, "roles": []string{"judge"},
		}, http.StatusCreated, &made); err != nil {
			return err
		}
		u.id = made.ID
		if err := p.call(http.MethodPost, "/api/v1/competitions/"+p.compID+"/judges", staff, map[string]any{
			"user_id": u.id, "sectors": []string{"agriculture"}, "chair": i == 0,
		}, http.StatusCreated, nil); err != nil {
			return err
		}
		if u.token, err = p.token(u.email); err != nil {
			return err
		}
		j.judges = append(j.judges, u)
	}
	for w := range slices.Max(p.o.conc) {
		c, err := p.signIn(j.judges[w%len(j.judges)].email)
		if err != nil {
			return err
		}
		j.web, j.webOf = append(j.web, c), append(j.webOf, w%len(j.judges))
	}
	p.jury = j
	return nil
}

// judge submits the drafts, assigns and releases n's round and submits
// every review.
func (p *pagesBench) judge(n int) error {
	if p.jury == nil {
		if err := p.council(); err != nil {
			return err
		}
	}
	key := p.roundKey(n)
	start := time.Now()
	var drafts []*seeded
	for _, s := range p.users {
		if !s.submitted {
			drafts = append(drafts, s)
		}
	}
	if err := p.parallel(len(drafts), p.o.workers, func(k int) error {
		s := drafts[k]
		if err := p.call(http.MethodPost, "/api/v1/entries/"+s.entryID+"/submit", s.token, nil, http.StatusOK, nil); err != nil {
			return err
		}
		s.submitted = true
		return nil
	}); err != nil {
		return err
	}
	p.logf("submitted %d drafts in %v", len(drafts), time.Since(start).Round(time.Millisecond))
	staff, err := p.token("canbo@example.vn")
	if err != nil {
		return err
	}
	round := "/api/v1/competitions/" + p.compID + "/rounds/" + key
	start = time.Now()
	var assigned struct {
		Assignments int `json:"assignments"`
	}
	if err := p.call(http.MethodPost, round+"/assign", staff, map[string]any{"per_entry": perEntry, "seed": 42}, http.StatusOK, &assigned); err != nil {
		return err
	}
	tAssign := time.Since(start)
	start = time.Now()
	if err := p.call(http.MethodPost, round+"/release", staff, map[string]any{}, http.StatusOK, nil); err != nil {
		return err
	}
	tRelease := time.Since(start)
	start = time.Now()
	var reviews sync.Map // assignment → time to submit
	if err := p.parallel(len(p.jury.judges), p.o.reviewW, func(k int) error {
		u := p.jury.judges[k]
		var q struct {
			Rows []struct {
				ID     string `json:"id"`
				Round  string `json:"round"`
				Status string `json:"status"`
			} `json:"rows"`
		}
		if err := p.call(http.MethodGet, "/api/v1/assignments", u.token, nil, http.StatusOK, &q); err != nil {
			return err
		}
		for _, r := range q.Rows {
			if r.Round != key {
				continue
			}
			u.work[key] = append(u.work[key], r.ID)
			t0 := time.Now()
			if err := p.call(http.MethodPut, "/api/v1/assignments/"+r.ID+"/review", u.token, reviewOf(r.ID), http.StatusOK, nil); err != nil {
				return err
			}
			reviews.Store(r.ID, time.Since(t0))
		}
		return nil
	}); err != nil {
		return err
	}
	tReviews := time.Since(start)
	var each []float64
	reviews.Range(func(_, v any) bool {
		each = append(each, float64(v.(time.Duration).Microseconds())/1000)
		return true
	})
	slices.Sort(each)
	if len(each) != assigned.Assignments {
		return fmt.Errorf("round %s: %d assignments, %d reviews submitted", key, assigned.Assignments, len(each))
	}
	p.logf("round %s: %d judges, %d assignments (assign %v, release %v); %d reviews submitted in %v (%d judges at a time; PUT p50 %.1f ms, p99 %.1f ms); load average %s",
		key, len(p.jury.judges), assigned.Assignments, tAssign.Round(time.Millisecond), tRelease.Round(time.Millisecond),
		len(each), tReviews.Round(time.Second), p.o.reviewW, percentile(each, 0.5), percentile(each, 0.99), loadAvg())
	return nil
}

// reviewOf is a whole review: a score for each criterion, varied by
// assignment, and a comment of a few sentences.
func reviewOf(id string) map[string]any {
	h := fnv.New32a()
	h.Write([]byte(id))
	x := h.Sum32()
	scores := map[string]int{}
	for k, c := range rubric {
		scores[c.key] = int((x>>(k*3))%uint32(c.max/2+1)) + c.max/2
	}
	comment := strings.Repeat("Ý tưởng gắn với vùng nguyên liệu địa phương; cần làm rõ kênh bán và chi phí vận chuyển. ", 3)
	return map[string]any{"scores": scores, "comment": comment, "submit": true}
}

// parallel runs f(0…n-1), at most workers at once, and joins their errors.
func (p *pagesBench) parallel(n, workers int, f func(k int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, max(1, workers))
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[k] = f(k)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// judgePages are the council's pages at n: each connection its own
// session of judge w mod -judges, the round sheet as staff.
func (p *pagesBench) judgePages(n int) []pageDef {
	key := p.roundKey(n)
	j := p.jury
	judge := func(w int) (*http.Client, *judgeUser) {
		s := w % len(j.web)
		return j.web[s], j.judges[j.webOf[s]]
	}
	return []pageDef{
		{"judge home /judge", func(w int) target {
			c, _ := judge(w)
			return target{c: c, path: "/judge"}
		}},
		{"judge scoring page", func(w int) target {
			c, u := judge(w)
			ids := u.work[key]
			off := (w / len(j.judges)) * len(ids) / 2 // a judge's second connection starts half-way
			var paths []string
			for i := range ids {
				paths = append(paths, "/judge/assignments/"+ids[(i+off)%len(ids)])
			}
			return target{c: c, paths: paths}
		}},
		{"judge queue GET /api/v1/assignments", func(w int) target {
			c, _ := judge(w)
			return target{c: c, path: "/api/v1/assignments"}
		}},
		{"round sheet (staff)", func(w int) target {
			return target{c: p.staff[w%len(p.staff)], path: "/council/" + p.compID + "/rounds/" + key}
		}},
	}
}
