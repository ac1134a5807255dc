package handlers

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// HomeStore is what the landing page needs.
type HomeStore interface {
	ListCompetitions(ctx context.Context) ([]models.Competition, error)
}

// Home shows the landing page.
type Home struct {
	Views *views.Views
	Store HomeStore
	Now   func() time.Time
}

// OpenCompetition is a competition on the home page with its time left.
type OpenCompetition struct {
	models.Competition
	DaysLeft  int
	HoursLeft int
}

// Show handles GET /: what the contest is and the competitions open now,
// with their deadline and time left.
func (h *Home) Show(c *fiber.Ctx) error {
	all, err := h.Store.ListCompetitions(Ctx(c))
	if err != nil {
		return err
	}
	now := h.Now()
	open := []OpenCompetition{}
	for _, comp := range all {
		if comp.AcceptsEntries(now) {
			left := comp.ClosesAt.Sub(now)
			open = append(open, OpenCompetition{Competition: comp, DaysLeft: int(left.Hours()) / 24, HoursLeft: int(left.Hours()) % 24})
		}
	}
	d := Page(c, h.Views, "page.home", open)
	if c.Query("signed_out") == "1" && d.User == nil {
		d.Flash = "flash.logged_out"
	}
	return Render(c, h.Views, fiber.StatusOK, "home", d)
}

// LangCookie is the cookie that remembers the chosen language.
const LangCookie = "lang"

// SetLanguage handles POST /lang: remember the language in a cookie and go
// back to the page the form was on (a local path only, never another site).
func (h *Home) SetLanguage(c *fiber.Ctx) error {
	lang := c.FormValue("lang")
	if lang != "vi" && lang != "en" {
		lang = "vi"
	}
	c.Cookie(&fiber.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		SameSite: fiber.CookieSameSiteLaxMode, HTTPOnly: true, Secure: c.Protocol() == "https"})
	return c.Redirect(localPath(c.FormValue("next")), fiber.StatusSeeOther)
}

// localPath returns p if it is a path on this site, else "/".
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return u.RequestURI()
}
