package views

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

// keyShape is what a translation key looks like: "prefix.rest".
var keyShape = regexp.MustCompile(`^[a-z]+\.[a-z0-9_.]+$`)

var templateKey = regexp.MustCompile(`"([a-z]+\.[a-z0-9_.]+)"`)

// TestLocaleKeys fails when a key used in a template or in Go code is
// missing from vi.json or en.json, or when the two files differ.
func TestLocaleKeys(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	vi, en := v.I18n.keys["vi"], v.I18n.keys["en"]
	for k := range vi {
		if !en[k] {
			t.Errorf("key %q is in vi.json but not en.json", k)
		}
	}
	for k := range en {
		if !vi[k] {
			t.Errorf("key %q is in en.json but not vi.json", k)
		}
	}
	prefixes := map[string]bool{}
	for k := range vi {
		prefixes[strings.SplitN(k, ".", 2)[0]] = true
	}
	used := map[string]string{} // key → where
	// Templates.
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Go string literals in the packages that show text.
	for _, dir := range []string{"../handlers", "../app", "../models", "."} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					if keyShape.MatchString(s) && prefixes[strings.SplitN(s, ".", 2)[0]] && !strings.HasSuffix(s, ".") {
						used[s] = path
					}
				}
				return true
			})
		}
	}
	// Keys built at run time.
	for _, r := range models.AllRoles {
		used["role."+string(r)] = "role names"
	}
	for _, st := range []models.CompetitionStatus{models.CompDraft, models.CompOpen, models.CompClosed, models.CompJudging, models.CompFinalized, models.CompPublished} {
		used["comp_status."+string(st)] = "competition states"
		if st != models.CompDraft {
			used["comp_action."+string(st)] = "competition transitions"
		}
	}
	for _, st := range models.EntryStatuses {
		used["entry_status."+string(st)] = "entry states"
	}
	for _, k := range []string{"created", "edited", "deck", "submitted", "withdrawn", "draft"} {
		used["event."+k] = "timeline events"
	}
	for _, k := range []string{"summary", "problem", "solution", "customers", "market", "advantage", "business_model", "technology", "plan", "impact"} {
		used["entry."+k] = "dossier fields"
	}
	for _, tr := range models.DefaultTracks {
		used["track."+tr] = "tracks"
	}
	for _, s := range models.DefaultSectors {
		used["sector."+s] = "sectors"
	}
	for _, s := range models.Stages {
		used["stage."+s] = "stages"
	}
	for k := range vi {
		if strings.HasPrefix(k, "error.") && len(k) == len("error.000") {
			used[k+"_text"] = "error page text"
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d used keys: the scan is broken", len(used))
	}
	for k, where := range used {
		if !vi[k] {
			t.Errorf("key %q (used in %s) missing from vi.json", k, where)
		}
		if !en[k] {
			t.Errorf("key %q (used in %s) missing from en.json", k, where)
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct{ cookie, accept, want string }{
		{"", "", "vi"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fr-FR,en;q=0.5", "en"},
		{"", "de", "vi"},
		{"vi", "en", "vi"},
		{"en", "vi", "en"},
		{"xx", "vi-VN", "vi"},
	}
	for _, c := range cases {
		if got := Match(c.cookie, c.accept); got != c.want {
			t.Errorf("Match(%q, %q) = %q, want %q", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestPlural(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	en := v.I18n.For("en")
	if got := en.T("admin.users_caption", "Count", 1); got != "1 user" {
		t.Fatalf("en one: %q", got)
	}
	if got := en.T("admin.users_caption", "Count", 3); got != "3 users" {
		t.Fatalf("en other: %q", got)
	}
	if got := v.I18n.For("vi").T("admin.users_caption", "Count", 3); got != "3 người dùng" {
		t.Fatalf("vi: %q", got)
	}
}

// TestEveryKeyWithCounts renders every key of both languages with the
// counts 0, 1 and 2: none may come out as its raw key (a Vietnamese plain
// message asked for the "one" form used to).
func TestEveryKeyWithCounts(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		tr := v.I18n.For(lang)
		for _, k := range v.I18n.Keys(lang) {
			for _, n := range []int{0, 1, 2} {
				if got := tr.T(k, "Count", n, "N", n); got == k || got == "" {
					t.Errorf("%s: %q with Count=%d renders as %q", lang, k, n, got)
				}
			}
		}
	}
}

func TestVND(t *testing.T) {
	for n, want := range map[int64]string{0: "0 ₫", 999: "999 ₫", 1000: "1.000 ₫", 150000000: "150.000.000 ₫", -25000: "−25.000 ₫"} {
		if got := VND(n); got != want {
			t.Errorf("VND(%d) = %q, want %q", n, got, want)
		}
	}
}
