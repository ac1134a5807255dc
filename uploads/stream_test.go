package uploads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestLimitReader(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name     string
		size     int
		oneByte  bool // read through iotest.OneByteReader
		tooLarge bool
	}{
		{"empty", 0, false, false},
		{"under", limit - 1, false, false},
		{"exactly limit", limit, false, false},
		{"exactly limit byte by byte", limit, true, false},
		{"limit+1", limit + 1, false, true},
		{"limit+1 byte by byte", limit + 1, true, true},
		{"far over", 10 * limit, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), tt.size))
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(LimitReader(r, limit))
			if tt.tooLarge {
				var tle *TooLargeError
				if !errors.As(err, &tle) || !errors.Is(err, ErrTooLarge) || tle.Limit != limit {
					t.Fatalf("err = %v, want *TooLargeError{Limit: %d}", err, limit)
				}
				if len(got) != limit {
					t.Errorf("passed on %d bytes, want exactly the %d allowed", len(got), limit)
				}
				return
			}
			if err != nil || len(got) != tt.size {
				t.Fatalf("read %d bytes, err %v; want %d, nil", len(got), err, tt.size)
			}
		})
	}
}

func TestLimitReaderZero(t *testing.T) {
	if _, err := io.ReadAll(LimitReader(strings.NewReader(""), 0)); err != nil {
		t.Errorf("empty body, limit 0: %v", err)
	}
	if _, err := io.ReadAll(LimitReader(strings.NewReader("x"), 0)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte, limit 0: err = %v, want ErrTooLarge", err)
	}
}

// form is one part of a multipart body for multipartBody.
type form struct {
	field, filename, value string
}

func multipartBody(tb testing.TB, parts ...form) (body []byte, contentType string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.field, p.filename)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, p.value)
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func TestReadUntilFile(t *testing.T) {
	deck := "%PDF-1.7\n" + strings.Repeat("slide ", 1000)
	tests := []struct {
		name     string
		parts    []form
		wantName string
		wantCSRF string
	}{
		{"file after csrf", []form{{"_csrf", "", "tok123"}, {"deck", "Kế hoạch.pdf", deck}}, "Kế hoạch.pdf", "tok123"},
		{"file first", []form{{"deck", "deck.pdf", deck}, {"_csrf", "", "late"}}, "deck.pdf", ""},
		{"path in filename", []form{{"deck", `..\..\C:\x\deck.pdf`, deck}}, "deck.pdf", ""},
		{"other file skipped", []form{{"logo", "logo.png", "\x89PNG"}, {"deck", "deck.pdf", deck}}, "deck.pdf", ""},
		{"duplicate field keeps first", []form{{"_csrf", "", "one"}, {"_csrf", "", "two"}, {"deck", "d.pdf", deck}}, "d.pdf", "one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.parts...)
			fp, err := ReadUntilFile(bytes.NewReader(body), ct, "deck")
			if err != nil {
				t.Fatal(err)
			}
			if fp.Filename != tt.wantName {
				t.Errorf("Filename = %q, want %q", fp.Filename, tt.wantName)
			}
			if got := fp.Fields["_csrf"]; got != tt.wantCSRF {
				t.Errorf("_csrf = %q, want %q", got, tt.wantCSRF)
			}
			if _, ok := fp.Fields["logo"]; ok {
				t.Error("a file part was kept as a field")
			}
			got, err := io.ReadAll(fp.Part)
			if err != nil || string(got) != deck {
				t.Errorf("file content: %d bytes, err %v; want the %d-byte deck", len(got), err, len(deck))
			}
		})
	}
}

func TestNextFilePart(t *testing.T) {
	body, ct := multipartBody(t, form{"_csrf", "", "t"}, form{"deck", "../../etc/passwd", "data"})
	part, name, err := NextFilePart(bytes.NewReader(body), ct, "deck")
	if err != nil {
		t.Fatal(err)
	}
	if name != "passwd" || part.FormName() != "deck" {
		t.Errorf("got field %q, name %q; want deck, passwd", part.FormName(), name)
	}
	if _, _, err := NextFilePart(bytes.NewReader(body), ct, "missing"); !errors.Is(err, ErrNoFile) {
		t.Errorf("missing field: err = %v, want ErrNoFile", err)
	}
}

