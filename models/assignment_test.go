package models

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

func judges(spec ...string) []PanelJudge {
	// "id:sector,sector"
	var out []PanelJudge
	for _, s := range spec {
		j := PanelJudge{}
		id, secs, found := cut(s, ":")
		j.UserID = id
		if found && secs != "" {
			for {
				a, b, more := cut(secs, ",")
				j.Sectors = append(j.Sectors, a)
				if !more {
					break
				}
				secs = b
			}
		}
		out = append(out, j)
	}
	return out
}

func cut(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

func entries(spec ...string) []AssignEntry {
	var out []AssignEntry
	for _, s := range spec {
		id, sec, _ := cut(s, ":")
		out = append(out, AssignEntry{ID: id, Sector: sec})
	}
	return out
}

// naiveGreedy gives each entry, in ID order, the k least-loaded free judges
// (sector match first on equal load, then judge ID), never going above
// ⌈T/J⌉. ok is false when it gets stuck or ends unbalanced.
func naiveGreedy(in AssignInput) (AssignResult, bool) {
	js := canonJudges(in.Judges)
	es := canonEntries(in.Entries)
	k := in.PerEntry
	if k <= 0 || k > len(js) {
		return AssignResult{}, false
	}
	ceil := (len(es)*k + len(js) - 1) / len(js)
	res := AssignResult{ByEntry: map[string][]string{}, Loads: map[string]int{}}
	for _, j := range js {
		res.Loads[j.id] = 0
	}
	for _, e := range es {
		bad := map[string]bool{}
		for _, id := range in.Conflicts[e.id] {
			bad[id] = true
		}
		var cand []canonJudge
		for _, j := range js {
			if !bad[j.id] && res.Loads[j.id] < ceil {
				cand = append(cand, j)
			}
		}
		sort.SliceStable(cand, func(a, b int) bool {
			la, lb := res.Loads[cand[a].id], res.Loads[cand[b].id]
			if la != lb {
				return la < lb
			}
			return cand[a].has(e.sector) && !cand[b].has(e.sector)
		})
		if len(cand) < k {
			return AssignResult{}, false
		}
		var ids []string
		for _, j := range cand[:k] {
			ids = append(ids, j.id)
			res.Loads[j.id]++
			if j.has(e.sector) {
				res.SectorMatches++
			}
		}
		slices.Sort(ids)
		res.ByEntry[e.id] = ids
	}
	lo, hi := loadSpread(res.Loads)
	return res, hi-lo <= 1
}

func loadSpread(loads map[string]int) (lo, hi int) {
	first := true
	for _, l := range loads {
		if first || l < lo {
			lo = l
		}
		if first || l > hi {
			hi = l
		}
		first = false
	}
	return lo, hi
}

// bruteForce tries every choice of k free judges for every entry and
// returns whether a balanced assignment exists and the best SectorMatches.
// tried is false when the instance is too big to enumerate.
func bruteForce(in AssignInput, budget int) (feasible bool, best int, tried bool) {
	js := canonJudges(in.Judges)
	es := canonEntries(in.Entries)
	k, J := in.PerEntry, len(js)
	if k <= 0 || k > J {
		return false, 0, true
	}
	if len(es) == 0 {
		return true, 0, true
	}
	T := len(es) * k
	q, r := T/J, T%J
	// Candidate judge subsets (as index lists) per entry.
	var subsets [][][]int
	total := 1
	for _, e := range es {
		bad := map[string]bool{}
		for _, id := range in.Conflicts[e.id] {
			bad[id] = true
		}
		var free []int
		for i, j := range js {
			if !bad[j.id] {
				free = append(free, i)
			}
		}
		var subs [][]int
		var rec func(start int, cur []int)
		rec = func(start int, cur []int) {
			if len(cur) == k {
				subs = append(subs, slices.Clone(cur))
				return
			}
			for i := start; i < len(free); i++ {
				rec(i+1, append(cur, free[i]))
			}
		}
		rec(0, nil)
		if len(subs) == 0 {
			return false, 0, true
		}
		total *= len(subs)
		if total > budget {
			return false, 0, false
		}
		subsets = append(subsets, subs)
	}
	loads := make([]int, J)
	best = -1
	var rec func(i, matches int)
	rec = func(i, matches int) {
		if i == len(es) {
			over := 0
			for _, l := range loads {
				if l < q || l > q+1 {
					return
				}
				if l == q+1 {
					over++
				}
			}
			if over == r && matches > best {
				best = matches
			}
			return
		}
		for _, sub := range subsets[i] {
			ok := true
			m := 0
			for _, ji := range sub {
				if loads[ji]+1 > q+1 || r == 0 && loads[ji]+1 > q {
					ok = false
				}
				if js[ji].has(es[i].sector) {
					m++
				}
			}
			if !ok {
				continue
			}
			for _, ji := range sub {
				loads[ji]++
			}
			rec(i+1, matches+m)
			for _, ji := range sub {
				loads[ji]--
			}
		}
	}
	rec(0, 0)
	return best >= 0, best, true
}

// checkValid fails the test unless res is a complete, conflict-free,
// balanced assignment of in whose counts add up.
func checkValid(t *testing.T, in AssignInput, res AssignResult) {
	t.Helper()
	js := canonJudges(in.Judges)
	es := canonEntries(in.Entries)
	if len(res.Loads) != len(js) {
		t.Fatalf("Loads has %d judges, panel has %d", len(res.Loads), len(js))
	}
	if len(res.ByEntry) != len(es) {
		t.Fatalf("ByEntry has %d entries, want %d", len(res.ByEntry), len(es))
	}
	count := map[string]int{}
	matches := 0
	for _, e := range es {
		ids := res.ByEntry[e.id]
		if len(ids) != in.PerEntry {
			t.Fatalf("entry %s has %d judges, want %d", e.id, len(ids), in.PerEntry)
		}
		if !slices.IsSorted(ids) {
			t.Fatalf("entry %s: judges not sorted: %v", e.id, ids)
		}
		for i, id := range ids {
			if i > 0 && ids[i-1] == id {
				t.Fatalf("entry %s: judge %s twice", e.id, id)
			}
			if slices.Contains(in.Conflicts[e.id], id) {
				t.Fatalf("entry %s: conflicted judge %s assigned", e.id, id)
			}
			if _, ok := res.Loads[id]; !ok {
				t.Fatalf("entry %s: judge %s not on the panel", e.id, id)
			}
			count[id]++
			for _, j := range js {
				if j.id == id && j.has(e.sector) {
					matches++
				}
			}
		}
	}
	for id, l := range res.Loads {
		if count[id] != l {
			t.Fatalf("judge %s: Loads says %d, assigned %d", id, l, count[id])
		}
	}
	if lo, hi := loadSpread(res.Loads); hi-lo > 1 {
		t.Fatalf("unbalanced: loads %v", res.Loads)
	}
	if matches != res.SectorMatches {
		t.Fatalf("SectorMatches = %d, recount %d", res.SectorMatches, matches)
	}
}

func TestAssignCases(t *testing.T) {
	cases := []struct {
		name      string
		in        AssignInput
		wantErr   string   // AssignError key
		wantBad   []string // AssignError.Entries
		wantBy    map[string][]string
		wantMatch int
	}{
		{
			name:    "per entry zero",
			in:      AssignInput{Entries: entries("e1"), Judges: judges("a", "b"), PerEntry: 0},
			wantErr: AssignPerEntry,
		},
		{
			name:    "per entry above panel",
			in:      AssignInput{Entries: entries("e1"), Judges: judges("a", "b"), PerEntry: 3},
			wantErr: AssignPerEntry,
		},
		{
			name:    "no judges",
			in:      AssignInput{Entries: entries("e1"), PerEntry: 1},
			wantErr: AssignPerEntry,
		},
		{
			name: "entry with too few free judges",
			in: AssignInput{Entries: entries("e1", "e2", "e3"), Judges: judges("a", "b", "c"), PerEntry: 2,
				Conflicts: map[string][]string{"e3": {"a", "b"}, "e1": {"c"}, "e2": {"a", "b", "x"}}},
			wantErr: AssignTooFewJudges,
			wantBad: []string{"e2", "e3"},
		},
		{
			// Each entry has its one free judge, but a would review both
			// and b none.
			name: "infeasible by conflicts",
			in: AssignInput{Entries: entries("e1", "e2"), Judges: judges("a", "b"), PerEntry: 1,
				Conflicts: map[string][]string{"e1": {"b"}, "e2": {"b"}}},
			wantErr: AssignUnbalanced,
			wantBad: []string{"e1", "e2"},
		},
		{
			// Six reviews over four judges: loads 2,2,1,1. Five entries can
			// only go to a or b, who can take four between them.
			name: "infeasible by conflicts, Hall violation",
			in: AssignInput{Entries: entries("e1", "e2", "e3", "e4", "e5", "e6"), Judges: judges("a", "b", "c", "d"), PerEntry: 1,
				Conflicts: map[string][]string{"e2": {"c", "d"}, "e3": {"c", "d"}, "e4": {"c", "d"}, "e5": {"d", "c"}, "e6": {"c", "d"}}},
			wantErr: AssignUnbalanced,
			wantBad: []string{"e2", "e3", "e4", "e5", "e6"},
		},
		{
			// Greedy by entry ID gives e1 to a (least loaded, first ID),
			// then e2 can only go to a: a=2, c=0. A solution exists.
			name: "greedy breaks balance",
			in: AssignInput{Entries: entries("e1", "e2", "e3"), Judges: judges("a", "b", "c"), PerEntry: 1,
				Conflicts: map[string][]string{"e2": {"b", "c"}, "e3": {"c"}}},
			wantBy: map[string][]string{"e1": {"c"}, "e2": {"a"}, "e3": {"b"}},
		},
		{
			name:   "sectors matched",
			in:     AssignInput{Entries: entries("e1:agri", "e2:fin", "e3:agri", "e4:fin"), Judges: judges("a:agri", "b:fin"), PerEntry: 1},
			wantBy: map[string][]string{"e1": {"a"}, "e2": {"b"}, "e3": {"a"}, "e4": {"b"}}, wantMatch: 4,
		},
		{
			// Balance beats expertise: b gets two agriculture entries.
			name:      "balance before sectors",
			in:        AssignInput{Entries: entries("e1:agri", "e2:agri", "e3:agri", "e4:agri"), Judges: judges("a:agri", "b:fin"), PerEntry: 1},
			wantMatch: 2,
		},
		{
			// k=2, T=8 over 3 judges: loads 3,3,2. c (agri, fin) matches
			// every entry but takes at most 3; b (fin) matches e3 and e4; a
			// matches nothing. Best: 3 + 2 = 5.
			name:      "k=2 sectors",
			in:        AssignInput{Entries: entries("e1:agri", "e2:agri", "e3:fin", "e4:fin"), Judges: judges("a", "b:fin", "c:agri,fin"), PerEntry: 2},
			wantMatch: 5,
		},
		{
			name:   "k equals panel",
			in:     AssignInput{Entries: entries("e1", "e2"), Judges: judges("b", "a"), PerEntry: 2},
			wantBy: map[string][]string{"e1": {"a", "b"}, "e2": {"a", "b"}},
		},
		{
			name:   "no entries",
			in:     AssignInput{Judges: judges("a", "b"), PerEntry: 1},
			wantBy: map[string][]string{},
		},
		{
			name: "duplicates merged, unknown conflicts ignored",
			in: AssignInput{Entries: entries("e1:agri", "e1:agri", "e2"), Judges: judges("a", "a:agri", "b"), PerEntry: 1,
				Conflicts: map[string][]string{"e2": {"zz", "a"}, "nope": {"a", "b"}}},
			wantBy:    map[string][]string{"e1": {"a"}, "e2": {"b"}},
			wantMatch: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Assign(c.in)
			if c.wantErr != "" {
				var ae *AssignError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want *AssignError %s", err, c.wantErr)
				}
				if ae.Key != c.wantErr || !slices.Equal(ae.Entries, c.wantBad) {
					t.Fatalf("got %s %v, want %s %v", ae.Key, ae.Entries, c.wantErr, c.wantBad)
				}
				if res.ByEntry != nil || res.Loads != nil {
					t.Fatalf("result not empty on error: %+v", res)
				}
				if feasible, _, tried := bruteForce(c.in, 1e6); tried && feasible {
					t.Fatalf("brute force finds an assignment")
				}
				if ae.Key == AssignUnbalanced && !bottleneck(c.in, ae.Entries) {
					t.Fatalf("no judge group explains %v", ae.Entries)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkValid(t, c.in, res)
			if c.wantBy != nil && !reflect.DeepEqual(res.ByEntry, c.wantBy) {
				t.Fatalf("ByEntry = %v, want %v", res.ByEntry, c.wantBy)
			}
			if res.SectorMatches != c.wantMatch {
				t.Fatalf("SectorMatches = %d, want %d", res.SectorMatches, c.wantMatch)
			}
		})
	}
}

// The hand-checked greedy case really does defeat the greedy baseline.
func TestNaiveGreedyBreaksBalance(t *testing.T) {
	in := AssignInput{Entries: entries("e1", "e2", "e3"), Judges: judges("a", "b", "c"), PerEntry: 1,
		Conflicts: map[string][]string{"e2": {"b", "c"}, "e3": {"c"}}}
	if _, ok := naiveGreedy(in); ok {
		t.Fatal("greedy found a balanced assignment; the case is not a counterexample")
	}
	if _, err := Assign(in); err != nil {
		t.Fatal(err)
	}
}

func TestAssignErrorMessage(t *testing.T) {
	e := &AssignError{Key: AssignUnbalanced}
	if e.Error() != "assign: error.assign_unbalanced" {
		t.Fatal(e.Error())
	}
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprint("e", i))
	}
	e = &AssignError{Key: AssignTooFewJudges, Entries: ids}
	want := "assign: error.assign_too_few_judges (e0, e1, e2, e3, e4, e5, e6, e7, e8, e9 and 2 more)"
	if e.Error() != want {
		t.Fatalf("%q", e.Error())
	}
}

