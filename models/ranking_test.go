package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Two criteria: a review's total is 2a + b.
func rankCriteria() []Criterion {
	return []Criterion{{Key: "a", Max: 10, Weight: 2}, {Key: "b", Max: 10, Weight: 1}}
}

func rev(judge, entry string, status AssignmentStatus, a, b int) Assignment {
	return Assignment{ID: judge + "/" + entry, EntryID: entry, JudgeID: judge, Status: status,
		Scores: map[string]int{"a": a, "b": b}}
}

func sub(judge, entry string, a, b int) Assignment { return rev(judge, entry, AssignSubmitted, a, b) }

func ents(ids ...string) []RankEntry {
	out := make([]RankEntry, len(ids))
	for i, id := range ids {
		out[i] = RankEntry{ID: id, Title: "T" + id, Track: "idea"}
	}
	return out
}

const tol = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

func byEntry(rows []RankRow) map[string]RankRow {
	m := map[string]RankRow{}
	for _, r := range rows {
		m[r.EntryID] = r
	}
	return m
}

func order(rows []RankRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.EntryID
	}
	return out
}

// panel: 3 judges × 4 entries. J1 is lenient with a wide spread, J2 is
// middling, J3 is harsh with a narrow spread. Totals (2a + b):
//
//	      J1        J2        J3
//	E1  29 (10,9)  15 (5,5)   7 (1,5)
//	E2  23 (9,5)   23 (8,7)   9 (2,5)
//	E3  21 (8,5)   17 (6,5)   9 (4,1)
//	E4  15 (5,5)   17 (6,5)   7 (0,7)   ← J3 scored criterion a 0
//
// Judge statistics (population σ):
//
//	J1: μ = (29+23+21+15)/4 = 22, deviations 7, 1, −1, −7, σ² = (49+1+1+49)/4 = 25, σ = 5
//	    z = 1.4, 0.2, −0.2, −1.4
//	J2: μ = (15+23+17+17)/4 = 18, deviations −3, 5, −1, −1, σ² = (9+25+1+1)/4 = 9, σ = 3
//	    z = −1, 5/3, −1/3, −1/3
//	J3: μ = (7+9+9+7)/4 = 8, deviations −1, 1, 1, −1, σ = 1
//	    z = −1, 1, 1, −1
func panel() []Assignment {
	return []Assignment{
		sub("J1", "E1", 10, 9), sub("J1", "E2", 9, 5), sub("J1", "E3", 8, 5), sub("J1", "E4", 5, 5),
		sub("J2", "E1", 5, 5), sub("J2", "E2", 8, 7), sub("J2", "E3", 6, 5), sub("J2", "E4", 6, 5),
		sub("J3", "E1", 1, 5), sub("J3", "E2", 2, 5), sub("J3", "E3", 4, 1), sub("J3", "E4", 0, 7),
	}
}

type stats struct {
	Mean, Median, ZScore, Trimmed, StdDev, Range float64
}

