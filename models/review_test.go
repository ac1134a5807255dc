package models

import (
	"reflect"
	"testing"
)

func rubric() []Criterion {
	return []Criterion{
		{Key: "novelty", Label: Text{VI: "Tính mới", EN: "Novelty"}, Max: 20, Weight: 1},
		{Key: "market", Label: Text{VI: "Thị trường", EN: "Market"}, Max: 15, Weight: 2},
		{Key: "pitch", Max: 5}, // no label, weight 0 → 1
	}
}

type ruleLine struct{ Field, Key string }

func lines(errs RuleErrors) []ruleLine {
	out := []ruleLine{}
	for _, e := range errs {
		out = append(out, ruleLine{e.Field, e.Key})
	}
	return out
}

func TestCheckScores(t *testing.T) {
	cases := []struct {
		name   string
		scores map[string]int
		submit bool
		want   []ruleLine
	}{
		{"complete submit", map[string]int{"novelty": 20, "market": 0, "pitch": 5}, true, []ruleLine{}},
		{"empty draft", nil, false, []ruleLine{}},
		{"partial draft", map[string]int{"market": 7}, false, []ruleLine{}},
		{"partial submit", map[string]int{"market": 7}, true,
			[]ruleLine{{"scores.novelty", ScoreRequired}, {"scores.pitch", ScoreRequired}}},
		{"empty submit", map[string]int{}, true,
			[]ruleLine{{"scores.novelty", ScoreRequired}, {"scores.market", ScoreRequired}, {"scores.pitch", ScoreRequired}}},
		{"above max", map[string]int{"novelty": 21, "market": 15, "pitch": 6}, false,
			[]ruleLine{{"scores.novelty", ScoreRange}, {"scores.pitch", ScoreRange}}},
		{"negative", map[string]int{"market": -1}, true,
			[]ruleLine{{"scores.novelty", ScoreRequired}, {"scores.market", ScoreRange}, {"scores.pitch", ScoreRequired}}},
		{"unknown keys sorted after criteria", map[string]int{"zeta": 1, "alpha": 1, "novelty": 30}, false,
			[]ruleLine{{"scores.novelty", ScoreRange}, {"scores.alpha", ScoreUnknown}, {"scores.zeta", ScoreUnknown}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := lines(CheckScores(rubric(), c.scores, c.submit))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestCheckScoresArgs(t *testing.T) {
	errs := CheckScores(rubric(), map[string]int{"novelty": 99, "bogus": 1}, true)
	if len(errs) != 4 {
		t.Fatalf("got %v", errs)
	}
	want := [][]any{
		{"Criterion", "Novelty", "Max", 20},    // novelty out of range, English label
		{"Criterion", "Thị trường", "Max", 15}, // market missing, Vietnamese label
		{"Criterion", "pitch", "Max", 5},       // no label: the key
		{"Criterion", "bogus"},                 // unknown: the key, no Max
	}
	langs := []string{"en", "vi", "en", "vi"}
	for i, e := range errs {
		got := e.TemplateArgs(langs[i])
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("%s: TemplateArgs(%s) = %v, want %v", e.Field, langs[i], got, want[i])
		}
	}
	if a := (&RuleError{Field: "x", Key: "error.x"}).TemplateArgs("vi"); a != nil {
		t.Fatalf("no Args gives %v", a)
	}
}

func TestRuleErrorTemplateArgsSorted(t *testing.T) {
	e := &RuleError{Args: map[string]any{"Max": 3, "Criterion": Text{VI: "Đội ngũ"}, "A": "x"}}
	got := e.TemplateArgs("en")
	want := []any{"A", "x", "Criterion", "Đội ngũ", "Max", 3} // Text falls back to Vietnamese
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReviewTotal(t *testing.T) {
	cases := []struct {
		name   string
		scores map[string]int
		want   float64
	}{
		{"all", map[string]int{"novelty": 10, "market": 5, "pitch": 3}, 10 + 2*5 + 3},
		{"missing counts 0", map[string]int{"market": 5}, 10},
		{"unknown ignored", map[string]int{"novelty": 1, "bogus": 100}, 1},
		{"empty", nil, 0},
	}
	for _, c := range cases {
		if got := ReviewTotal(rubric(), c.scores); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	frac := []Criterion{{Key: "a", Max: 10, Weight: 0.5}, {Key: "b", Max: 10, Weight: 1.5}}
	if got := ReviewTotal(frac, map[string]int{"a": 3, "b": 2}); got != 4.5 {
		t.Errorf("fractional weights: got %v, want 4.5", got)
	}
	var sum float64
	for _, c := range DefaultRubric() {
		sum += float64(c.Max)
	}
	full := map[string]int{}
	for _, c := range DefaultRubric() {
		full[c.Key] = c.Max
	}
	if got := ReviewTotal(DefaultRubric(), full); got != 100 || sum != 100 {
		t.Errorf("default rubric full marks: got %v (Σ max %v), want 100", got, sum)
	}
}

func TestDiffScores(t *testing.T) {
	cases := []struct {
		name     string
		old, new map[string]int
		want     []ScoreChange
	}{
		{"none", map[string]int{"novelty": 1}, map[string]int{"novelty": 1}, nil},
		{"both empty", nil, nil, nil},
		{"changed, in criteria order", map[string]int{"pitch": 1, "novelty": 5, "market": 2}, map[string]int{"pitch": 4, "novelty": 6, "market": 2},
			[]ScoreChange{{"novelty", 5, 6}, {"pitch", 1, 4}}},
		{"added", nil, map[string]int{"market": 0}, []ScoreChange{{"market", 0, 0}}},
		{"cleared", map[string]int{"market": 9}, map[string]int{}, []ScoreChange{{"market", 9, 0}}},
		{"unknown ignored", map[string]int{"bogus": 1}, map[string]int{"bogus": 2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DiffScores(rubric(), c.old, c.new); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestReviewStatuses(t *testing.T) {
	if ReviewDraft != "draft" || ReviewSubmitted != "submitted" {
		t.Fatal("review status values are stored; they must not change")
	}
}