func TestReadUntilFileErrors(t *testing.T) {
	good, ct := multipartBody(t, form{"_csrf", "", "t"}, form{"deck", "d.pdf", "data"})
	manyParts := make([]form, MaxParts+1)
	for i := range manyParts {
		manyParts[i] = form{fmt.Sprintf("f%d", i), "", "v"}
	}
	many, manyCT := multipartBody(t, append(manyParts, form{"deck", "d.pdf", "x"})...)
	big, bigCT := multipartBody(t, form{"_csrf", "", strings.Repeat("a", MaxFieldBytes+1)}, form{"deck", "d.pdf", "x"})
	tests := []struct {
		name        string
		body        io.Reader
		contentType string
		want        error
	}{
		{"missing field", bytes.NewReader(good), ct, ErrNoFile},
		{"no boundary", bytes.NewReader(good), "multipart/form-data", ErrBadMultipart},
		{"wrong boundary", bytes.NewReader(good), "multipart/form-data; boundary=nottheone", ErrBadMultipart},
		{"not multipart", bytes.NewReader(good), "application/json", ErrBadMultipart},
		{"unparsable content type", bytes.NewReader(good), "multipart/form-data; boundary=", ErrBadMultipart},
		{"empty content type", bytes.NewReader(good), "", ErrBadMultipart},
		{"truncated body", bytes.NewReader(good[:len(good)/3]), ct, ErrBadMultipart},
		{"too many parts", bytes.NewReader(many), manyCT, ErrBadMultipart},
		{"field over cap", bytes.NewReader(big), bigCT, ErrTooLarge},
		{"body over limit before the file", LimitReader(bytes.NewReader(good), 50), ct, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field := "deck"
			if tt.want == ErrNoFile {
				field = "nope"
			}
			_, err := ReadUntilFile(tt.body, tt.contentType, field)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReadUntilFileOverLimit: a body over the limit fails while the file
// is being read, with ErrTooLarge, not with a multipart error.
func TestReadUntilFileOverLimit(t *testing.T) {
	body, ct := multipartBody(t, form{"deck", "d.pdf", strings.Repeat("x", 10_000)})
	fp, err := ReadUntilFile(LimitReader(bytes.NewReader(body), 5_000), ct, "deck")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, fp.Part); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("reading the file: err = %v, want ErrTooLarge", err)
	}
}

// TestReadUntilFileStreams: the file part is handed over while the client
// is still sending it, which a buffering parser could not do.
func TestReadUntilFileStreams(t *testing.T) {
	body, ct := multipartBody(t, form{"_csrf", "", "t"}, form{"deck", "d.pdf", strings.Repeat("x", 1<<20)})
	pr, pw := io.Pipe()
	release := make(chan struct{})
	go func() {
		pw.Write(body[:8<<10]) // headers and the start of the file
		<-release
		pw.Write(body[8<<10:])
		pw.Close()
	}()
	type result struct {
		fp  *FilePart
		err error
	}
	done := make(chan result, 1)
	go func() {
		fp, err := ReadUntilFile(pr, ct, "deck")
		done <- result{fp, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("ReadUntilFile waited for the whole body")
	}
	close(release)
	if res.err != nil {
		t.Fatal(res.err)
	}
	n, err := io.Copy(io.Discard, res.fp.Part)
	if err != nil || n != 1<<20 {
		t.Fatalf("read %d bytes, err %v; want %d", n, err, 1<<20)
	}
}

func TestDrain(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		max      int64
		tooLarge bool
	}{
		{"empty", 0, 10, false},
		{"rest fits", 100, 100, false},
		{"rest too long", 101, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(strings.Repeat("x", tt.size))
			err := Drain(r, tt.max)
			if tt.tooLarge {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil || r.Len() != 0 {
				t.Fatalf("err = %v, %d bytes left; want nil, 0", err, r.Len())
			}
		})
	}
	if err := Drain(iotest.ErrReader(io.ErrUnexpectedEOF), 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error: err = %v, want it passed on", err)
	}
}