func TestRankPanelStatistics(t *testing.T) {
	// Means:   E1 (29+15+7)/3 = 17, E2 (23+23+9)/3 = 55/3, E3 (21+17+9)/3 = 47/3, E4 (15+17+7)/3 = 13.
	// Medians: E1 {7,15,29} 15, E2 {9,23,23} 23, E3 {9,17,21} 17, E4 {7,15,17} 15.
	// z-means: E1 (1.4 − 1 − 1)/3 = −9/45, E2 (0.2 + 5/3 + 1)/3 = 43/45,
	//          E3 (−0.2 − 1/3 + 1)/3 = 7/45, E4 (−1.4 − 1/3 − 1)/3 = −41/45.
	// Mapping [−41/45, 43/45] → [13, 55/3]: slope (16/3)/(84/45) = 20/7,
	//   E1 13 + (32/45)(20/7) = 947/63, E2 55/3, E3 13 + (48/45)(20/7) = 337/21, E4 13.
	// StdDev (population): E1 devs 12, −2, −10 → √(248/3); E2 devs 14/3, 14/3, −28/3 → √(1176/27);
	//   E3 devs 16/3, 4/3, −20/3 → √(672/27); E4 devs 2, 4, −6 → √(56/3).
	// Ranges: 29−7 = 22, 23−9 = 14, 21−9 = 12, 17−7 = 10.
	// Trimmed: 3 judges < 5, so Trimmed = Mean.
	want := map[string]stats{
		"E1": {17, 15, 947.0 / 63, 17, math.Sqrt(248.0 / 3), 22},
		"E2": {55.0 / 3, 23, 55.0 / 3, 55.0 / 3, math.Sqrt(1176.0 / 27), 14},
		"E3": {47.0 / 3, 17, 337.0 / 21, 47.0 / 3, math.Sqrt(672.0 / 27), 12},
		"E4": {13, 15, 13, 13, math.Sqrt(56.0 / 3), 10},
	}
	rows := Rank(rankCriteria(), ents("E1", "E2", "E3", "E4"), panel(), RankMean, RankSettings{MinJudgeScores: 3}, nil, false)
	for id, w := range want {
		r := byEntry(rows)[id]
		got := stats{r.Mean, r.Median, r.ZScore, r.Trimmed, r.StdDev, r.Range}
		g, wv := reflect.ValueOf(got), reflect.ValueOf(w)
		for i := range g.NumField() {
			if !near(g.Field(i).Float(), wv.Field(i).Float()) {
				t.Errorf("%s %s = %v, want %v", id, g.Type().Field(i).Name, g.Field(i).Float(), wv.Field(i).Float())
			}
		}
		if r.Judges != 3 || r.Missing != 0 || r.ZRawJudges != 0 || r.TrimmedUsed {
			t.Errorf("%s: judges %d missing %d zraw %d trimmedUsed %v", id, r.Judges, r.Missing, r.ZRawJudges, r.TrimmedUsed)
		}
		if r.Title != "T"+id || r.Track != "idea" || len(r.Flags) != 0 {
			t.Errorf("%s: title %q track %q flags %v", id, r.Title, r.Track, r.Flags)
		}
		if r.ZeroCriterion != (id == "E4") {
			t.Errorf("%s: ZeroCriterion %v", id, r.ZeroCriterion)
		}
	}
	// Criterion means: E1 a (10+5+1)/3 = 16/3, b (9+5+5)/3 = 19/3; E4 a (5+6+0)/3 = 11/3, b (5+5+7)/3 = 17/3.
	m := byEntry(rows)
	if !near(m["E1"].CriterionMeans["a"], 16.0/3) || !near(m["E1"].CriterionMeans["b"], 19.0/3) ||
		!near(m["E4"].CriterionMeans["a"], 11.0/3) || !near(m["E4"].CriterionMeans["b"], 17.0/3) {
		t.Errorf("criterion means: E1 %v, E4 %v", m["E1"].CriterionMeans, m["E4"].CriterionMeans)
	}
}

func TestRankPanelMethods(t *testing.T) {
	cases := []struct {
		method RankMethod
		order  []string
	}{
		// 55/3 > 17 > 47/3 > 13
		{RankMean, []string{"E2", "E1", "E3", "E4"}},
		// the harsh, narrow J3 gets an equal voice: E3 (337/21 ≈ 16.05) passes E1 (947/63 ≈ 15.03)
		{RankZScore, []string{"E2", "E3", "E1", "E4"}},
		// 23 > 17 > 15 = 15: E1 and E4 tie, no tie-breaks, so by entry id
		{RankMedian, []string{"E2", "E3", "E1", "E4"}},
		// 3 judges: trimmed is the mean
		{RankTrimmed, []string{"E2", "E1", "E3", "E4"}},
		// an unknown method ranks by mean
		{"bogus", []string{"E2", "E1", "E3", "E4"}},
	}
	for _, c := range cases {
		t.Run(string(c.method), func(t *testing.T) {
			rows := Rank(rankCriteria(), ents("E4", "E3", "E2", "E1"), panel(), c.method, RankSettings{MinJudgeScores: 3}, nil, false)
			if got := order(rows); !slices.Equal(got, c.order) {
				t.Fatalf("order %v, want %v", got, c.order)
			}
			for i, r := range rows {
				if r.Rank != i+1 {
					t.Errorf("row %d has rank %d", i, r.Rank)
				}
				if r.Score != methodScore(&r, c.method) {
					t.Errorf("%s: score %v is not the method's", r.EntryID, r.Score)
				}
			}
			if c.method == RankMedian {
				m := byEntry(rows)
				if !slices.Equal(m["E1"].Flags, []string{FlagTieUnresolved}) || !slices.Equal(m["E4"].Flags, []string{FlagTieUnresolved}) {
					t.Errorf("tie flags: E1 %v, E4 %v", m["E1"].Flags, m["E4"].Flags)
				}
			}
		})
	}
}

