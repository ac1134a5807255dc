package views

import (
	"sort"

	"github.com/sprout-vn/sprout/models"
)

// NavItem is one link in the navigation bar.
type NavItem struct {
	Href   string
	Key    string // translation key of the label
	Active bool
}

// Data is what every page template receives: the signed-in user, the
// language, the CSRF token, a flash message and the page's own values.
type Data struct {
	Lang      string
	Tr        *Translator
	User      *models.User
	CSRF      string
	Flash     string // translation key
	TitleKey  string
	Path      string
	Nav       []NavItem
	RequestID string
	Errors    map[string]string // field → translated message
	Form      map[string]string // values to re-fill a form
	Page      any
}

// T translates key in the page's language (see Translator.T).
func (d *Data) T(key string, args ...any) string { return d.Tr.T(key, args...) }

// Err returns the translated error for a form field, or "".
func (d *Data) Err(field string) string { return d.Errors[field] }

// FieldError is one line of a form's error summary.
type FieldError struct{ Field, Message string }

// errorOrder puts eligibility first, then the fields in the order the
// entry form shows them; other fields follow in name order.
var errorOrder = []string{"leader", "team", "deck", "founded_year", "consent", "email", "password", "current", "new", "name",
	"title", "track", "sector", "stage", "summary", "problem", "solution", "customers", "market", "advantage",
	"business_model", "technology", "plan", "funding_need", "impact", "commune"}

// ErrorList returns the page's field errors in a stable, useful order
// (a map has none), for summaries that link to each field.
func (d *Data) ErrorList() []FieldError {
	out := make([]FieldError, 0, len(d.Errors))
	done := map[string]bool{}
	for _, f := range errorOrder {
		if m, ok := d.Errors[f]; ok {
			out = append(out, FieldError{f, m})
			done[f] = true
		}
	}
	var rest []string
	for f := range d.Errors {
		if !done[f] {
			rest = append(rest, f)
		}
	}
	sort.Strings(rest)
	for _, f := range rest {
		out = append(out, FieldError{f, d.Errors[f]})
	}
	return out
}

// Val returns the submitted value of a form field, or "".
func (d *Data) Val(field string) string { return d.Form[field] }

// NavFor builds the navigation for u (nil = signed out), marking path active.
func NavFor(u *models.User, path string) []NavItem {
	items := []NavItem{{Href: "/", Key: "nav.home"}}
	if u != nil {
		items = append(items, NavItem{Href: "/account", Key: "nav.account"})
		if u.HasRole(models.RoleJudge) {
			items = append(items, NavItem{Href: "/judge", Key: "nav.judge"})
		}
		if u.HasRole(models.RoleStaff, models.RoleAdmin) {
			items = append(items, NavItem{Href: "/staff", Key: "nav.staff"})
		}
		if u.HasRole(models.RoleAdmin) {
			items = append(items, NavItem{Href: "/admin/users", Key: "nav.admin"})
		}
	}
	for i := range items {
		items[i].Active = items[i].Href == path
	}
	return items
}
