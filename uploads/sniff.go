package uploads

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// SniffLen is how many leading bytes Sniff looks at. Callers peek this many
// bytes (bufio.NewReaderSize(r, SniffLen).Peek(SniffLen), tolerating io.EOF
// for short files) before deciding to keep reading an upload.
const SniffLen = 1024

// Kind is what an upload's content was recognised as.
type Kind int

// Kinds. Sniff returns KindPDF or KindZIP; a KindZIP upload becomes KindPPTX
// only after InspectOOXML accepts it (Verify does both).
const (
	KindUnknown Kind = iota
	KindPDF
	KindZIP
	KindPPTX
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindPDF:
		return "pdf"
	case KindZIP:
		return "zip"
	case KindPPTX:
		return "pptx"
	}
	return "unknown"
}

// Media types and extensions of the kinds we store.
const (
	ContentTypePDF  = "application/pdf"
	ContentTypePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
)

// ExtensionFor returns the file extension, with its dot, for an accepted
// kind, and "" for any other kind (a bare ZIP is never stored as such).
func ExtensionFor(k Kind) string {
	switch k {
	case KindPDF:
		return ".pdf"
	case KindPPTX:
		return ".pptx"
	}
	return ""
}

// ContentTypeFor returns the media type to store and serve for an accepted
// kind. Anything else gets application/octet-stream so that a mistake
// downstream still never yields a type a browser would render.
func ContentTypeFor(k Kind) string {
	switch k {
	case KindPDF:
		return ContentTypePDF
	case KindPPTX:
		return ContentTypePPTX
	}
	return "application/octet-stream"
}

// Sniff decides from the first bytes of an upload (at most SniffLen are
// looked at) whether it can be a deck. It returns KindPDF, KindZIP (which
// still needs InspectOOXML), or an *UnsupportedTypeError naming what the
// bytes are.
//
// The PDF header must be at offset 0. Acrobat tolerates it anywhere in the
// first 1024 bytes, but that tolerance is what PDF polyglots (HTML or an
// executable with "%PDF-" a few bytes in) rely on, and ISO 32000 puts the
// header first; decks made by real tools comply.
func Sniff(head []byte) (Kind, error) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	if isPDFHeader(head) {
		return KindPDF, nil
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return KindZIP, nil
	}
	return KindUnknown, &UnsupportedTypeError{Found: describe(head)}
}

