package models

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// PanelJudge is a judge on a round's panel with their sectors of expertise.
type PanelJudge struct {
	UserID  string
	Sectors []string // expertise; matches Entry.Sector values
}

// AssignEntry is an entry to be reviewed in a round.
type AssignEntry struct {
	ID     string
	Sector string
}

// AssignInput is everything Assign needs.
type AssignInput struct {
	Entries   []AssignEntry
	Judges    []PanelJudge
	Conflicts map[string][]string // entry ID -> judge user IDs who may not review it
	PerEntry  int                 // k judges per entry
	Seed      int64
}

// AssignResult is a complete assignment.
type AssignResult struct {
	ByEntry       map[string][]string // entry ID -> judge IDs (sorted)
	Loads         map[string]int      // judge ID -> number of entries (every judge present, 0 allowed)
	SectorMatches int                 // how many (entry, judge) pairs share the sector
}

// Message keys of AssignError.
const (
	AssignPerEntry     = "error.assign_per_entry"      // PerEntry <= 0 or more than the panel has judges
	AssignTooFewJudges = "error.assign_too_few_judges" // Entries have fewer than PerEntry conflict-free judges
	AssignUnbalanced   = "error.assign_unbalanced"     // conflicts make max load − min load ≤ 1 impossible
)

// assignErrorMaxNames bounds the entry IDs that AssignError.Error spells out.
const assignErrorMaxNames = 10

// AssignError says why an assignment is impossible; it is a typed error the
// HTTP layer maps to 422. Entries is sorted; it is empty for
// error.assign_per_entry, names every entry with fewer than PerEntry
// conflict-free judges for error.assign_too_few_judges, and for
// error.assign_unbalanced names the entries at the bottleneck (the source
// side of a minimum cut of the flow below): there is a group of judges such
// that these entries, even with every conflict-free judge outside the group
// reviewing each of them, still need more reviews from the group than it can
// take while loads stay within one of each other. Lifting a conflict between
// one of them and a judge outside the group, or widening the panel, helps.
type AssignError struct {
	Key     string   // message key, e.g. "error.assign_too_few_judges", "error.assign_unbalanced", "error.assign_per_entry"
	Entries []string // entry IDs that cannot get PerEntry conflict-free judges (when that is the reason)
}

func (e *AssignError) Error() string {
	if len(e.Entries) == 0 {
		return "assign: " + e.Key
	}
	names := e.Entries
	more := ""
	if len(names) > assignErrorMaxNames {
		more = " and " + strconv.Itoa(len(names)-assignErrorMaxNames) + " more"
		names = names[:assignErrorMaxNames]
	}
	return "assign: " + e.Key + " (" + strings.Join(names, ", ") + more + ")"
}