func TestRankZScoreFewScores(t *testing.T) {
	t.Run("default minimum: every judge has 4 < 5 scores", func(t *testing.T) {
		// No judge is normalised: ZScore = Mean, every judge counted raw.
		rows := Rank(rankCriteria(), ents("E1", "E2", "E3", "E4"), panel(), RankZScore, RankSettings{}, nil, false)
		for _, r := range rows {
			if r.ZScore != r.Mean || r.ZRawJudges != 3 || !slices.Equal(r.Flags, []string{FlagZScoreRaw}) {
				t.Errorf("%s: zscore %v mean %v zraw %d flags %v", r.EntryID, r.ZScore, r.Mean, r.ZRawJudges, r.Flags)
			}
		}
		if got := order(rows); !slices.Equal(got, []string{"E2", "E1", "E3", "E4"}) {
			t.Errorf("order %v", got)
		}
	})
	t.Run("a guest judge with one score is blended raw", func(t *testing.T) {
		// J4 scores only E1: total 2·10 + 10 = 30; 1 < 3 scores, so raw.
		// Means: E1 (29+15+7+30)/4 = 81/4, the others as in the panel (E4 13 lowest, E1 highest).
		// z-means over J1–J3 are unchanged: −9/45, 43/45, 7/45, −41/45.
		// Mapping [−41/45, 43/45] → [13, 81/4]: slope (29/4)/(84/45) = 435/112.
		//   E1 mapped 13 + (32/45)(435/112) = 13 + 58/21 = 331/21,
		//   blended with J4's raw 30: (3 · 331/21 + 30)/4 = (331 + 210)/28 = 541/28.
		//   E2 13 + 29/4 = 81/4; E3 13 + (48/45)(435/112) = 13 + 29/7 = 120/7; E4 13.
		reviews := append(panel(), sub("J4", "E1", 10, 10))
		rows := Rank(rankCriteria(), ents("E1", "E2", "E3", "E4"), reviews, RankZScore, RankSettings{MinJudgeScores: 3}, nil, false)
		want := map[string]float64{"E1": 541.0 / 28, "E2": 81.0 / 4, "E3": 120.0 / 7, "E4": 13}
		m := byEntry(rows)
		for id, w := range want {
			if !near(m[id].ZScore, w) || m[id].Score != m[id].ZScore {
				t.Errorf("%s: zscore %v, want %v", id, m[id].ZScore, w)
			}
		}
		if m["E1"].ZRawJudges != 1 || !slices.Equal(m["E1"].Flags, []string{FlagZScoreRaw}) || m["E2"].ZRawJudges != 0 {
			t.Errorf("E1 zraw %d flags %v; E2 zraw %d", m["E1"].ZRawJudges, m["E1"].Flags, m["E2"].ZRawJudges)
		}
		if got := order(rows); !slices.Equal(got, []string{"E2", "E1", "E3", "E4"}) {
			t.Errorf("order %v", got)
		}
	})
	t.Run("a judge whose scores are all equal is raw", func(t *testing.T) {
		// J1 scores 12 everywhere (σ = 0); J2 10, 20 (μ 15, σ 5, z −1, +1).
		// X: J1 12, J2 10 → mean 11, z-mean over J2 only −1; Y: J1 12, J2 20 → mean 16, z-mean +1.
		// Mapping [−1, 1] → [11, 16]: X 11, Y 16; blended with J1's raw 12:
		// X (11 + 12)/2 = 11.5, Y (16 + 12)/2 = 14.
		reviews := []Assignment{sub("J1", "X", 6, 0), sub("J1", "Y", 6, 0), sub("J2", "X", 5, 0), sub("J2", "Y", 10, 0)}
		m := byEntry(Rank(rankCriteria(), ents("X", "Y"), reviews, RankZScore, RankSettings{MinJudgeScores: 2}, nil, false))
		if !near(m["X"].ZScore, 11.5) || !near(m["Y"].ZScore, 14) || m["X"].ZRawJudges != 1 {
			t.Errorf("X %v (zraw %d), Y %v", m["X"].ZScore, m["X"].ZRawJudges, m["Y"].ZScore)
		}
	})
	t.Run("all z-means equal: the raw mean", func(t *testing.T) {
		// J1 4, 8 on X, Y; J2 8, 4: z-means X (−1 + 1)/2 = 0 = Y. Means 6 and 6.
		reviews := []Assignment{sub("J1", "X", 2, 0), sub("J1", "Y", 4, 0), sub("J2", "X", 4, 0), sub("J2", "Y", 2, 0)}
		for _, r := range Rank(rankCriteria(), ents("X", "Y"), reviews, RankZScore, RankSettings{MinJudgeScores: 2}, nil, false) {
			if r.ZScore != r.Mean || r.Mean != 6 {
				t.Errorf("%s: zscore %v mean %v", r.EntryID, r.ZScore, r.Mean)
			}
		}
	})
	t.Run("reviews of unlisted entries count in the judge's statistics", func(t *testing.T) {
		// Rows only for E1, E2; J1–J3 still normalised over all 4 of their scores,
		// so the z-means are −9/45 and 43/45, mapped onto [17, 55/3]: E1 17, E2 55/3.
		m := byEntry(Rank(rankCriteria(), ents("E1", "E2"), panel(), RankZScore, RankSettings{MinJudgeScores: 4}, nil, false))
		if len(m) != 2 || !near(m["E1"].ZScore, 17) || !near(m["E2"].ZScore, 55.0/3) || m["E1"].ZRawJudges != 0 {
			t.Errorf("rows %v", m)
		}
	})
}

