package views

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages Sprout speaks; the first is the default.
var Languages = []string{"vi", "en"}

// I18n holds the translations. go-i18n is used for its CLDR plural rules
// (Vietnamese has one form, English two) and message templates; the files
// are flat-key JSON (listmonk's style), one per language.
type I18n struct {
	bundle *i18n.Bundle
	keys   map[string]map[string]bool // lang → keys
}

func newI18n(fsys fs.FS) (*I18n, error) {
	b := i18n.NewBundle(language.Vietnamese)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	tr := &I18n{bundle: b, keys: map[string]map[string]bool{}}
	for _, lang := range Languages {
		data, err := fs.ReadFile(fsys, "locales/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("views: read locale %s: %w", lang, err)
		}
		if _, err := b.ParseMessageFileBytes(data, lang+".json"); err != nil {
			return nil, fmt.Errorf("views: parse locale %s: %w", lang, err)
		}
		var flat map[string]json.RawMessage
		if err := json.Unmarshal(data, &flat); err != nil {
			return nil, fmt.Errorf("views: locale %s: %w", lang, err)
		}
		tr.keys[lang] = map[string]bool{}
		for k := range flat {
			tr.keys[lang][k] = true
		}
	}
	return tr, nil
}

// Keys returns the sorted keys defined for lang (for tests and tooling).
func (t *I18n) Keys(lang string) []string {
	out := make([]string, 0, len(t.keys[lang]))
	for k := range t.keys[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists in lang.
func (t *I18n) Has(lang, key string) bool { return t.keys[lang][key] }

// Translator translates into one language.
type Translator struct {
	Lang string
	loc  *i18n.Localizer
	i    *I18n
}

// For returns a translator for lang ("vi" or "en"; anything else → "vi").
func (t *I18n) For(lang string) *Translator {
	if lang != "en" {
		lang = "vi"
	}
	return &Translator{Lang: lang, loc: i18n.NewLocalizer(t.bundle, lang), i: t}
}

// T translates key. args are name/value pairs for the message template; a
// pair named "Count" also selects the plural form. A missing key shows the
// key itself, which the locale test catches before release.
func (tr *Translator) T(key string, args ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: key}
	if len(args) > 0 {
		data := map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			name := fmt.Sprint(args[i])
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := tr.loc.Localize(cfg)
	if (err != nil || s == "") && cfg.PluralCount != nil {
		// A message with one form (Vietnamese has no plural forms, so its
		// messages are plain strings) asked for a plural: go-i18n finds no
		// "one" form for a count of 1. The plain text is the answer.
		cfg.PluralCount = nil
		s, err = tr.loc.Localize(cfg)
	}
	if err != nil || s == "" {
		return key
	}
	return s
}

// Match picks the language from a cookie value or an Accept-Language header.
func Match(cookie, acceptLanguage string) string {
	if cookie == "vi" || cookie == "en" {
		return cookie
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil {
		for _, tag := range tags {
			base, _ := tag.Base()
			switch strings.ToLower(base.String()) {
			case "vi":
				return "vi"
			case "en":
				return "en"
			}
		}
	}
	return "vi"
}

// Has reports whether key exists in this translator's language.
func (tr *Translator) Has(key string) bool { return tr.i.Has(tr.Lang, key) }