var testSectors = []string{"agri", "fin", "edu", ""}

// randomInput builds a random panel. Sizes stay small enough that most
// instances can be brute-forced.
func randomInput(r *rand.Rand, maxEntries, maxJudges int) AssignInput {
	J := 1 + r.IntN(maxJudges)
	N := r.IntN(maxEntries + 1)
	in := AssignInput{PerEntry: 1 + r.IntN(J), Seed: r.Int64(), Conflicts: map[string][]string{}}
	if r.IntN(20) == 0 {
		in.PerEntry = []int{0, -1, J + 1}[r.IntN(3)] // occasionally invalid
	}
	for i := range J {
		j := PanelJudge{UserID: fmt.Sprintf("j%02d", i)}
		for _, s := range testSectors[:3] {
			if r.IntN(3) == 0 {
				j.Sectors = append(j.Sectors, s)
			}
		}
		in.Judges = append(in.Judges, j)
	}
	p := r.Float64() * 0.3
	// Half the panels have a block of judges that many entries conflict
	// with at once, which is what makes balance impossible.
	var block []string
	pBlock := 0.0
	if J > 1 && r.IntN(2) == 0 {
		for _, j := range in.Judges[:1+r.IntN(J-1)] {
			block = append(block, j.UserID)
		}
		pBlock = 0.3 + 0.6*r.Float64()
	}
	for i := range N {
		e := AssignEntry{ID: fmt.Sprintf("e%02d", i), Sector: testSectors[r.IntN(len(testSectors))]}
		in.Entries = append(in.Entries, e)
		if r.Float64() < pBlock {
			in.Conflicts[e.ID] = slices.Clone(block)
			continue
		}
		for _, j := range in.Judges {
			if r.Float64() < p {
				in.Conflicts[e.ID] = append(in.Conflicts[e.ID], j.UserID)
			}
		}
	}
	return in
}