func TestRankTrimmed(t *testing.T) {
	// One criterion of weight 1. F has 5 judges: totals 2, 6, 7, 8, 20.
	//   mean 43/5 = 8.6; trimmed drops 2 and 20: (6+7+8)/3 = 7; median 7; range 18;
	//   deviations −6.6, −2.6, −1.6, −0.6, 11.4: σ² = (43.56+6.76+2.56+0.36+129.96)/5 = 36.64.
	// G has 4 judges: 9, 9, 9, 1: mean 7, trimmed (4 < 5 judges) = mean; median 9.
	// Trimmed ranks F (7) level with G (7): the tie-break "median" puts G (9) first.
	crit := []Criterion{{Key: "a", Max: 20, Weight: 1}}
	s := func(j, e string, v int) Assignment {
		return Assignment{EntryID: e, JudgeID: j, Status: AssignSubmitted, Scores: map[string]int{"a": v}}
	}
	reviews := []Assignment{s("J1", "F", 2), s("J2", "F", 6), s("J3", "F", 7), s("J4", "F", 8), s("J5", "F", 20),
		s("J1", "G", 9), s("J2", "G", 9), s("J3", "G", 9), s("J4", "G", 1)}
	rows := Rank(crit, ents("F", "G"), reviews, RankTrimmed, RankSettings{}, []TieBreak{{Kind: TieMedian}}, false)
	m := byEntry(rows)
	f, g := m["F"], m["G"]
	if !near(f.Mean, 8.6) || !near(f.Trimmed, 7) || !f.TrimmedUsed || !near(f.Median, 7) || !near(f.Range, 18) ||
		!near(f.StdDev, math.Sqrt(36.64)) || f.Judges != 5 {
		t.Errorf("F: %+v", f)
	}
	if !near(g.Trimmed, 7) || g.TrimmedUsed || !near(g.Median, 9) {
		t.Errorf("G: %+v", g)
	}
	if got := order(rows); !slices.Equal(got, []string{"G", "F"}) {
		t.Errorf("order %v", got)
	}
	// With TrimmedMinJudges 3, G is trimmed too: drop 1 and one 9: 9.
	g = byEntry(Rank(crit, ents("F", "G"), reviews, RankTrimmed, RankSettings{TrimmedMinJudges: 3}, nil, false))["G"]
	if !g.TrimmedUsed || !near(g.Trimmed, 9) {
		t.Errorf("G with 3: %+v", g)
	}
}