// Assign gives every entry exactly in.PerEntry distinct judges, none of them
// conflicted, so that judges' loads differ by at most one (each judge gets
// ⌊T/J⌋ or ⌈T/J⌉ of the T = entries × PerEntry reviews) and, among all such
// assignments, as many (entry, judge) pairs as possible share the entry's
// sector. The result depends only on the input's content and the seed, not
// on the order of the slices; different seeds may pick different ones among
// equally good assignments.
//
// Method: a min-cost flow source → entry (capacity k) → judge (capacity 1
// where not conflicted; cost 0 on a sector match, else 1) → sink. Each judge
// has an edge of capacity ⌊T/J⌋ to the sink and one of capacity 1 to an
// "extra" node, which has capacity T mod J to the sink. The sink's in-capacity
// is exactly T, so a flow of value T saturates every edge into the sink: every
// judge gets exactly ⌊T/J⌋ plus at most one extra, i.e. the loads are
// balanced; a smaller maximum flow proves no balanced assignment exists. The
// flow is found by primal-dual successive shortest paths (Dijkstra with
// potentials, then a Dinic blocking flow on the zero-reduced-cost arcs), which
// takes a handful of phases because costs are 0 or 1. The seed shuffles the
// order in which entries and judges are offered to the search.
//
// Duplicate judges (same UserID) are merged, their sectors united; duplicate
// entries (same ID) are merged, keeping the smallest non-empty sector.
// Conflicts naming judges not on the panel are ignored.
func Assign(in AssignInput) (AssignResult, error) {
	judges := canonJudges(in.Judges)
	entries := canonEntries(in.Entries)
	J, N, k := len(judges), len(entries), in.PerEntry
	if k <= 0 || k > J {
		return AssignResult{}, &AssignError{Key: AssignPerEntry}
	}
	jIndex := make(map[string]int, J)
	for i, j := range judges {
		jIndex[j.id] = i
	}
	// Conflicted judge indices per entry; entries left without k free judges.
	conflicted := make([][]bool, N)
	var short []string
	for i, e := range entries {
		c := make([]bool, J)
		free := J
		for _, uid := range in.Conflicts[e.id] {
			if ji, ok := jIndex[uid]; ok && !c[ji] {
				c[ji] = true
				free--
			}
		}
		conflicted[i] = c
		if free < k {
			short = append(short, e.id)
		}
	}
	if len(short) > 0 {
		return AssignResult{}, &AssignError{Key: AssignTooFewJudges, Entries: short}
	}

	res := AssignResult{ByEntry: make(map[string][]string, N), Loads: make(map[string]int, J)}
	for _, j := range judges {
		res.Loads[j.id] = 0
	}
	if N == 0 {
		return res, nil
	}

	T := N * k
	q, r := T/J, T%J
	rng := rand.New(rand.NewPCG(uint64(in.Seed), 0x53_70_72_6f_75_74)) // "Sprout"
	eOrder := rng.Perm(N)
	jOrder := rng.Perm(J)

	// Nodes: 0 source, 1..N entries (in canonical index order), N+1..N+J
	// judges, N+J+1 extra, N+J+2 sink.
	src, extra, sink := 0, N+J+1, N+J+2
	g := newFlowGraph(N+J+3, N+N*J+2*J+1)
	for _, ei := range eOrder {
		g.addEdge(src, 1+ei, k, 0)
	}
	for _, ei := range eOrder {
		e := entries[ei]
		off := rng.IntN(J) // vary the judge order per entry as well
		for t := 0; t < J; t++ {
			ji := jOrder[(off+t)%J]
			if conflicted[ei][ji] {
				continue
			}
			cost := 1
			if judges[ji].has(e.sector) {
				cost = 0
			}
			g.addEdge(1+ei, 1+N+ji, 1, cost)
		}
	}
	for _, ji := range jOrder {
		if q > 0 {
			g.addEdge(1+N+ji, sink, q, 0)
		}
		if r > 0 {
			g.addEdge(1+N+ji, extra, 1, 0)
		}
	}
	if r > 0 {
		g.addEdge(extra, sink, r, 0)
	}

	if flow := g.minCostFlow(src, sink, T); flow < T {
		// The entries still reachable from the source in the residual
		// graph are the source side of a minimum cut (see AssignError).
		seen := g.reachable(src)
		var bad []string
		for i, e := range entries {
			if seen[1+i] {
				bad = append(bad, e.id)
			}
		}
		return AssignResult{}, &AssignError{Key: AssignUnbalanced, Entries: bad}
	}

	for i, e := range entries {
		ids := make([]string, 0, k)
		for _, a := range g.adj[1+i] {
			if a&1 != 0 || g.cap[a] != 0 {
				continue // reverse arc, or unused
			}
			ji := int(g.to[a]) - 1 - N
			ids = append(ids, judges[ji].id)
			res.Loads[judges[ji].id]++
			if judges[ji].has(e.sector) {
				res.SectorMatches++
			}
		}
		slices.Sort(ids)
		res.ByEntry[e.id] = ids
	}
	return res, nil
}

