package models

// Proposals Propose writes into RankRow.Proposed.
const (
	ProposeAdvance   = "advance"
	ProposeEliminate = "eliminate"
)

// AdvanceRule is a round's advancement rule. It only proposes: the chair
// decides.
type AdvanceRule struct {
	TopN            int     `json:"top_n"`             // ranks 1..TopN of each scope (per track when ranked per track); 0 = no limit
	MinScore        float64 `json:"min_score"`         // Score must reach it (equal to six decimal places counts)
	NoZeroCriterion bool    `json:"no_zero_criterion"` // a 0 on any criterion from any judge eliminates
}

// Propose fills Proposed on rows already ranked by Rank: "advance" when
// the rank is within TopN (0 = no limit), the score reaches MinScore and,
// with NoZeroCriterion, no judge scored any criterion 0; otherwise
// "eliminate". An entry without a submitted review is never proposed to
// advance, whatever the rule: it has no score to advance on.
func Propose(rows []RankRow, rule AdvanceRule) {
	for i := range rows {
		r := &rows[i]
		ok := r.Judges > 0 &&
			(rule.TopN <= 0 || r.Rank <= rule.TopN) &&
			cmpScore(r.Score, rule.MinScore) <= 0 &&
			(!rule.NoZeroCriterion || !r.ZeroCriterion)
		r.Proposed = ProposeEliminate
		if ok {
			r.Proposed = ProposeAdvance
		}
	}
}
