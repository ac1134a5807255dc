package uploads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrStrip matches, via errors.Is, every failure of StripMetadata to read
// the deck it was given (damaged, not of the kind named, over a cap). The
// deck as stored passed Verify, so this means it cannot be blinded, not that
// the applicant did something wrong: do not serve the original instead.
var ErrStrip = errors.New("uploads: cannot strip deck metadata")

// StripMetadata writes to w a copy of the deck read from r with its authoring
// metadata removed. kind is the deck's verified type as the pipeline records
// it, Kind.String(): "pdf" or "pptx". size is the deck's length in bytes; r
// must yield exactly that many.
//
// What is removed:
//   - PDF: the document information dictionary (Title, Author, Subject,
//     Keywords, Creator, Producer, dates, and any other entry), every
//     /Metadata (XMP) stream reference, the catalog's included, and the
//     author (/T) of review annotations (comments, highlights); older
//     revisions kept by incremental updates go too, since the file is
//     rewritten from its current objects. See stripPDF.
//   - PPTX: docProps/core.xml, docProps/app.xml and docProps/custom.xml are
//     replaced with minimal valid parts, and the names and initials in
//     ppt/commentAuthors.xml and ppt/authors.xml are replaced with neutral
//     ones (ids kept, so comments still resolve). Every other entry is
//     copied byte for byte. See stripPPTX.
//
// The deck is first copied to a temporary file (both formats need random
// access), so it costs size bytes of disk for the duration of the call. A PDF
// is then parsed into memory by pdfcpu; a PPTX is never decompressed except
// for the comment-author parts, each under Limits.MaxPartBytes.
//
// Errors: ErrStrip (wrapped, often with an *UnsupportedTypeError or
// *ZipBombError under it) for a deck that cannot be read as kind, the
// context's error, and w's or the temporary file's errors.
func StripMetadata(ctx context.Context, kind string, r io.Reader, size int64, w io.Writer) error {
	return stripMetadata(ctx, kind, r, size, w, DefaultLimits())
}

func stripMetadata(ctx context.Context, kind string, r io.Reader, size int64, w io.Writer, lim Limits) error {
	if size < 0 {
		return fmt.Errorf("uploads: strip: negative size %d", size)
	}
	var strip func(context.Context, *os.File, int64, io.Writer, Limits) error
	switch kind {
	case KindPDF.String():
		strip = stripPDF
	case KindPPTX.String():
		strip = stripPPTX
	default:
		return fmt.Errorf("uploads: strip: unknown deck kind %q", kind)
	}
	f, err := spool(ctx, r, size)
	if err != nil {
		return err
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	return strip(ctx, f, size, w, lim)
}

// spool copies exactly size bytes of r to a new temporary file, which the
// caller closes and removes.
func spool(ctx context.Context, r io.Reader, size int64) (*os.File, error) {
	f, err := os.CreateTemp("", "sprout-strip-*")
	if err != nil {
		return nil, fmt.Errorf("uploads: strip: %w", err)
	}
	fail := func(err error) (*os.File, error) {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	// One byte more than size shows a reader longer than announced.
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size+1))
	switch {
	case err != nil:
		return fail(fmt.Errorf("uploads: strip: read deck: %w", err))
	case n != size:
		return fail(fmt.Errorf("uploads: strip: read deck: got %d bytes or more, want %d", n, size))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("uploads: strip: %w", err))
	}
	return f, nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// stripError marks err as the deck's fault (see ErrStrip).
func stripError(kind string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrStrip, kind, err)
}