// shuffled returns in with every slice reordered and the conflicts map
// rebuilt, which must not change the result.
func shuffled(r *rand.Rand, in AssignInput) AssignInput {
	out := in
	out.Entries = slices.Clone(in.Entries)
	r.Shuffle(len(out.Entries), func(i, j int) { out.Entries[i], out.Entries[j] = out.Entries[j], out.Entries[i] })
	out.Judges = nil
	for _, j := range in.Judges {
		j.Sectors = slices.Clone(j.Sectors)
		r.Shuffle(len(j.Sectors), func(a, b int) { j.Sectors[a], j.Sectors[b] = j.Sectors[b], j.Sectors[a] })
		out.Judges = append(out.Judges, j)
	}
	r.Shuffle(len(out.Judges), func(i, j int) { out.Judges[i], out.Judges[j] = out.Judges[j], out.Judges[i] })
	out.Conflicts = map[string][]string{}
	keys := make([]string, 0, len(in.Conflicts))
	for k := range in.Conflicts {
		keys = append(keys, k)
	}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		c := slices.Clone(in.Conflicts[k])
		r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		out.Conflicts[k] = c
	}
	return out
}

func TestAssignProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 12))
	var ok, infeasible, bruted, greedyCompared int
	keys := map[string]int{}
	for n := range 400 {
		in := randomInput(r, 9, 6)
		name := fmt.Sprintf("case %d (%d entries, %d judges, k=%d)", n, len(in.Entries), len(in.Judges), in.PerEntry)
		res, err := Assign(in)
		feasible, best, tried := bruteForce(in, 200000)
		if tried {
			bruted++
		}
		if err != nil {
			infeasible++
			var ae *AssignError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: err %v is not an AssignError", name, err)
			}
			keys[ae.Key]++
			switch ae.Key {
			case AssignPerEntry:
				if in.PerEntry > 0 && in.PerEntry <= len(in.Judges) {
					t.Fatalf("%s: %s for a valid PerEntry", name, ae.Key)
				}
			case AssignTooFewJudges:
				for _, id := range ae.Entries {
					if free := len(in.Judges) - len(in.Conflicts[id]); free >= in.PerEntry {
						t.Fatalf("%s: entry %s has %d free judges, needs %d", name, id, free, in.PerEntry)
					}
				}
				if len(ae.Entries) == 0 {
					t.Fatalf("%s: no entries named", name)
				}
			case AssignUnbalanced:
				if len(ae.Entries) == 0 {
					t.Fatalf("%s: no entries named", name)
				}
				if feasibleByFlow(in) {
					t.Fatalf("%s: independent max-flow finds a balanced assignment", name)
				}
				if !bottleneck(in, ae.Entries) {
					t.Fatalf("%s: no judge group explains why %v cannot be placed", name, ae.Entries)
				}
			default:
				t.Fatalf("%s: unknown key %s", name, ae.Key)
			}
			if tried && feasible {
				t.Fatalf("%s: Assign says %s but brute force finds an assignment", name, ae.Key)
			}
			continue
		}
		ok++
		checkValid(t, in, res)
		if tried {
			if !feasible {
				t.Fatalf("%s: brute force finds no assignment but Assign did", name)
			}
			if res.SectorMatches != best {
				t.Fatalf("%s: SectorMatches %d, brute-force optimum %d", name, res.SectorMatches, best)
			}
		}
		if g, gok := naiveGreedy(in); gok {
			greedyCompared++
			if res.SectorMatches < g.SectorMatches {
				t.Fatalf("%s: SectorMatches %d below greedy %d", name, res.SectorMatches, g.SectorMatches)
			}
		}
		again, err := Assign(shuffled(r, in))
		if err != nil || !reflect.DeepEqual(again, res) {
			t.Fatalf("%s: shuffled input gives %v / %v, want %v", name, again, err, res)
		}
	}
	t.Logf("%d assigned, %d infeasible %v, %d brute-forced, %d compared with greedy", ok, infeasible, keys, bruted, greedyCompared)
	if ok < 150 || keys[AssignUnbalanced] < 10 || keys[AssignTooFewJudges] < 10 || keys[AssignPerEntry] < 5 || bruted < 200 {
		t.Fatalf("random cases do not cover both outcomes well: %d assigned, %d infeasible, %d brute-forced", ok, infeasible, bruted)
	}
}

