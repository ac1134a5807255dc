package models

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// RankMethod is how a round's ranking scores an entry (docs/RANKING.md).
type RankMethod string

// Ranking methods.
const (
	RankMean    RankMethod = "mean"    // mean of the submitted review totals
	RankMedian  RankMethod = "median"  // median of the submitted review totals
	RankZScore  RankMethod = "zscore"  // per-judge z-scores, mapped back onto the raw means' range
	RankTrimmed RankMethod = "trimmed" // mean without the highest and lowest total (≥ TrimmedMinJudges judges)
)

// Valid reports whether m is one of the four methods.
func (m RankMethod) Valid() bool {
	switch m {
	case RankMean, RankMedian, RankZScore, RankTrimmed:
		return true
	}
	return false
}

// Defaults of RankSettings (a zero or negative setting means the default).
const (
	DefaultMinJudgeScores   = 5
	DefaultTrimmedMinJudges = 5
)

// RankSettings tune a ranking. Zero values mean the defaults.
type RankSettings struct {
	// MinJudgeScores: a judge with fewer submitted scores in the round (or
	// whose scores are all equal) is not z-normalised; their raw totals
	// are used in the entry's zscore instead. ≤ 0 means 5.
	MinJudgeScores int `json:"min_judge_scores"`
	// DisagreementStdDev: flag "disagreement" when an entry's standard
	// deviation of review totals exceeds it (0 = never).
	DisagreementStdDev float64 `json:"disagreement_stddev"`
	// TrimmedMinJudges: the trimmed mean is taken only when an entry has
	// at least this many submitted reviews (≤ 0 means 5; below 3 counts
	// as 3, since dropping two of fewer leaves nothing).
	TrimmedMinJudges int `json:"trimmed_min_judges"`
}

func (s RankSettings) withDefaults() RankSettings {
	if s.MinJudgeScores <= 0 {
		s.MinJudgeScores = DefaultMinJudgeScores
	}
	if s.TrimmedMinJudges <= 0 {
		s.TrimmedMinJudges = DefaultTrimmedMinJudges
	}
	if s.TrimmedMinJudges < 3 {
		s.TrimmedMinJudges = 3
	}
	if s.DisagreementStdDev < 0 || math.IsNaN(s.DisagreementStdDev) {
		s.DisagreementStdDev = 0
	}
	return s
}

// RankEntry is what the ranking needs of an entry.
type RankEntry struct {
	ID, Title, Track string
	SubmittedAt      time.Time // when the entry was submitted: the "earliest" tie-break
}

// Flags a ranking row may carry, always in this order.
const (
	FlagDisagreement  = "disagreement"   // StdDev above RankSettings.DisagreementStdDev
	FlagFewJudges     = "few_judges"     // fewer than two submitted reviews
	FlagZScoreRaw     = "zscore_raw"     // some judge's raw total stands in the zscore (ZRawJudges > 0)
	FlagTieUnresolved = "tie_unresolved" // the tie-breaks could not separate it from a neighbour: ordered by entry id
)

// RankRow is one entry's line in a round's ranking.
type RankRow struct {
	EntryID string `json:"entry_id"`
	Title   string `json:"title"`
	Track   string `json:"track"`
	// Rank is 1-based within the ranking's scope (the round, or the
	// entry's track), every rank distinct: ties are resolved by the
	// tie-breaks, then by entry id (flag "tie_unresolved").
	Rank    int     `json:"rank"`
	Score   float64 `json:"score"` // the chosen method's score
	Mean    float64 `json:"mean"`
	Median  float64 `json:"median"`
	ZScore  float64 `json:"zscore"`
	Trimmed float64 `json:"trimmed"`
	// TrimmedUsed is false when the entry has fewer judges than
	// TrimmedMinJudges; Trimmed is then Mean.
	TrimmedUsed bool `json:"trimmed_used"`
	// ZRawJudges counts this entry's judges whose raw total was used in
	// ZScore (too few scores in the round, or all of them equal).
	ZRawJudges int     `json:"zscore_raw_judges"`
	StdDev     float64 `json:"stddev"` // population standard deviation of the review totals
	Range      float64 `json:"range"`  // highest − lowest review total
	Judges     int     `json:"judges"` // submitted reviews counted
	// Missing counts assignments neither submitted nor declared a
	// conflict (pending or draft).
	Missing        int                `json:"missing"`
	CriterionMeans map[string]float64 `json:"criterion_means"`
	ZeroCriterion  bool               `json:"zero_criterion"` // some judge scored some criterion 0
	Flags          []string           `json:"flags"`
	Proposed       string             `json:"proposed,omitempty"` // set by Propose: "advance" / "eliminate"
}