// isPDFHeader checks for "%PDF-" followed by a version such as "1.7".
func isPDFHeader(b []byte) bool {
	return len(b) >= 8 && bytes.HasPrefix(b, []byte("%PDF-")) &&
		isDigit(b[5]) && b[6] == '.' && isDigit(b[7])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// signature is a magic number at a fixed offset.
type signature struct {
	offset int
	magic  string
	found  string
}

// signatures is checked in order; the first match names the content. Only
// unambiguous magic numbers belong here: short or textual ones are handled
// by describeText so that plain text is not mistaken for them.
var signatures = []signature{
	{0, "MZ", "Windows executable"},
	{0, "\x7fELF", "ELF executable"},
	{0, "\xfe\xed\xfa\xce", "macOS executable"},
	{0, "\xfe\xed\xfa\xcf", "macOS executable"},
	{0, "\xce\xfa\xed\xfe", "macOS executable"},
	{0, "\xcf\xfa\xed\xfe", "macOS executable"},
	{0, "\xca\xfe\xba\xbe", "macOS universal binary or Java class file"},
	{0, "\x00asm", "WebAssembly module"},
	{0, "\x89PNG\r\n\x1a\n", "PNG image"},
	{0, "\xff\xd8\xff", "JPEG image"},
	{0, "GIF87a", "GIF image"},
	{0, "GIF89a", "GIF image"},
	{0, "II*\x00", "TIFF image"},
	{0, "MM\x00*", "TIFF image"},
	{0, "\x00\x00\x01\x00", "Windows icon"},
	{4, "ftypavif", "AVIF image"},
	{4, "ftypheic", "HEIC image"},
	{4, "ftypmif1", "HEIC image"},
	{4, "ftyp", "MP4 or QuickTime video"},
	{0, "\x1aE\xdf\xa3", "Matroska or WebM video"},
	{0, "ID3\x03", "MP3 audio"},
	{0, "ID3\x04", "MP3 audio"},
	{0, "OggS", "Ogg media"},
	{0, "fLaC", "FLAC audio"},
	{0, "\x1f\x8b", "gzip archive"},
	{0, "BZh", "bzip2 archive"},
	{0, "\xfd7zXZ\x00", "xz archive"},
	{0, "(\xb5/\xfd", "Zstandard archive"},
	{0, "7z\xbc\xaf\x27\x1c", "7-Zip archive"},
	{0, "Rar!\x1a\x07", "RAR archive"},
	{0, "PK\x05\x06", "empty ZIP archive"},
	{0, "PK\x07\x08", "ZIP archive"},
	{257, "ustar", "tar archive"},
	{0, "MSCF", "Windows cabinet archive"},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy PowerPoint (PPT)/OLE file"},
	{0, "{\\rtf", "RTF document"},
	{0, "%!PS", "PostScript document"},
	{0, "%PDF-", "damaged PDF (no valid version in its header)"},
	{0, "SQLite format 3\x00", "SQLite database"},
	{0, "wOFF", "web font"},
	{0, "wOF2", "web font"},
	{0, "\x00\x01\x00\x00\x00", "TrueType font"},
	{0, "OTTO", "OpenType font"},
	{0, "#!", "script"},
}

// describe names non-deck content in plain English for an
// UnsupportedTypeError. It never returns "".
func describe(b []byte) string {
	if len(b) == 0 {
		return "empty file"
	}
	if bytes.HasPrefix(b, []byte("RIFF")) && len(b) >= 12 {
		switch string(b[8:12]) {
		case "WEBP":
			return "WebP image"
		case "WAVE":
			return "WAV audio"
		case "AVI ":
			return "AVI video"
		}
		return "RIFF media file"
	}
	for _, s := range signatures {
		if len(b) >= s.offset+len(s.magic) && string(b[s.offset:s.offset+len(s.magic)]) == s.magic {
			return s.found
		}
	}
	if found := describeMarkup(b); found != "" {
		return found
	}
	// A PDF header a few bytes in is how polyglots start; real PDF
	// writers put it first. Say so, since the applicant may be able to
	// re-export the file.
	if i := bytes.Index(b, []byte("%PDF-")); i > 0 {
		return "PDF with data before its header"
	}
	if bytes.HasPrefix(b, []byte("\xfe\xff")) || bytes.HasPrefix(b, []byte("\xff\xfe")) {
		return "UTF-16 text"
	}
	if isText(b) {
		return "plain text"
	}
	return "unknown binary data"
}

// htmlTags are the tags the WHATWG MIME sniffing standard treats as HTML
// when they open a document (after optional whitespace), each followed by a
// space or '>'.
var htmlTags = []string{
	"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div",
	"<font", "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p",
	"<!--",
}

// describeMarkup recognises HTML, SVG and XML after an optional UTF-8 BOM
// and leading whitespace, which browsers skip too.
func describeMarkup(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\n\r\f")
	lower := bytes.ToLower(b)
	for _, tag := range htmlTags {
		if !bytes.HasPrefix(lower, []byte(tag)) {
			continue
		}
		rest := lower[len(tag):]
		if tag == "<!--" || len(rest) == 0 || rest[0] == ' ' || rest[0] == '>' ||
			rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '\f' {
			return "HTML document"
		}
	}
	switch {
	case bytes.HasPrefix(lower, []byte("<svg")):
		return "SVG image"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		// An XML prologue can front SVG or XHTML, both of which browsers
		// run scripts in; name the more dangerous reading.
		switch {
		case bytes.Contains(lower, []byte("<svg")):
			return "SVG image"
		case bytes.Contains(lower, []byte("<html")):
			return "HTML document"
		}
		return "XML document"
	}
	return ""
}

// isText reports whether b looks like UTF-8 text: valid UTF-8 (a rune cut
// off by the end of the sniffed window is fine) with no control characters
// other than common whitespace.
func isText(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			// An incomplete rune at the very end is the window's fault.
			return !utf8.FullRune(b)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		b = b[size:]
	}
	return true
}

// Verify checks a complete upload: Sniff on its first bytes and, for a ZIP,
// InspectOOXML. It returns KindPDF or KindPPTX, or the error that rejects
// the file (*UnsupportedTypeError or *ZipBombError).
func Verify(r io.ReaderAt, size int64, lim Limits) (Kind, error) {
	if size < 0 {
		return KindUnknown, fmt.Errorf("uploads: verify: negative size %d", size)
	}
	head := make([]byte, min(size, SniffLen))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return KindUnknown, fmt.Errorf("uploads: verify: read head: %w", err)
	}
	kind, err := Sniff(head)
	if err != nil || kind == KindPDF {
		return kind, err
	}
	if err := InspectOOXML(r, size, lim); err != nil {
		return KindUnknown, err
	}
	return KindPPTX, nil
}