// Larger random panels: checked for validity, determinism and the greedy
// baseline (too big to brute-force).
func TestAssignPropertiesLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	assigned := 0
	for n := range 150 {
		in := randomInput(r, 60, 15)
		name := fmt.Sprintf("case %d (%d entries, %d judges, k=%d)", n, len(in.Entries), len(in.Judges), in.PerEntry)
		res, err := Assign(in)
		if err != nil {
			var ae *AssignError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %v", name, err)
			}
			if ae.Key == AssignUnbalanced && feasibleByFlow(in) {
				t.Fatalf("%s: unbalanced, but the independent max-flow finds an assignment", name)
			}
			continue
		}
		assigned++
		checkValid(t, in, res)
		if !feasibleByFlow(in) {
			t.Fatalf("%s: independent max-flow says infeasible", name)
		}
		if g, gok := naiveGreedy(in); gok && res.SectorMatches < g.SectorMatches {
			t.Fatalf("%s: SectorMatches %d below greedy %d", name, res.SectorMatches, g.SectorMatches)
		}
		again, err := Assign(shuffled(r, in))
		if err != nil || !reflect.DeepEqual(again, res) {
			t.Fatalf("%s: shuffled input gives a different result", name)
		}
	}
	if assigned < 50 {
		t.Fatalf("only %d of 150 large random panels were feasible", assigned)
	}
}