// Tie-break kinds.
const (
	TieCriterion = "criterion" // that criterion's mean, higher first
	TieMedian    = "median"    // higher median first
	TieMean      = "mean"      // higher mean first
	TieZScore    = "zscore"    // higher zscore first
	TieTrimmed   = "trimmed"   // higher trimmed mean first
	TieEarliest  = "earliest"  // earlier entry SubmittedAt first (an entry without one last)
)

// TieBreak is one step of a round's published, ordered tie-breaks.
// Criterion names the criterion key for Kind "criterion". Unknown kinds
// are skipped.
type TieBreak struct {
	Kind      string `json:"kind"`
	Criterion string `json:"criterion,omitempty"`
}

// scoreEpsilon: scores equal to six decimal places are equal. Review
// totals are sums of weight × integer, so genuinely different means differ
// by far more; the rounding only absorbs floating-point noise.
const scoreEpsilon = 1e-6

func quantize(x float64) float64 { return math.Round(x / scoreEpsilon) }

// cmpScore orders higher scores first, equal to six decimal places.
func cmpScore(a, b float64) int { return cmp.Compare(quantize(b), quantize(a)) }

type judgeStat struct {
	totals   []float64
	mu, sd   float64
	eligible bool
}

type entryAcc struct {
	row     RankRow
	at      time.Time
	totals  []float64
	z, raw  []float64
	critSum []int
	fitted  bool // has at least one z-normalised judge
	zMean   float64
}

