// Package views holds Sprout's templates, static files and translations,
// embedded in the binary and parsed once at start-up.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

//go:embed templates static locales
var files embed.FS

// Static returns the static files (CSS, JS) for serving under /static.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Views renders pages. Each page template is parsed together with the
// layout and partials, once, so a missing or broken template stops start-up.
type Views struct {
	pages map[string]*template.Template
	I18n  *I18n
}

// New parses every template and locale.
func New() (*Views, error) {
	tr, err := newI18n(files)
	if err != nil {
		return nil, err
	}
	base := template.New("layout").Funcs(template.FuncMap{
		"localtime": func(t time.Time) string {
			return t.In(hoChiMinh).Format("02/01/2006 15:04")
		},
		"hasPrefix": strings.HasPrefix,
		"vnd":       VND,
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i + 1
			}
			return out
		},
		"list": func(s ...string) []string { return s },
		"mb":   func(n int64) int64 { return n >> 20 },
		"kb":   func(n int64) int64 { return (n + 1023) >> 10 },
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	})
	if base, err = base.ParseFS(files, "templates/layout.html", "templates/partials/*.html"); err != nil {
		return nil, fmt.Errorf("views: parse layout: %w", err)
	}
	pages, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: list pages: %w", err)
	}
	v := &Views{pages: map[string]*template.Template{}, I18n: tr}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(files, p)
		if err != nil {
			return nil, fmt.Errorf("views: parse %s: %w", p, err)
		}
		v.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return v, nil
}

// Render writes page with data. It renders into a buffer first so a
// template error never leaves half a page on the wire.
func (v *Views) Render(w io.Writer, page string, data *Data) error {
	t, ok := v.pages[page]
	if !ok {
		return fmt.Errorf("views: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("views: render %s: %w", page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Has reports whether a page template exists.
func (v *Views) Has(page string) bool { _, ok := v.pages[page]; return ok }

var hoChiMinh = mustLoadZone("Asia/Ho_Chi_Minh")

func mustLoadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// No tzdata on the host: Vietnam has no DST, a fixed zone is exact.
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// VND formats an amount of đồng the Vietnamese way: 150.000.000 ₫.
func VND(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	digits := fmt.Sprint(n)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	out := b.String() + " ₫"
	if neg {
		out = "−" + out
	}
	return out
}
