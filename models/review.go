package models

import "slices"

// ReviewStatus is where a judge's review of an entry is.
type ReviewStatus string

// Review states.
const (
	ReviewDraft     ReviewStatus = "draft"
	ReviewSubmitted ReviewStatus = "submitted"
)

// Message keys of CheckScores.
const (
	ScoreRequired = "error.score_required" // submitting without this criterion's score
	ScoreRange    = "error.score_range"    // score outside 0..Max
	ScoreUnknown  = "error.score_unknown"  // key that is not a criterion of the round
)

// CheckScores validates scores against the round's criteria: every
// criterion present when submit is true (drafts may be partial), each an
// integer 0..Max, no unknown keys. Errors are RuleErrors with Field
// "scores.<criterion key>" and message keys "error.score_required",
// "error.score_range" and "error.score_unknown", in criteria order, then
// unknown keys sorted.
//
// Each error's Args has "Criterion" (the criterion's Label, a Text, or the
// key itself when the label is empty or the key is unknown) and, for
// criteria, "Max"; the caller renders them with
// tr.T(e.Key, e.TemplateArgs(tr.Lang)...).
func CheckScores(criteria []Criterion, scores map[string]int, submit bool) RuleErrors {
	var errs RuleErrors
	known := make(map[string]bool, len(criteria))
	for _, c := range criteria {
		if known[c.Key] {
			continue // a duplicated key is checked once
		}
		known[c.Key] = true
		args := map[string]any{"Criterion": criterionName(c), "Max": c.Max}
		v, ok := scores[c.Key]
		switch {
		case !ok && submit:
			errs = append(errs, &RuleError{Field: "scores." + c.Key, Key: ScoreRequired, Args: args})
		case ok && (v < 0 || v > c.Max):
			errs = append(errs, &RuleError{Field: "scores." + c.Key, Key: ScoreRange, Args: args})
		}
	}
	var unknown []string
	for k := range scores {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		errs = append(errs, &RuleError{Field: "scores." + k, Key: ScoreUnknown, Args: map[string]any{"Criterion": k}})
	}
	return errs
}

// criterionName is what a message calls the criterion.
func criterionName(c Criterion) any {
	if c.Label.VI == "" && c.Label.EN == "" {
		return c.Key
	}
	return c.Label
}

// ReviewTotal = Σ weight × score over the criteria (a criterion's Weight 0
// counts as 1). Missing scores count as 0 and keys that are not criteria
// are ignored; a criterion listed twice counts once.
func ReviewTotal(criteria []Criterion, scores map[string]int) float64 {
	total := 0.0
	seen := make(map[string]bool, len(criteria))
	for _, c := range criteria {
		if seen[c.Key] {
			continue
		}
		seen[c.Key] = true
		w := c.Weight
		if w == 0 {
			w = 1
		}
		total += w * float64(scores[c.Key])
	}
	return total
}

// ScoreChange is one line of a review's history.
type ScoreChange struct {
	Criterion string
	Old, New  int
}

// DiffScores lists changed criteria (sorted by criterion order in criteria)
// between two score maps. A criterion scored on one side only is a change
// too (so clearing a score is recorded); the missing side reads 0. Keys
// that are not criteria are ignored.
func DiffScores(criteria []Criterion, old, new map[string]int) []ScoreChange {
	var out []ScoreChange
	seen := make(map[string]bool, len(criteria))
	for _, c := range criteria {
		if seen[c.Key] {
			continue
		}
		seen[c.Key] = true
		o, hadOld := old[c.Key]
		n, hasNew := new[c.Key]
		if o != n || hadOld != hasNew {
			out = append(out, ScoreChange{Criterion: c.Key, Old: o, New: n})
		}
	}
	return out
}
