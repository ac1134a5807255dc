package handlers

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/views"
)

// Home shows the landing page.
type Home struct {
	Views *views.Views
}

// Show handles GET /.
func (h *Home) Show(c *fiber.Ctx) error {
	return Render(c, h.Views, fiber.StatusOK, "home", Page(c, h.Views, "page.home", nil))
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