// bottleneck reports whether some group R of judges proves that the named
// entries cannot be placed (what AssignError documents): even with every
// free judge outside R on each of them, they need more reviews from R than R
// can take in a balanced assignment, |R|·⌊T/J⌋ + min(T mod J, |R|).
func bottleneck(in AssignInput, named []string) bool {
	js := canonJudges(in.Judges)
	J, k := len(js), in.PerEntry
	T := len(canonEntries(in.Entries)) * k
	q, r := T/J, T%J
	for mask := 0; mask < 1<<J; mask++ {
		size := 0
		for ji := range js {
			if mask&(1<<ji) != 0 {
				size++
			}
		}
		need := 0
		for _, id := range named {
			outside := 0
			for ji, j := range js {
				if mask&(1<<ji) == 0 && !slices.Contains(in.Conflicts[id], j.id) {
					outside++
				}
			}
			need += max(0, k-outside)
		}
		if need > size*q+min(r, size) {
			return true
		}
	}
	return false
}

// feasibleByFlow decides independently (plain Ford–Fulkerson on a capacity
// matrix, no costs) whether a balanced, conflict-free assignment exists:
// source → entry (k) → free judge (1) → sink (⌊T/J⌋) and judge → extra (1) →
// sink (T mod J).
func feasibleByFlow(in AssignInput) bool {
	js := canonJudges(in.Judges)
	es := canonEntries(in.Entries)
	k, J, N := in.PerEntry, len(js), len(es)
	if k <= 0 || k > J {
		return false
	}
	T := N * k
	n := N + J + 3
	s, x, t := 0, N+J+1, N+J+2
	c := make([][]int, n)
	for i := range c {
		c[i] = make([]int, n)
	}
	for i, e := range es {
		c[s][1+i] = k
		for ji, j := range js {
			if !slices.Contains(in.Conflicts[e.id], j.id) {
				c[1+i][1+N+ji] = 1
			}
		}
	}
	for ji := range js {
		c[1+N+ji][t] = T / J
		c[1+N+ji][x] = 1
	}
	c[x][t] = T % J
	flow := 0
	for {
		prev := make([]int, n)
		for i := range prev {
			prev[i] = -1
		}
		prev[s] = s
		stack := []int{s}
		for len(stack) > 0 && prev[t] < 0 {
			u := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for v := range n {
				if c[u][v] > 0 && prev[v] < 0 {
					prev[v] = u
					stack = append(stack, v)
				}
			}
		}
		if prev[t] < 0 {
			return flow == T
		}
		for v := t; v != s; v = prev[v] {
			c[prev[v]][v]--
			c[v][prev[v]]++
		}
		flow++
	}
}

