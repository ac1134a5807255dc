package uploads

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxFilenameBytes is the longest name CleanFilename returns, in bytes.
const MaxFilenameBytes = 120

// maxExtBytes is the longest suffix treated as an extension worth keeping
// when a name is shortened; longer "extensions" are just part of the name.
const maxExtBytes = 16

// CleanFilename turns a client-supplied file name into one that is safe to
// keep as metadata and to put in a Content-Disposition header. The name is
// never used as a storage key (keys are server-made); this only keeps a
// stored name from lying to, or tripping up, whoever later downloads it.
//
// It keeps only the last path element (splitting on '/' and '\', and
// dropping a Windows drive prefix); drops control characters (C0, DEL, C1),
// format characters (which include the bidi overrides, isolates and marks
// and the zero-width characters), line and paragraph separators and
// private-use code points; replaces invalid UTF-8 and the characters
// Windows forbids in names (<>:"|?*) with '_'; turns other spaces into
// ASCII spaces and collapses runs of them; NFC-normalises so that
// Vietnamese typed on different systems compares and displays alike;
// removes leading dots and spaces (no hidden files, no "..") and trailing
// dots and spaces (Windows drops them, which can change the extension); and
// caps the result at MaxFilenameBytes without splitting a character,
// keeping the extension. An empty result becomes "deck".
func CleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")

	// Keep only the last path element. Fullwidth solidus and reverse
	// solidus count as separators: NFKC (applied by some downstream
	// systems) turns them into real ones.
	if i := strings.LastIndexAny(name, "/\\\uFF0F\uFF3C"); i >= 0 {
		_, size := utf8.DecodeRuneInString(name[i:])
		name = name[i+size:]
	}
	if len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]) {
		name = name[2:] // "C:deck.pdf", drive-relative
	}

	name = strings.Map(cleanRune, name)
	name = collapseSpaces(name)
	name = norm.NFC.String(name)
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	name = truncateName(name, MaxFilenameBytes)
	if name == "" {
		return "deck"
	}
	if isReservedWindowsName(name) {
		name = "_" + name
		name = truncateName(name, MaxFilenameBytes)
	}
	return name
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// cleanRune maps one rune for CleanFilename: -1 drops it.
func cleanRune(r rune) rune {
	switch {
	case strings.ContainsRune(`<>:"|?*`, r):
		return '_'
	case unicode.Is(unicode.Cc, r), // C0, DEL, C1
		unicode.Is(unicode.Cf, r), // bidi controls, ZWSP/ZWJ/ZWNJ, BOM, soft hyphen…
		unicode.Is(unicode.Co, r), // private use
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r),
		r >= 0xFFF0 && r <= 0xFFFF,                       // specials: U+FFFC object replacement, U+FFFD…
		r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE: // noncharacters
		return -1
	case unicode.Is(unicode.Zs, r):
		return ' ' // no-break and ideographic spaces look like spaces anyway
	}
	return r
}

// collapseSpaces turns runs of spaces into one, so that padding cannot
// push a second extension out of sight ("deck.pdf      .exe").
func collapseSpaces(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// truncateName shortens name to at most max bytes, keeping a short
// extension.
func truncateName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= maxExtBytes {
		stem, ext = name[:i], name[i:]
	}
	if stem = cutSegments(stem, max-len(ext)); stem == "" {
		stem = "deck"
	}
	return stem + ext
}

// cutSegments returns the longest prefix of s of at most budget bytes that
// ends between NFC segments, so that neither a UTF-8 sequence nor a letter
// and its combining accents are split, without trailing dots or spaces.
func cutSegments(s string, budget int) string {
	var it norm.Iter
	it.InitString(norm.NFC, s)
	var b strings.Builder
	for !it.Done() {
		seg := it.Next()
		if b.Len()+len(seg) > budget {
			break
		}
		b.Write(seg)
	}
	return strings.TrimRight(b.String(), ". ")
}

// isReservedWindowsName reports names that Windows maps to devices
// whatever their extension ("nul.pdf" opens NUL).
func isReservedWindowsName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	switch strings.ToUpper(strings.TrimRight(stem, " ")) {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}

// NameForKind returns CleanFilename(name) with the extension of the
// detected kind, so a download's name never contradicts its content: a PDF
// uploaded as "deck.exe" is offered as "deck.exe.pdf", and "Deck.PDF" stays
// as it is.
func NameForKind(name string, k Kind) string {
	name = CleanFilename(name)
	ext := ExtensionFor(k)
	if ext == "" || strings.HasSuffix(strings.ToLower(name), ext) {
		return name
	}
	return truncateName(name+ext, MaxFilenameBytes)
}
