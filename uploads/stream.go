package uploads

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
)

// Caps on the form parts that may come before the file. They only need to
// fit a CSRF token and a few small fields.
const (
	// MaxFieldBytes caps each non-file part NextFilePart reads.
	MaxFieldBytes = 64 << 10
	// MaxParts caps how many parts may precede the file.
	MaxParts = 32
	// MaxFormOverhead is the most a well-formed upload body may hold
	// besides the file: the parts before it and the framing. A body
	// declared longer than the file's cap plus this cannot be accepted.
	MaxFormOverhead = MaxParts*MaxFieldBytes + 64<<10
)

// LimitReader returns a reader that passes through at most limit bytes of
// r and fails with a *TooLargeError (errors.Is ErrTooLarge) as soon as the
// body turns out to hold more: exactly limit bytes read cleanly to io.EOF,
// limit+1 fail. Unlike io.LimitReader, which ends silently, it lets a
// handler tell "the file ended" from "the client sent too much", which
// matters when the server streams the body (Fiber's BodyLimit is not
// applied then) and when there is no Content-Length (chunked).
func LimitReader(r io.Reader, limit int64) io.Reader {
	return &limitedReader{r: r, limit: max(limit, 0)}
}

type limitedReader struct {
	r     io.Reader
	limit int64 // bytes allowed
	n     int64 // bytes read so far, at most limit+1
	err   error // sticky *TooLargeError
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	// Ask for one byte past the limit at most: seeing it is how we know
	// the body is too large, and asking for no more keeps the count exact.
	if rem := l.limit + 1 - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		l.err = &TooLargeError{Limit: l.limit}
		return n - int(l.n-l.limit), l.err
	}
	return n, err
}

// FilePart is the file part of a multipart/form-data body and the text
// fields that came before it.
type FilePart struct {
	// Part is the file's content. Read it to io.EOF; nothing of it has
	// been buffered.
	Part *multipart.Part
	// Filename is the client's file name passed through CleanFilename.
	Filename string
	// Fields holds the first value of each text field that preceded the
	// file (a "_csrf" token, say); fields after the file are not read.
	Fields map[string]string
}

// ReadUntilFile reads a multipart/form-data body up to the part named
// field and returns it unread, so the file can be streamed onward without
// buffering. contentType is the request's Content-Type header. Parts
// before it are read and discarded, each capped at MaxFieldBytes (a
// *TooLargeError beyond that) and at most MaxParts of them; text parts
// are kept in Fields.
//
// Errors: ErrBadMultipart (wrapped) for a wrong media type, a missing
// boundary or broken framing; ErrNoFile when the body ends without the
// field; errors from body itself, such as a *TooLargeError from
// LimitReader, are returned as they are so the caller can map them.
func ReadUntilFile(body io.Reader, contentType, field string) (*FilePart, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: content type %q: %w", ErrBadMultipart, contentType, err)
	}
	if mediaType != "multipart/form-data" {
		return nil, fmt.Errorf("%w: content type is %s, want multipart/form-data", ErrBadMultipart, mediaType)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, fmt.Errorf("%w: no boundary in content type", ErrBadMultipart)
	}
	mr := multipart.NewReader(body, boundary)
	fields := make(map[string]string)
	for range MaxParts + 1 {
		part, err := mr.NextPart()
		switch {
		case err == io.EOF: //nolint:errorlint // a bare io.EOF is the closing boundary; a wrapped one is a truncated body
			return nil, fmt.Errorf("uploads: field %q: %w", field, ErrNoFile)
		case err != nil:
			return nil, bodyError(err)
		}
		if part.FormName() == field {
			return &FilePart{Part: part, Filename: CleanFilename(part.FileName()), Fields: fields}, nil
		}
		value, err := io.ReadAll(LimitReader(part, MaxFieldBytes))
		if err != nil {
			return nil, fmt.Errorf("uploads: form field %q: %w", part.FormName(), bodyError(err))
		}
		if _, seen := fields[part.FormName()]; !seen && part.FileName() == "" {
			fields[part.FormName()] = string(value)
		}
	}
	return nil, fmt.Errorf("%w: more than %d parts before field %q", ErrBadMultipart, MaxParts, field)
}

// bodyError keeps size and transport errors recognisable and calls the
// rest malformed multipart.
func bodyError(err error) error {
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) || errors.Is(err, ErrBadMultipart) || errors.Is(err, ErrTooSlow) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadMultipart, err)
}

// NextFilePart is ReadUntilFile for callers that need only the file: it
// returns the unread file part and its cleaned name.
func NextFilePart(body io.Reader, contentType, field string) (*multipart.Part, string, error) {
	fp, err := ReadUntilFile(body, contentType, field)
	if err != nil {
		return nil, "", err
	}
	return fp.Part, fp.Filename, nil
}

// Drain reads and discards the rest of body, up to max bytes. Call it
// before answering a request whose body was not read to its end (a
// rejected upload): with a streamed body, leftover bytes (or the chunked
// terminator) stay on a keep-alive connection and are parsed as the next
// request. It returns nil once body is at io.EOF, a *TooLargeError if more
// than max bytes remain (then close the connection instead), or the read
// error.
func Drain(body io.Reader, max int64) error {
	_, err := io.Copy(io.Discard, LimitReader(body, max))
	if err != nil {
		return fmt.Errorf("uploads: drain body: %w", err)
	}
	return nil
}
