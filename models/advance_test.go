package models

import (
	"slices"
	"testing"
)

func TestPropose(t *testing.T) {
	// The panel ranked by mean (MinJudgeScores 3): E2 55/3 ≈ 18.33, E1 17, E3 47/3 ≈ 15.67, E4 13;
	// E4 has a 0 on criterion a (J3). E5 has no review: rank 5, score 0.
	ranked := func(perTrack bool) []RankRow {
		es := ents("E1", "E2", "E3", "E4", "E5")
		es[0].Track, es[2].Track = "project", "project"
		return Rank(rankCriteria(), es, panel(), RankMean, RankSettings{MinJudgeScores: 3}, nil, perTrack)
	}
	proposed := func(rows []RankRow) map[string]string {
		m := map[string]string{}
		for _, r := range rows {
			m[r.EntryID] = r.Proposed
		}
		return m
	}
	A, E := ProposeAdvance, ProposeEliminate
	cases := []struct {
		name     string
		perTrack bool
		rule     AdvanceRule
		want     map[string]string // E1, E2, E3, E4, E5
	}{
		{"no limit: every judged entry, never the unjudged", false, AdvanceRule{},
			map[string]string{"E1": A, "E2": A, "E3": A, "E4": A, "E5": E}},
		{"top 2", false, AdvanceRule{TopN: 2},
			map[string]string{"E1": A, "E2": A, "E3": E, "E4": E, "E5": E}},
		{"top 10 does not lift the unjudged", false, AdvanceRule{TopN: 10},
			map[string]string{"E1": A, "E2": A, "E3": A, "E4": A, "E5": E}},
		{"min score 17 is reached by exactly 17", false, AdvanceRule{MinScore: 17},
			map[string]string{"E1": A, "E2": A, "E3": E, "E4": E, "E5": E}},
		{"min score 47/3 reached despite rounding", false, AdvanceRule{MinScore: 15.6666666666667},
			map[string]string{"E1": A, "E2": A, "E3": A, "E4": E, "E5": E}},
		{"no zero criterion", false, AdvanceRule{NoZeroCriterion: true},
			map[string]string{"E1": A, "E2": A, "E3": A, "E4": E, "E5": E}},
		{"all three: top 3 and ≥ 16 and no zero", false, AdvanceRule{TopN: 3, MinScore: 16, NoZeroCriterion: true},
			map[string]string{"E1": A, "E2": A, "E3": E, "E4": E, "E5": E}},
		// per track: idea E2 (1), E4 (2), E5 (3); project E1 (1), E3 (2)
		{"top 1 per track", true, AdvanceRule{TopN: 1},
			map[string]string{"E1": A, "E2": A, "E3": E, "E4": E, "E5": E}},
		{"top 2 per track without zeros", true, AdvanceRule{TopN: 2, NoZeroCriterion: true},
			map[string]string{"E1": A, "E2": A, "E3": A, "E4": E, "E5": E}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := ranked(c.perTrack)
			before := order(rows)
			Propose(rows, c.rule)
			got := proposed(rows)
			for id, w := range c.want {
				if got[id] != w {
					t.Errorf("%s: %q, want %q", id, got[id], w)
				}
			}
			if !slices.Equal(order(rows), before) {
				t.Error("Propose reordered the rows")
			}
		})
	}
	Propose(nil, AdvanceRule{TopN: 1}) // no rows: nothing to do, no panic
}