// Replacement picks the judge to fill a freed slot of entryID (a declared
// conflict): not conflicted, not already on the entry, least loaded, sector
// match preferred, deterministic by seed; ok=false when none.
//
// The order is: lowest load (loads[id], missing counts as 0), then a judge
// whose Sectors contain sector, then a seeded hash of (entryID, judge ID),
// then the judge ID. A judge with an empty UserID is never chosen.
func Replacement(entryID, sector string, judges []PanelJudge, current []string, conflicts []string, loads map[string]int, seed int64) (judgeID string, ok bool) {
	excluded := make(map[string]bool, len(current)+len(conflicts))
	for _, id := range current {
		excluded[id] = true
	}
	for _, id := range conflicts {
		excluded[id] = true
	}
	// A judge listed twice matches if any of their listings does.
	matchOf := map[string]bool{}
	for _, j := range judges {
		if sector != "" && slices.Contains(j.Sectors, sector) {
			matchOf[j.UserID] = true
		}
	}
	var (
		best      string
		bestLoad  int
		bestMatch bool
		bestHash  uint64
		found     bool
	)
	for _, j := range judges {
		id := j.UserID
		if id == "" || excluded[id] {
			continue
		}
		load, match, h := loads[id], matchOf[id], tieHash(seed, entryID, id)
		better := !found ||
			load < bestLoad ||
			load == bestLoad && match && !bestMatch ||
			load == bestLoad && match == bestMatch && (h < bestHash || h == bestHash && id < best)
		if better {
			best, bestLoad, bestMatch, bestHash, found = id, load, match, h, true
		}
	}
	return best, found
}

