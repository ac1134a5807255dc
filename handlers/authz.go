package handlers

import (
	"fmt"

	"github.com/sprout-vn/sprout/models"
)

// Action is something a caller wants to do with an entry, a review or a
// person's data.
type Action int

// Actions, each checked by authorize.
const (
	ReadEntry        Action = iota // the full entry, with the team's names and contacts
	EditEntry                      // change it as its leader
	ReadAsJudge                    // an assignment's (blind) entry view and deck: its judge, or a lead
	ActAsJudge                     // score, declare a conflict, the judge's pages: the assignment's own judge only
	ReadReviews                    // the other judges' reviews of an assignment's entry
	LeadCouncil                    // panel, assignment, release: staff, admins and chairs
	OverrideConflict               // chairs only
	ReadPersonal                   // a person's own account data
)

// Target is what an action is about; only the fields the action needs are
// set.
type Target struct {
	Entry      *models.Entry
	Assignment *models.Assignment
	Panel      *models.Panel // with Assignment: the entry is needed too, for chairs' conflicts
	User       *models.User
}

// authorize is the one place that decides who may see or change an entry,
// a review or a person (SECURITY.md 17, 19–22, 25). Every handler that
// shows one calls it; a refusal is models.ErrNotFound, so a caller learns
// nothing about what exists (the same 404 for every method), except for
// reviews hidden until the caller has submitted their own, which are a 403
// the judge can act on.
func authorize(u *models.User, act Action, t Target) error {
	deny := fmt.Errorf("handlers: not allowed: %w", models.ErrNotFound)
	if u == nil {
		return models.ErrUnauthorized
	}
	staff := u.HasRole(models.RoleStaff, models.RoleAdmin)
	switch act {
	case ReadEntry:
		if t.Entry != nil && (t.Entry.LeaderID == u.ID || staff) {
			return nil
		}
	case EditEntry:
		if t.Entry != nil && t.Entry.LeaderID == u.ID {
			return nil
		}
	case ReadAsJudge, ReadReviews, ActAsJudge:
		a, p := t.Assignment, t.Panel
		if a == nil || p == nil || a.CompetitionID != p.ID {
			return deny
		}
		if a.JudgeID == u.ID && u.HasRole(models.RoleJudge) {
			if _, on := p.Member(u.ID); !on || !p.IsReleased(a.Round) || a.Status == models.AssignConflict {
				return deny
			}
			if act == ReadReviews && a.Status != models.AssignSubmitted {
				return fmt.Errorf("handlers: reviews before own: %w", models.ErrForbidden)
			}
			return nil
		}
		if act == ActAsJudge {
			return deny
		}
		// Council leads see every review (a chair who is conflicted on
		// the entry does not).
		if staff {
			return nil
		}
		if p.IsChair(u.ID) && u.HasRole(models.RoleJudge) && t.Entry != nil && !conflictedOn(p, u, t.Entry) {
			return nil
		}
	case LeadCouncil:
		if staff || (t.Panel != nil && t.Panel.IsChair(u.ID) && u.HasRole(models.RoleJudge)) {
			return nil
		}
	case OverrideConflict:
		if t.Panel != nil && t.Panel.IsChair(u.ID) && u.HasRole(models.RoleJudge) {
			return nil
		}
		return fmt.Errorf("handlers: only a chair overrides a conflict: %w", models.ErrForbidden)
	case ReadPersonal:
		if t.User != nil && (t.User.ID == u.ID || u.HasRole(models.RoleAdmin)) {
			return nil
		}
	}
	return deny
}

// conflictedOn reports whether u has a conflict with e: declared, or by
// leading it or being on its team.
func conflictedOn(p *models.Panel, u *models.User, e *models.Entry) bool {
	if models.ConflictsWith(e, u.ID, u.Email) {
		return true
	}
	m, ok := p.Member(u.ID)
	if !ok {
		return false
	}
	for _, id := range m.Conflicts {
		if id == e.ID {
			return true
		}
	}
	return false
}
