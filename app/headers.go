package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
)

// csp allows only our own scripts and styles; no plugins, no <base>, no
// framing (SECURITY.md 16).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders uses Fiber's helmet with the defaults it lacks filled in
// (its CSP is empty and it sends no HSTS by default).
func (a *App) securityHeaders() fiber.Handler {
	hsts := 0
	if a.cfg.Secure() {
		hsts = 31536000
	}
	h := helmet.New(helmet.Config{
		ContentSecurityPolicy:     csp,
		ReferrerPolicy:            "same-origin",
		XFrameOptions:             "DENY",
		HSTSMaxAge:                hsts,
		HSTSExcludeSubdomains:     false,
		CrossOriginEmbedderPolicy: "unsafe-none",
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
		PermissionPolicy:          "camera=(), microphone=(), geolocation=()",
	})
	secure := a.cfg.Secure()
	return func(c *fiber.Ctx) error {
		if secure {
			// Behind a TLS-terminating proxy helmet cannot see https;
			// the configured base URL says it.
			c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
		}
		// Pages and API answers may carry personal data: never cache them.
		if !strings.HasPrefix(c.Path(), "/static/") {
			c.Set(fiber.HeaderCacheControl, "no-store")
		}
		return h(c)
	}
}