// Rank computes every method for every entry from the round's assignments
// and orders the rows by method, then by the tie-breaks in order, then by
// entry id. Only status "submitted" counts as a score; "conflict" is a
// recusal and counts against nothing; any other status counts as Missing.
// A review's total is recomputed with ReviewTotal from its Scores.
// Reviews of entries not in entries still count in their judge's z-score
// statistics (they are the judge's scores in the round) but get no row.
// Entries without submitted reviews score 0 and are ranked last in their
// scope. With perTrack, ranks restart per track and rows are ordered by
// track, then rank; otherwise by rank. An unknown method ranks by mean.
// The output depends only on the inputs as sets: it is the same whatever
// their order. Entry ids are expected unique (a repeated id is ignored),
// as is one assignment per judge and entry.
func Rank(criteria []Criterion, entries []RankEntry, reviews []Assignment, method RankMethod, set RankSettings, tie []TieBreak, perTrack bool) []RankRow {
	set = set.withDefaults()
	keys := criterionKeys(criteria)

	accs := make([]entryAcc, 0, len(entries))
	byID := make(map[string]int, len(entries))
	for _, e := range entries {
		if _, dup := byID[e.ID]; dup {
			continue
		}
		byID[e.ID] = len(accs)
		accs = append(accs, entryAcc{
			row:     RankRow{EntryID: e.ID, Title: e.Title, Track: e.Track},
			at:      e.SubmittedAt,
			critSum: make([]int, len(keys)),
		})
	}

	// Pass 1: totals per review, per judge and per entry.
	judges := map[string]*judgeStat{}
	totals := make([]float64, len(reviews))
	for i := range reviews {
		r := &reviews[i]
		idx, listed := byID[r.EntryID]
		switch r.Status {
		case AssignSubmitted:
		case AssignConflict:
			continue
		default:
			if listed {
				accs[idx].row.Missing++
			}
			continue
		}
		t := ReviewTotal(criteria, r.Scores)
		totals[i] = t
		js := judges[r.JudgeID]
		if js == nil {
			js = &judgeStat{}
			judges[r.JudgeID] = js
		}
		js.totals = append(js.totals, t)
		if !listed {
			continue
		}
		a := &accs[idx]
		a.totals = append(a.totals, t)
		for k, key := range keys {
			v := r.Scores[key]
			a.critSum[k] += v
			if v == 0 {
				a.row.ZeroCriterion = true
			}
		}
	}
	for _, js := range judges {
		slices.Sort(js.totals) // a fixed summation order: the same result for any input order
		js.mu, js.sd = meanStdDev(js.totals)
		js.eligible = len(js.totals) >= set.MinJudgeScores && js.sd > 1e-9*math.Max(1, math.Abs(js.mu))
	}

	// Pass 2: each submitted review's z-score, or its raw total.
	for i := range reviews {
		r := &reviews[i]
		idx, listed := byID[r.EntryID]
		if !listed || r.Status != AssignSubmitted {
			continue
		}
		a := &accs[idx]
		if js := judges[r.JudgeID]; js.eligible {
			a.z = append(a.z, (totals[i]-js.mu)/js.sd)
		} else {
			a.raw = append(a.raw, totals[i])
		}
	}

	// Per-entry statistics.
	fit := false
	var minMean, maxMean, minZ, maxZ float64
	for i := range accs {
		a := &accs[i]
		row := &a.row
		n := len(a.totals)
		row.Judges = n
		row.ZRawJudges = len(a.raw)
		row.CriterionMeans = make(map[string]float64, len(keys))
		for k, key := range keys {
			if n > 0 {
				row.CriterionMeans[key] = float64(a.critSum[k]) / float64(n)
			} else {
				row.CriterionMeans[key] = 0
			}
		}
		if n == 0 {
			continue
		}
		slices.Sort(a.totals)
		row.Mean, row.StdDev = meanStdDev(a.totals)
		row.Median = median(a.totals)
		row.Range = a.totals[n-1] - a.totals[0]
		row.Trimmed = row.Mean
		if n >= set.TrimmedMinJudges {
			row.Trimmed = sum(a.totals[1:n-1]) / float64(n-2)
			row.TrimmedUsed = true
		}
		if len(a.z) > 0 {
			slices.Sort(a.z)
			slices.Sort(a.raw)
			a.fitted = true
			a.zMean = sum(a.z) / float64(len(a.z))
			if !fit {
				minMean, maxMean, minZ, maxZ = row.Mean, row.Mean, a.zMean, a.zMean
				fit = true
			}
			minMean, maxMean = math.Min(minMean, row.Mean), math.Max(maxMean, row.Mean)
			minZ, maxZ = math.Min(minZ, a.zMean), math.Max(maxZ, a.zMean)
		}
	}

	// ZScore: the z-mean mapped linearly from [minZ, maxZ] onto
	// [minMean, maxMean] (over entries with a z-normalised judge), blended
	// with the raw totals of judges who could not be normalised.
	degenerate := !fit || maxZ-minZ <= 1e-12
	for i := range accs {
		a := &accs[i]
		row := &a.row
		switch {
		case row.Judges == 0:
		case !a.fitted || degenerate:
			row.ZScore = row.Mean
		default:
			mapped := minMean + (a.zMean-minZ)/(maxZ-minZ)*(maxMean-minMean)
			k := float64(len(a.z))
			row.ZScore = (k*mapped + sum(a.raw)) / (k + float64(len(a.raw)))
		}
		row.Score = methodScore(row, method)
		row.Flags = make([]string, 0, 4)
		if set.DisagreementStdDev > 0 && row.StdDev > set.DisagreementStdDev {
			row.Flags = append(row.Flags, FlagDisagreement)
		}
		if row.Judges < 2 {
			row.Flags = append(row.Flags, FlagFewJudges)
		}
		if row.ZRawJudges > 0 {
			row.Flags = append(row.Flags, FlagZScoreRaw)
		}
	}

	// Order: scope (track, when perTrack), judged before unjudged, score,
	// tie-breaks, entry id.
	ties := func(x, y *entryAcc) int {
		if c := trueFirst(x.row.Judges > 0, y.row.Judges > 0); c != 0 {
			return c
		}
		if c := cmpScore(x.row.Score, y.row.Score); c != 0 {
			return c
		}
		for _, tb := range tie {
			if c := tieCompare(tb, x, y); c != 0 {
				return c
			}
		}
		return 0
	}
	scope := func(x, y *entryAcc) int {
		if perTrack {
			return cmp.Compare(x.row.Track, y.row.Track)
		}
		return 0
	}
	order := make([]*entryAcc, len(accs))
	for i := range accs {
		order[i] = &accs[i]
	}
	slices.SortFunc(order, func(x, y *entryAcc) int {
		if c := scope(x, y); c != 0 {
			return c
		}
		if c := ties(x, y); c != 0 {
			return c
		}
		return cmp.Compare(x.row.EntryID, y.row.EntryID)
	})

	out := make([]RankRow, len(order))
	rank := 0
	for i, a := range order {
		if i == 0 || scope(order[i-1], a) != 0 {
			rank = 0
		}
		rank++
		a.row.Rank = rank
		out[i] = a.row
	}
	// An unresolved tie among judged entries is marked on both sides, so
	// the council sees that only the entry id decided.
	for i := 1; i < len(order); i++ {
		x, y := order[i-1], order[i]
		if scope(x, y) == 0 && x.row.Judges > 0 && y.row.Judges > 0 && ties(x, y) == 0 {
			addFlag(&out[i-1], FlagTieUnresolved)
			addFlag(&out[i], FlagTieUnresolved)
		}
	}
	return out
}