// tieHash is a seeded 64-bit hash of (entry, judge): FNV-1a, then the
// splitmix64 finaliser to spread the bits.
func tieHash(seed int64, entryID, judgeID string) uint64 {
	h := uint64(14695981039346656037)
	mix := func(b byte) { h ^= uint64(b); h *= 1099511628211 }
	for i := 0; i < 8; i++ {
		mix(byte(uint64(seed) >> (8 * i)))
	}
	for i := 0; i < len(entryID); i++ {
		mix(entryID[i])
	}
	mix(0)
	for i := 0; i < len(judgeID); i++ {
		mix(judgeID[i])
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

type canonJudge struct {
	id      string
	sectors []string // sorted, unique
}

func (j canonJudge) has(sector string) bool {
	if sector == "" {
		return false
	}
	_, ok := slices.BinarySearch(j.sectors, sector)
	return ok
}

// canonJudges sorts judges by ID and merges duplicates.
func canonJudges(in []PanelJudge) []canonJudge {
	byID := make(map[string][]string, len(in))
	for _, j := range in {
		byID[j.UserID] = append(byID[j.UserID], j.Sectors...)
	}
	out := make([]canonJudge, 0, len(byID))
	for id, s := range byID {
		s = slices.Clone(s)
		slices.Sort(s)
		out = append(out, canonJudge{id: id, sectors: slices.Compact(s)})
	}
	slices.SortFunc(out, func(a, b canonJudge) int { return strings.Compare(a.id, b.id) })
	return out
}

type canonEntry struct {
	id, sector string
}

// canonEntries sorts entries by ID and merges duplicates.
func canonEntries(in []AssignEntry) []canonEntry {
	bySector := make(map[string]string, len(in))
	for _, e := range in {
		old, seen := bySector[e.ID]
		if !seen || old == "" || (e.Sector != "" && e.Sector < old) {
			bySector[e.ID] = e.Sector
		}
	}
	out := make([]canonEntry, 0, len(bySector))
	for id, s := range bySector {
		out = append(out, canonEntry{id: id, sector: s})
	}
	slices.SortFunc(out, func(a, b canonEntry) int { return strings.Compare(a.id, b.id) })
	return out
}

// flowGraph is a residual graph for min-cost flow. Arc a and a^1 are a
// forward arc and its reverse.
type flowGraph struct {
	adj  [][]int32
	to   []int32
	cap  []int32
	cost []int32
}

func newFlowGraph(nodes, edgeHint int) *flowGraph {
	return &flowGraph{
		adj:  make([][]int32, nodes),
		to:   make([]int32, 0, 2*edgeHint),
		cap:  make([]int32, 0, 2*edgeHint),
		cost: make([]int32, 0, 2*edgeHint),
	}
}

func (g *flowGraph) addEdge(u, v, capacity, cost int) {
	a := int32(len(g.to))
	g.to = append(g.to, int32(v), int32(u))
	g.cap = append(g.cap, int32(capacity), 0)
	g.cost = append(g.cost, int32(cost), int32(-cost))
	g.adj[u] = append(g.adj[u], a)
	g.adj[v] = append(g.adj[v], a+1)
}

// minCostFlow sends up to limit units from s to t at minimum cost and
// returns the amount sent. All initial costs must be non-negative.
func (g *flowGraph) minCostFlow(s, t, limit int) int {
	n := len(g.adj)
	const inf = int64(1) << 60
	pot := make([]int64, n)
	dist := make([]int64, n)
	level := make([]int32, n)
	iter := make([]int, n)
	queue := make([]int32, 0, n)
	var hp distHeap
	rc := func(u int, a int32) int64 { return int64(g.cost[a]) + pot[u] - pot[g.to[a]] }

	var dfs func(u int, f int32) int32
	dfs = func(u int, f int32) int32 {
		if u == t {
			return f
		}
		for ; iter[u] < len(g.adj[u]); iter[u]++ {
			a := g.adj[u][iter[u]]
			v := g.to[a]
			if g.cap[a] == 0 || level[v] != level[u]+1 || rc(u, a) != 0 {
				continue
			}
			if d := dfs(int(v), min(f, g.cap[a])); d > 0 {
				g.cap[a] -= d
				g.cap[a^1] += d
				return d
			}
		}
		return 0
	}

	flow := 0
	for flow < limit {
		// Shortest reduced distances from s.
		for i := range dist {
			dist[i] = inf
		}
		dist[s] = 0
		hp = append(hp[:0], distItem{0, int32(s)})
		for len(hp) > 0 {
			it := hp.pop()
			u := int(it.node)
			if it.d != dist[u] {
				continue
			}
			for _, a := range g.adj[u] {
				if g.cap[a] == 0 {
					continue
				}
				v := g.to[a]
				if nd := it.d + rc(u, a); nd < dist[v] {
					dist[v] = nd
					hp.push(distItem{nd, v})
				}
			}
		}
		if dist[t] == inf {
			break
		}
		for v := range pot {
			pot[v] += min(dist[v], dist[t])
		}
		// Blocking flows on the admissible (zero reduced cost) arcs.
		for flow < limit {
			for i := range level {
				level[i] = -1
			}
			level[s] = 0
			queue = append(queue[:0], int32(s))
			for h := 0; h < len(queue); h++ {
				u := int(queue[h])
				for _, a := range g.adj[u] {
					v := g.to[a]
					if g.cap[a] > 0 && level[v] < 0 && rc(u, a) == 0 {
						level[v] = level[u] + 1
						queue = append(queue, v)
					}
				}
			}
			if level[t] < 0 {
				break
			}
			clear(iter)
			for flow < limit {
				f := dfs(s, int32(min(limit-flow, 1<<30)))
				if f == 0 {
					break
				}
				flow += int(f)
			}
		}
	}
	return flow
}

// reachable marks the nodes reachable from s over arcs with capacity left.
func (g *flowGraph) reachable(s int) []bool {
	seen := make([]bool, len(g.adj))
	seen[s] = true
	stack := []int{s}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range g.adj[u] {
			if v := int(g.to[a]); g.cap[a] > 0 && !seen[v] {
				seen[v] = true
				stack = append(stack, v)
			}
		}
	}
	return seen
}

type distItem struct {
	d    int64
	node int32
}

// distHeap is a binary min-heap on d.
type distHeap []distItem

func (h *distHeap) push(x distItem) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d <= s[i].d {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *distHeap) pop() distItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l, m := 2*i+1, i
		if l < len(s) && s[l].d < s[m].d {
			m = l
		}
		if l+1 < len(s) && s[l+1].d < s[m].d {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