func TestRankRecusalsAndMissing(t *testing.T) {
	// E1: J1 submitted 12 (6,0), J2 submitted 20 (10,0), J3 conflict (its old draft scores ignore),
	//     J4 pending, J5 draft with scores → Judges 2, Missing 2, mean 16.
	// E2: J3 conflict only → no scores at all: zeros, few_judges, ranked last.
	reviews := []Assignment{
		sub("J1", "E1", 6, 0), sub("J2", "E1", 10, 0),
		rev("J3", "E1", AssignConflict, 0, 0), rev("J4", "E1", AssignPending, 0, 0), rev("J5", "E1", AssignDraft, 10, 10),
		rev("J3", "E2", AssignConflict, 10, 10),
	}
	rows := Rank(rankCriteria(), ents("E2", "E1"), reviews, RankMean, RankSettings{}, nil, false)
	m := byEntry(rows)
	e1, e2 := m["E1"], m["E2"]
	if e1.Judges != 2 || e1.Missing != 2 || e1.Mean != 16 || e1.Median != 16 || e1.Range != 8 || e1.StdDev != 4 {
		t.Errorf("E1: %+v", e1)
	}
	if !e1.ZeroCriterion {
		t.Error("E1: b was scored 0 by both judges")
	}
	if e2.Judges != 0 || e2.Missing != 0 || e2.Score != 0 || e2.Mean != 0 || e2.ZScore != 0 || e2.Rank != 2 ||
		!slices.Equal(e2.Flags, []string{FlagFewJudges}) || e2.ZeroCriterion || e2.CriterionMeans["a"] != 0 {
		t.Errorf("E2: %+v", e2)
	}
	if got := order(rows); !slices.Equal(got, []string{"E1", "E2"}) {
		t.Errorf("order %v", got)
	}
}

func TestRankEmptyRankedLast(t *testing.T) {
	// Z is judged but scored 0 everywhere; N has no review at all. Both score 0: Z still goes first.
	reviews := []Assignment{sub("J1", "Z", 0, 0)}
	rows := Rank(rankCriteria(), ents("A", "N", "Z"), reviews, RankMean, RankSettings{}, nil, false)
	if got := order(rows); !slices.Equal(got, []string{"Z", "A", "N"}) {
		t.Fatalf("order %v", got)
	}
	for _, r := range rows[1:] {
		if slices.Contains(r.Flags, FlagTieUnresolved) {
			t.Errorf("%s: unjudged entries are not flagged as ties: %v", r.EntryID, r.Flags)
		}
	}
}

func TestRankFlags(t *testing.T) {
	// D: 2a+b totals 30 and 0 → σ 15 > 10: disagreement. S: 10 and 12 → σ 1. L: one judge → few_judges.
	reviews := []Assignment{sub("J1", "D", 10, 10), sub("J2", "D", 0, 0), sub("J1", "S", 5, 0), sub("J2", "S", 6, 0), sub("J1", "L", 1, 1)}
	m := byEntry(Rank(rankCriteria(), ents("D", "S", "L"), reviews, RankMean, RankSettings{DisagreementStdDev: 10, MinJudgeScores: 1}, nil, false))
	if !slices.Equal(m["D"].Flags, []string{FlagDisagreement}) || len(m["S"].Flags) != 0 || !slices.Equal(m["L"].Flags, []string{FlagFewJudges}) {
		t.Errorf("flags D %v, S %v, L %v", m["D"].Flags, m["S"].Flags, m["L"].Flags)
	}
	// Threshold 0: never.
	m = byEntry(Rank(rankCriteria(), ents("D"), reviews, RankMean, RankSettings{MinJudgeScores: 1}, nil, false))
	if slices.Contains(m["D"].Flags, FlagDisagreement) {
		t.Errorf("threshold 0 flagged %v", m["D"].Flags)
	}
}

