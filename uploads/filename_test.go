package uploads

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestCleanFilename(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "deck.pdf", "deck.pdf"},
		{"path traversal", "../../etc/passwd", "passwd"},
		{"windows path", `C:\x\deck.pdf`, "deck.pdf"},
		{"drive relative", "C:deck.pdf", "deck.pdf"},
		{"unc path", `\\server\share\deck.pptx`, "deck.pptx"},
		{"trailing separator", "decks/", "deck"},
		{"fullwidth solidus", "evil\uFF0F..\uFF0Fdeck.pdf", "deck.pdf"},
		{"bidi override", "deck\u202Efdp.exe", "deckfdp.exe"},
		{"bidi isolates and marks", "\u2066a\u2069\u200Eb\u200Fc\u061Cd.pdf", "abcd.pdf"},
		{"zero width", "de\u200Bck\u200D\uFEFF.pdf", "deck.pdf"},
		{"NUL", "deck.pdf\x00.exe", "deck.pdf.exe"},
		{"C0 and DEL", "a\x01b\x1fc\x7f.pdf", "abc.pdf"},
		{"C1", "a\u0085b\u009bc.pdf", "abc.pdf"},
		{"header injection", "deck.pdf\r\nSet-Cookie: x=1", "deck.pdfSet-Cookie_ x=1"},
		{"windows-forbidden", `a"b<c>d|e?f*g.pdf`, "a_b_c_d_e_f_g.pdf"},
		{"ADS", "deck.pdf:evil.exe", "deck.pdf_evil.exe"},
		{"leading dots", "...hidden.pdf", "hidden.pdf"},
		{"dot dot", "..", "deck"},
		{"trailing dots and spaces", "deck.pdf. . ", "deck.pdf"},
		{"empty", "", "deck"},
		{"only invisible", "\u202E\u200B\x00", "deck"},
		{"invalid utf8", "\xffdeck\xfe.pdf", "_deck_.pdf"},
		{"space padding", "deck.pdf" + strings.Repeat(" ", 60) + ".exe", "deck.pdf .exe"},
		{"nbsp", "Kế\u00A0hoạch.pdf", "Kế hoạch.pdf"},
		{"vietnamese nfd to nfc", "Ke\u0302\u0301 hoa\u0323ch go\u0323i vo\u0302\u0301n.pptx", "Kế hoạch gọi vốn.pptx"},
		{"vietnamese kept", "Kế hoạch gọi vốn – Sprout 2026.pptx", "Kế hoạch gọi vốn – Sprout 2026.pptx"},
		{"reserved device", "nul.pdf", "_nul.pdf"},
		{"reserved device upper", "COM1", "_COM1"},
		{"not reserved", "console.pdf", "console.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanFilename(tt.in); got != tt.want {
				t.Errorf("CleanFilename(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanFilenameLength(t *testing.T) {
	vi := "Kế hoạch gọi vốn của đội Sprout ở Đà Nẵng "
	tests := []struct {
		name, in, ext string
	}{
		{"long vietnamese nfc", strings.Repeat(vi, 20)[:500] + ".pptx", ".pptx"},
		{"long vietnamese nfd", norm.NFD.String(strings.Repeat(vi, 20)) + ".pdf", ".pdf"},
		{"long without extension", strings.Repeat("ệ", 300), ""},
		{"long extension is not kept", "a." + strings.Repeat("x", 300), ""},
		{"dots before the cut", strings.Repeat("a", 110) + ".........." + strings.Repeat("b", 50) + ".pdf", ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanFilename(tt.in)
			if len(got) > MaxFilenameBytes || len(got) < MaxFilenameBytes/2 {
				t.Errorf("len = %d, want about %d: %q", len(got), MaxFilenameBytes, got)
			}
			if !utf8.ValidString(got) || !norm.NFC.IsNormalString(got) {
				t.Errorf("not valid NFC UTF-8: %q", got)
			}
			if !strings.HasSuffix(got, tt.ext) {
				t.Errorf("%q lost its extension %q", got, tt.ext)
			}
			// The cut falls between letters: what is kept is a prefix
			// of the normalised input, accents and all.
			stem := strings.TrimSuffix(got, tt.ext)
			if !strings.HasPrefix(norm.NFC.String(tt.in), stem) {
				t.Errorf("%q is not a prefix of the input", stem)
			}
			if strings.HasSuffix(stem, ".") || strings.HasSuffix(stem, " ") {
				t.Errorf("stem ends in a dot or space: %q", stem)
			}
		})
	}
}

func TestNameForKind(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		want string
	}{
		{"deck.pdf", KindPDF, "deck.pdf"},
		{"Deck.PDF", KindPDF, "Deck.PDF"},
		{"deck.exe", KindPDF, "deck.exe.pdf"},
		{"deck", KindPPTX, "deck.pptx"},
		{"", KindPPTX, "deck.pptx"},
		{"deck.pptm", KindPPTX, "deck.pptm.pptx"},
		{"deck.bin", KindZIP, "deck.bin"},
		{strings.Repeat("ố", 100) + ".exe", KindPDF, strings.Repeat("ố", 38) + ".e.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := NameForKind(tt.in, tt.kind)
			if got != tt.want {
				t.Errorf("NameForKind(%q, %v) = %q, want %q", tt.in, tt.kind, got, tt.want)
			}
			if len(got) > MaxFilenameBytes {
				t.Errorf("len = %d > %d", len(got), MaxFilenameBytes)
			}
		})
	}
}

// FuzzCleanFilename checks the promises CleanFilename makes about any input.
func FuzzCleanFilename(f *testing.F) {
	for _, seed := range []string{"deck.pdf", "../../etc/passwd", `C:\x\deck.pdf`, "deck\u202Efdp.exe", "Ke\u0302\u0301 hoa\u0323ch.pptx", ".."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := CleanFilename(in)
		switch {
		case got == "":
			t.Fatal("empty result")
		case len(got) > MaxFilenameBytes:
			t.Fatalf("len %d > %d: %q", len(got), MaxFilenameBytes, got)
		case !utf8.ValidString(got):
			t.Fatalf("invalid UTF-8: %q", got)
		case !norm.NFC.IsNormalString(got):
			t.Fatalf("not NFC: %q", got)
		case strings.ContainsAny(got, `/\`):
			t.Fatalf("path separator: %q", got)
		case got[0] == '.' || got[len(got)-1] == '.' || got[len(got)-1] == ' ':
			t.Fatalf("leading dot or trailing dot/space: %q", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("control, format or bidi character %U in %q", r, got)
			}
		}
		if again := CleanFilename(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}