func TestAssignSeedVaries(t *testing.T) {
	in := AssignInput{Judges: judges("a", "b", "c", "d", "e", "f"), PerEntry: 2}
	for i := range 12 {
		in.Entries = append(in.Entries, AssignEntry{ID: fmt.Sprint("e", i)})
	}
	seen := map[string]bool{}
	for seed := range int64(20) {
		in.Seed = seed
		res, err := Assign(in)
		if err != nil {
			t.Fatal(err)
		}
		checkValid(t, in, res)
		seen[fmt.Sprint(res.ByEntry)] = true
		again, _ := Assign(in)
		if !reflect.DeepEqual(again, res) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
	}
	if len(seen) < 5 {
		t.Fatalf("20 seeds gave only %d different assignments", len(seen))
	}
}

func bigInput(entriesN, judgesN, k int, conflictRate float64, seed uint64) AssignInput {
	r := rand.New(rand.NewPCG(seed, 1))
	in := AssignInput{PerEntry: k, Seed: int64(seed), Conflicts: map[string][]string{}}
	for i := range judgesN {
		j := PanelJudge{UserID: fmt.Sprintf("judge%03d", i)}
		j.Sectors = append(j.Sectors, DefaultSectors[r.IntN(len(DefaultSectors))], DefaultSectors[r.IntN(len(DefaultSectors))])
		in.Judges = append(in.Judges, j)
	}
	for i := range entriesN {
		e := AssignEntry{ID: fmt.Sprintf("entry%04d", i), Sector: DefaultSectors[r.IntN(len(DefaultSectors))]}
		in.Entries = append(in.Entries, e)
		for _, j := range in.Judges {
			if r.Float64() < conflictRate {
				in.Conflicts[e.ID] = append(in.Conflicts[e.ID], j.UserID)
			}
		}
	}
	return in
}