func TestRankTieBreaks(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }
	// Every pair has the same mean, 15 (totals 2a + b).
	//   P: totals 10 (5,0), 15 (5,5), 20 (10,0) → median 15, a mean 20/3, b mean 5/3
	//   Q: totals 14 (7,0), 14 (7,0), 17 (7,3) → median 14, a mean 7,    b mean 1
	// So criterion a puts Q first, criterion b and the median put P first.
	pq := []Assignment{sub("J1", "P", 5, 0), sub("J2", "P", 5, 5), sub("J3", "P", 10, 0),
		sub("J1", "Q", 7, 0), sub("J2", "Q", 7, 0), sub("J3", "Q", 7, 3)}
	//   R, S: identical totals 10 and 20 (mean 15, median 15, same criterion means);
	//   R submitted on the 5th, S on the 3rd.
	rs := []Assignment{sub("J1", "R", 5, 0), sub("J2", "R", 10, 0), sub("J1", "S", 5, 0), sub("J2", "S", 10, 0)}
	//   U, V for the zscore tie-break (MinJudgeScores 2): J1 gives U 10, V 20 (μ 15, σ 5, z −1, +1);
	//   J2 gives U 20, V 10, W 30 (μ 20, σ √(200/3), z 0, −1.2247, +1.2247).
	//   Means U 15 = V 15; z-means U (−1 + 0)/2 = −0.5, V (1 − 1.2247)/2 ≈ −0.11: V first.
	uv := []Assignment{sub("J1", "U", 5, 0), sub("J1", "V", 10, 0), sub("J2", "U", 10, 0), sub("J2", "V", 5, 0), sub("J2", "W", 10, 10)}
	entries := []RankEntry{{ID: "P"}, {ID: "Q"}, {ID: "R", SubmittedAt: day(5)}, {ID: "S", SubmittedAt: day(3)}, {ID: "U"}, {ID: "V"}, {ID: "W"}}
	cases := []struct {
		name    string
		ids     []string
		reviews []Assignment
		method  RankMethod
		tie     []TieBreak
		want    []string
		tied    bool // the order was decided by entry id
	}{
		{"none: entry id", []string{"Q", "P"}, pq, RankMean, nil, []string{"P", "Q"}, true},
		{"criterion a", []string{"P", "Q"}, pq, RankMean, []TieBreak{{Kind: TieCriterion, Criterion: "a"}}, []string{"Q", "P"}, false},
		{"criterion b", []string{"P", "Q"}, pq, RankMean, []TieBreak{{Kind: TieCriterion, Criterion: "b"}}, []string{"P", "Q"}, false},
		{"median", []string{"Q", "P"}, pq, RankMean, []TieBreak{{Kind: TieMedian}}, []string{"P", "Q"}, false},
		{"order matters: criterion a before median", []string{"P", "Q"}, pq, RankMean,
			[]TieBreak{{Kind: TieCriterion, Criterion: "a"}, {Kind: TieMedian}}, []string{"Q", "P"}, false},
		{"order matters: median before criterion a", []string{"P", "Q"}, pq, RankMean,
			[]TieBreak{{Kind: TieMedian}, {Kind: TieCriterion, Criterion: "a"}}, []string{"P", "Q"}, false},
		{"unknown criterion and kind are no-ops, next decides", []string{"P", "Q"}, pq, RankMean,
			[]TieBreak{{Kind: TieCriterion, Criterion: "zzz"}, {Kind: "coin"}, {Kind: TieCriterion, Criterion: "a"}}, []string{"Q", "P"}, false},
		{"earliest", []string{"R", "S"}, rs, RankMean, []TieBreak{{Kind: TieEarliest}}, []string{"S", "R"}, false},
		{"median and mean tie, then earliest", []string{"R", "S"}, rs, RankMean,
			[]TieBreak{{Kind: TieMedian}, {Kind: TieMean}, {Kind: TieCriterion, Criterion: "a"}, {Kind: TieZScore}, {Kind: TieEarliest}}, []string{"S", "R"}, false},
		{"all tie-breaks tie: entry id", []string{"S", "R"}, rs, RankMean,
			[]TieBreak{{Kind: TieMedian}, {Kind: TieMean}, {Kind: TieZScore}}, []string{"R", "S"}, true},
		// W (mean 30, z 1.2247) is listed too: with U and V alone the raw means span nothing
		// (15 to 15) and both z-means map onto 15.
		{"zscore", []string{"U", "V", "W"}, uv, RankMean, []TieBreak{{Kind: TieZScore}}, []string{"W", "V", "U"}, false},
		{"mean under the median method", []string{"P", "Q"}, []Assignment{
			// P 10, 20, 21 (median 20, mean 17); Q 20, 20, 2 (median 20, mean 14)
			sub("J1", "P", 5, 0), sub("J2", "P", 10, 0), sub("J3", "P", 10, 1),
			sub("J1", "Q", 10, 0), sub("J2", "Q", 10, 0), sub("J3", "Q", 1, 0)},
			RankMedian, []TieBreak{{Kind: TieMean}}, []string{"P", "Q"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var es []RankEntry
			for _, e := range entries {
				if slices.Contains(c.ids, e.ID) {
					es = append(es, e)
				}
			}
			rows := Rank(rankCriteria(), es, c.reviews, c.method, RankSettings{MinJudgeScores: 2}, c.tie, false)
			if got := order(rows); !slices.Equal(got, c.want) {
				t.Fatalf("order %v, want %v", got, c.want)
			}
			if rows[0].Rank != 1 || rows[1].Rank != 2 {
				t.Errorf("ranks %d, %d", rows[0].Rank, rows[1].Rank)
			}
			for _, r := range rows {
				if slices.Contains(r.Flags, FlagTieUnresolved) != c.tied {
					t.Errorf("%s flags %v, tied %v", r.EntryID, r.Flags, c.tied)
				}
			}
		})
	}
}