func addFlag(r *RankRow, f string) {
	if !slices.Contains(r.Flags, f) {
		r.Flags = append(r.Flags, f)
	}
}

// trueFirst orders true before false.
func trueFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func tieCompare(tb TieBreak, x, y *entryAcc) int {
	switch tb.Kind {
	case TieCriterion:
		return cmpScore(x.row.CriterionMeans[tb.Criterion], y.row.CriterionMeans[tb.Criterion])
	case TieMedian:
		return cmpScore(x.row.Median, y.row.Median)
	case TieMean:
		return cmpScore(x.row.Mean, y.row.Mean)
	case TieZScore:
		return cmpScore(x.row.ZScore, y.row.ZScore)
	case TieTrimmed:
		return cmpScore(x.row.Trimmed, y.row.Trimmed)
	case TieEarliest:
		switch xz, yz := x.at.IsZero(), y.at.IsZero(); {
		case xz && yz:
			return 0
		case xz:
			return 1
		case yz:
			return -1
		}
		return x.at.Compare(y.at)
	}
	return 0
}

func methodScore(r *RankRow, m RankMethod) float64 {
	switch m {
	case RankMedian:
		return r.Median
	case RankZScore:
		return r.ZScore
	case RankTrimmed:
		return r.Trimmed
	}
	return r.Mean
}

// criterionKeys lists the criteria's keys once each, in order.
func criterionKeys(criteria []Criterion) []string {
	keys := make([]string, 0, len(criteria))
	for _, c := range criteria {
		if !slices.Contains(keys, c.Key) {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// meanStdDev returns the mean and the population standard deviation.
func meanStdDev(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	mean = sum(xs) / float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}

// median of sorted xs (the mean of the middle two for an even count).
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
