package uploads

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	pad := func(prefix string) []byte { // a head as long as SniffLen, as callers pass
		return append([]byte(prefix), bytes.Repeat([]byte{0}, SniffLen)...)[:SniffLen]
	}
	tests := []struct {
		name  string
		head  []byte
		want  Kind
		found string // when rejected
	}{
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), KindPDF, ""},
		{"pdf 2.0", pad("%PDF-2.0\n"), KindPDF, ""},
		{"pdf without version", []byte("%PDF-\n1 0 obj"), 0, "damaged PDF (no valid version in its header)"},
		{"pdf after whitespace", []byte("   %PDF-1.4\n"), 0, "PDF with data before its header"},
		{"pdf after BOM", []byte("\xef\xbb\xbf%PDF-1.4\n"), 0, "PDF with data before its header"},
		{"pdf after 1023 bytes", append(bytes.Repeat([]byte("a"), 1023), "%PDF-1.4"...), 0, "plain text"},
		{"zip", []byte("PK\x03\x04\x14\x00"), KindZIP, ""},
		{"empty zip", []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), 0, "empty ZIP archive"},
		{"exe", pad("MZ\x90\x00"), 0, "Windows executable"},
		{"exe with pdf inside", pad("MZ\x90\x00%PDF-1.4"), 0, "Windows executable"},
		{"elf", pad("\x7fELF\x02\x01\x01"), 0, "ELF executable"},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), 0, "HTML document"},
		{"html bom whitespace", []byte("\xef\xbb\xbf \r\n\t<HTML>\n<body>"), 0, "HTML document"},
		{"html polyglot", []byte("<html>%PDF-1.4 <script>x</script>"), 0, "HTML document"},
		{"html comment", []byte("<!-- x --><p>hi"), 0, "HTML document"},
		{"not a tag", []byte("<abc> is how we write placeholders"), 0, "plain text"},
		{"xml", []byte(`<?xml version="1.0"?><root/>`), 0, "XML document"},
		{"svg via xml", []byte(`<?xml version="1.0"?><svg onload="alert(1)"/>`), 0, "SVG image"},
		{"svg", []byte(`  <svg xmlns="http://www.w3.org/2000/svg">`), 0, "SVG image"},
		{"png", pad("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0, "PNG image"},
		{"jpeg", pad("\xff\xd8\xff\xe0\x00\x10JFIF"), 0, "JPEG image"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), 0, "GIF image"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), 0, "WebP image"},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), 0, "WAV audio"},
		{"mp4", pad("\x00\x00\x00\x18ftypmp42"), 0, "MP4 or QuickTime video"},
		{"gzip", pad("\x1f\x8b\x08\x00"), 0, "gzip archive"},
		{"7z", pad("7z\xbc\xaf\x27\x1c\x00\x04"), 0, "7-Zip archive"},
		{"rar", pad("Rar!\x1a\x07\x01\x00"), 0, "RAR archive"},
		{"ole", pad("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), 0, "legacy PowerPoint (PPT)/OLE file"},
		{"rtf", []byte(`{\rtf1\ansi`), 0, "RTF document"},
		{"tar", append(make([]byte, 257), "ustar\x0000"...), 0, "tar archive"},
		{"text", []byte("Kế hoạch gọi vốn\nSlide 1\n"), 0, "plain text"},
		{"text cut mid-rune", []byte("Kế hoạch gọi v\xe1\xbb"), 0, "plain text"},
		{"utf16", []byte("\xff\xfeK\x00e\x00"), 0, "UTF-16 text"},
		{"binary", []byte{0x01, 0x02, 0x03, 0xfe, 0x00}, 0, "unknown binary data"},
		{"empty", nil, 0, "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head)
			if tt.found != "" {
				wantFound(t, err, tt.found)
				if got != KindUnknown {
					t.Errorf("kind = %v with an error, want unknown", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

// TestSniffLooksOnlyAtHead: what follows SniffLen bytes cannot change the
// verdict, so peeking SniffLen bytes is enough.
func TestSniffLooksOnlyAtHead(t *testing.T) {
	text := bytes.Repeat([]byte("a"), SniffLen)
	_, err := Sniff(append(text, 0, 0, 0))
	wantFound(t, err, "plain text")
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		kind  Kind   // Verify's result when accepted
		found string // *UnsupportedTypeError.Found when rejected
		bomb  bool   // *ZipBombError when rejected
	}{
		{file: "valid-deck.pdf", kind: KindPDF},
		{file: "valid-deck.pptx", kind: KindPPTX},
		{file: "exe-renamed.pdf", found: "Windows executable"},
		{file: "html-renamed.pdf", found: "HTML document"},
		{file: "png-renamed.pdf", found: "PNG image"},
		{file: "zip-renamed.pptx", found: "ZIP archive"},
		{file: "docx-renamed.pptx", found: "Word document (DOCX)"},
		{file: "pptm-renamed.pptx", found: "macro-enabled presentation (PPTM)"},
		{file: "zipbomb.pptx", bomb: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := readFixture(t, tt.file)
			kind, err := Verify(bytes.NewReader(b), int64(len(b)), DefaultLimits())
			switch {
			case tt.found != "":
				wantFound(t, err, tt.found)
			case tt.bomb:
				wantCap(t, err, CapTotalUncompressed, CapRatio)
			case err != nil || kind != tt.kind:
				t.Fatalf("Verify = %v, %v; want %v, nil", kind, err, tt.kind)
			}
		})
	}
}

func TestVerifyShortFiles(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		found string
	}{
		{"empty", "", "empty file"},
		{"zip header only", "PK\x03\x04", "damaged ZIP archive"},
		{"tiny text", "hi", "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(strings.NewReader(tt.data), int64(len(tt.data)), DefaultLimits())
			wantFound(t, err, tt.found)
		})
	}
}

func TestKindHelpers(t *testing.T) {
	tests := []struct {
		kind        Kind
		ext, ctype  string
		stringified string
	}{
		{KindPDF, ".pdf", "application/pdf", "pdf"},
		{KindPPTX, ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"},
		{KindZIP, "", "application/octet-stream", "zip"},
		{KindUnknown, "", "application/octet-stream", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.stringified, func(t *testing.T) {
			if got := ExtensionFor(tt.kind); got != tt.ext {
				t.Errorf("ExtensionFor = %q, want %q", got, tt.ext)
			}
			if got := ContentTypeFor(tt.kind); got != tt.ctype {
				t.Errorf("ContentTypeFor = %q, want %q", got, tt.ctype)
			}
			if got := tt.kind.String(); got != tt.stringified {
				t.Errorf("String = %q, want %q", got, tt.stringified)
			}
		})
	}
}

// FuzzSniff: Sniff never panics, accepts only the two headers, names
// everything it rejects, and decides from the first SniffLen bytes alone.
func FuzzSniff(f *testing.F) {
	for _, seed := range []string{"%PDF-1.7\n", "PK\x03\x04", "MZ", "<html>", "\xef\xbb\xbf<!doctype html>", "%PDF-", "RIFF\x00\x00\x00\x00WEBP", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		kind, err := Sniff(head)
		switch kind {
		case KindPDF:
			if err != nil || !bytes.HasPrefix(head, []byte("%PDF-")) {
				t.Fatalf("KindPDF for %q, err %v", head, err)
			}
		case KindZIP:
			if err != nil || !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
				t.Fatalf("KindZIP for %q, err %v", head, err)
			}
		case KindUnknown:
			var ute *UnsupportedTypeError
			if !errors.As(err, &ute) || ute.Found == "" {
				t.Fatalf("rejected %q without naming it: %v", head, err)
			}
		default:
			t.Fatalf("Sniff returned %v", kind)
		}
		if len(head) > SniffLen {
			kind2, err2 := Sniff(head[:SniffLen])
			if kind2 != kind || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("verdict depends on bytes past SniffLen: %v/%v vs %v/%v", kind, err, kind2, err2)
			}
		}
	})
}