func TestRankPerTrack(t *testing.T) {
	entries := []RankEntry{{ID: "E1", Track: "project"}, {ID: "E2", Track: "idea"}, {ID: "E3", Track: "project"}, {ID: "E4", Track: "idea"}}
	// Means: E1 17, E2 55/3, E3 47/3, E4 13.
	rows := Rank(rankCriteria(), entries, panel(), RankMean, RankSettings{}, nil, true)
	type line struct {
		ID, Track string
		Rank      int
	}
	var got []line
	for _, r := range rows {
		got = append(got, line{r.EntryID, r.Track, r.Rank})
	}
	want := []line{{"E2", "idea", 1}, {"E4", "idea", 2}, {"E1", "project", 1}, {"E3", "project", 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	rows = Rank(rankCriteria(), entries, panel(), RankMean, RankSettings{}, nil, false)
	if got := order(rows); !slices.Equal(got, []string{"E2", "E1", "E3", "E4"}) || rows[3].Rank != 4 {
		t.Fatalf("whole round: %v", got)
	}
}

func TestRankDuplicateEntryIgnored(t *testing.T) {
	es := []RankEntry{{ID: "E1", Title: "first"}, {ID: "E1", Title: "second"}}
	rows := Rank(rankCriteria(), es, panel(), RankMean, RankSettings{}, nil, false)
	if len(rows) != 1 || rows[0].Title != "first" || rows[0].Judges != 3 {
		t.Fatalf("rows %+v", rows)
	}
}

// randomRound builds a round of nEntries over two tracks with nJudges,
// k judges per entry, random statuses and scores.
func randomRound(rng *rand.Rand, nEntries, nJudges, k int) ([]Criterion, []RankEntry, []Assignment) {
	crit := DefaultRubric()
	crit[0].Weight = 1.5
	crit[3].Weight = 0.7
	entries := make([]RankEntry, nEntries)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var reviews []Assignment
	statuses := []AssignmentStatus{AssignSubmitted, AssignSubmitted, AssignSubmitted, AssignSubmitted, AssignSubmitted,
		AssignConflict, AssignPending, AssignDraft}
	for i := range entries {
		id := fmt.Sprintf("e%04d", i)
		entries[i] = RankEntry{ID: id, Title: "t" + id, Track: []string{"idea", "project"}[rng.IntN(2)]}
		if rng.IntN(4) > 0 {
			entries[i].SubmittedAt = base.Add(time.Duration(rng.IntN(3)) * time.Hour)
		}
		start := rng.IntN(nJudges)
		for j := range k {
			a := Assignment{EntryID: id, JudgeID: fmt.Sprintf("j%02d", (start+j)%nJudges), Status: statuses[rng.IntN(len(statuses))]}
			a.Scores = map[string]int{}
			for _, c := range crit {
				// coarse scores so that ties happen
				a.Scores[c.Key] = rng.IntN(c.Max/5+1) * 5
			}
			reviews = append(reviews, a)
		}
	}
	return crit, entries, reviews
}

func finite(rows []RankRow) error {
	for _, r := range rows {
		for _, v := range []float64{r.Score, r.Mean, r.Median, r.ZScore, r.Trimmed, r.StdDev, r.Range} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: non-finite value in %+v", r.EntryID, r)
			}
		}
		for _, v := range r.CriterionMeans {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: non-finite criterion mean", r.EntryID)
			}
		}
	}
	return nil
}