func TestAssignLargePanel(t *testing.T) {
	if testing.Short() {
		t.Skip("large panel")
	}
	in := bigInput(2000, 40, 3, 0.1, 3)
	res, err := Assign(in)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, in, res)
	if g, ok := naiveGreedy(in); ok && res.SectorMatches < g.SectorMatches {
		t.Fatalf("SectorMatches %d below greedy %d", res.SectorMatches, g.SectorMatches)
	}
}

func BenchmarkAssign(b *testing.B) {
	in := bigInput(500, 10, 3, 0.1, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assign(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAssignLarge(b *testing.B) {
	in := bigInput(2000, 40, 3, 0.1, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assign(in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReplacement(t *testing.T) {
	js := judges("a:agri", "b:fin", "c:agri", "d")
	loads := map[string]int{"a": 3, "b": 2, "c": 2, "d": 2}
	cases := []struct {
		name      string
		sector    string
		current   []string
		conflicts []string
		loads     map[string]int
		want      string
		ok        bool
	}{
		{"least loaded and matching", "agri", []string{"d"}, []string{"a"}, loads, "c", true},
		{"least loaded beats match", "agri", nil, nil, map[string]int{"a": 3, "b": 1, "c": 2, "d": 2}, "b", true},
		{"match breaks a load tie", "fin", nil, nil, loads, "b", true},
		{"missing load counts as zero", "agri", nil, nil, map[string]int{"a": 1, "b": 1, "c": 1}, "d", true},
		{"conflicted and current excluded", "", []string{"b", "c"}, []string{"d"}, loads, "a", true},
		{"nobody left", "agri", []string{"a", "b"}, []string{"c", "d"}, loads, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Replacement("e1", c.sector, js, c.current, c.conflicts, c.loads, 1)
			if got != c.want || ok != c.ok {
				t.Fatalf("got %q %v, want %q %v", got, ok, c.want, c.ok)
			}
		})
	}
	if _, ok := Replacement("e1", "agri", nil, nil, nil, nil, 1); ok {
		t.Fatal("empty panel gave a judge")
	}
}

func TestReplacementDeterministic(t *testing.T) {
	js := judges("a", "b", "c", "d", "e", "f", "g", "h")
	seen := map[string]bool{}
	for seed := range int64(30) {
		got, ok := Replacement("e1", "agri", js, []string{"a"}, []string{"b"}, nil, seed)
		if !ok || got == "a" || got == "b" {
			t.Fatalf("seed %d: %q %v", seed, got, ok)
		}
		rev := slices.Clone(js)
		slices.Reverse(rev)
		if again, _ := Replacement("e1", "agri", rev, []string{"a"}, []string{"b"}, map[string]int{}, seed); again != got {
			t.Fatalf("seed %d: order of judges changed the pick: %q vs %q", seed, again, got)
		}
		seen[got] = true
	}
	if len(seen) < 3 {
		t.Fatalf("30 seeds picked only %v", seen)
	}
}
