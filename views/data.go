package views

import (
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