func TestRankProperties(t *testing.T) {
	methods := []RankMethod{RankMean, RankMedian, RankZScore, RankTrimmed}
	tie := []TieBreak{{Kind: TieCriterion, Criterion: "novelty"}, {Kind: TieMedian}, {Kind: TieEarliest}}
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		crit, entries, reviews := randomRound(rng, 5+rng.IntN(40), 3+rng.IntN(8), 1+rng.IntN(6))
		for _, method := range methods {
			for _, perTrack := range []bool{false, true} {
				name := fmt.Sprintf("seed%d/%s/perTrack=%v", seed, method, perTrack)
				set := RankSettings{MinJudgeScores: 3, DisagreementStdDev: 8}
				rows := Rank(crit, entries, reviews, method, set, tie, perTrack)
				if len(rows) != len(entries) {
					t.Fatalf("%s: %d rows for %d entries", name, len(rows), len(entries))
				}
				if err := finite(rows); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				// Ranks are 1..n per scope, in row order; scopes are contiguous and sorted.
				scopeOf := func(r RankRow) string {
					if perTrack {
						return r.Track
					}
					return ""
				}
				next := map[string]int{}
				for i, r := range rows {
					s := scopeOf(r)
					if i > 0 && scopeOf(rows[i-1]) > s {
						t.Fatalf("%s: scopes out of order at %d", name, i)
					}
					next[s]++
					if r.Rank != next[s] {
						t.Fatalf("%s: %s has rank %d, want %d", name, r.EntryID, r.Rank, next[s])
					}
					if r.Score != methodScore(&r, method) {
						t.Fatalf("%s: %s score %v is not the %s field", name, r.EntryID, r.Score, method)
					}
					if i > 0 && scopeOf(rows[i-1]) == s {
						p := rows[i-1]
						if p.Judges == 0 && r.Judges > 0 {
							t.Fatalf("%s: unjudged %s above judged %s", name, p.EntryID, r.EntryID)
						}
						if p.Judges > 0 && r.Judges > 0 && cmpScore(p.Score, r.Score) > 0 {
							t.Fatalf("%s: %s (%v) above %s (%v)", name, p.EntryID, p.Score, r.EntryID, r.Score)
						}
					}
					if r.Judges > 0 {
						lo, hi := r.Mean-r.Range, r.Mean+r.Range
						if r.Median < lo-tol || r.Median > hi+tol || r.Trimmed < lo-tol || r.Trimmed > hi+tol {
							t.Fatalf("%s: %s statistics out of range %+v", name, r.EntryID, r)
						}
					}
				}
				// Shuffling the inputs changes nothing.
				for range 3 {
					es := slices.Clone(entries)
					rs := slices.Clone(reviews)
					rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
					rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
					if again := Rank(crit, es, rs, method, set, tie, perTrack); !reflect.DeepEqual(again, rows) {
						t.Fatalf("%s: shuffled input gives a different ranking", name)
					}
				}
			}
		}
		// Judges + Missing + conflicts = assignments of each entry.
		rows := Rank(crit, entries, reviews, RankMean, RankSettings{}, nil, false)
		conflicts := map[string]int{}
		assigned := map[string]int{}
		for _, a := range reviews {
			assigned[a.EntryID]++
			if a.Status == AssignConflict {
				conflicts[a.EntryID]++
			}
		}
		for _, r := range rows {
			if r.Judges+r.Missing+conflicts[r.EntryID] != assigned[r.EntryID] {
				t.Fatalf("seed %d: %s judges %d + missing %d + conflicts %d ≠ %d", seed, r.EntryID, r.Judges, r.Missing, conflicts[r.EntryID], assigned[r.EntryID])
			}
		}
	}
}

func TestRankEmptyInputs(t *testing.T) {
	if rows := Rank(nil, nil, nil, RankZScore, RankSettings{}, nil, true); len(rows) != 0 {
		t.Fatalf("rows %v", rows)
	}
	rows := Rank(nil, ents("A", "B"), []Assignment{sub("J1", "A", 3, 3)}, RankZScore, RankSettings{}, nil, false)
	if err := finite(rows); err != nil || rows[0].Judges != 1 || rows[0].Score != 0 {
		t.Fatalf("no criteria: %+v (%v)", rows, err)
	}
}

// BenchmarkRank10000: 2,000 entries × 5 judges out of 40 = 10,000 submitted reviews.
func BenchmarkRank10000(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	crit := DefaultRubric()
	entries := make([]RankEntry, 2000)
	reviews := make([]Assignment, 0, 10000)
	for i := range entries {
		id := fmt.Sprintf("e%04d", i)
		entries[i] = RankEntry{ID: id, Track: []string{"idea", "project"}[i%2]}
		for j := range 5 {
			a := Assignment{EntryID: id, JudgeID: fmt.Sprintf("j%02d", (i*5+j)%40), Status: AssignSubmitted, Scores: map[string]int{}}
			for _, c := range crit {
				a.Scores[c.Key] = rng.IntN(c.Max + 1)
			}
			reviews = append(reviews, a)
		}
	}
	tie := []TieBreak{{Kind: TieCriterion, Criterion: "novelty"}, {Kind: TieMedian}, {Kind: TieEarliest}}
	b.ReportAllocs()
	for b.Loop() {
		Rank(crit, entries, reviews, RankZScore, RankSettings{DisagreementStdDev: 10}, tie, true)
	}
}
