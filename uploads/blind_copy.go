package uploads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// BlindSuffix ends the key of a deck's metadata-free copy: the copy of
// "decks/<uuid>" is "decks/<uuid>.blind".
const BlindSuffix = ".blind"

// blindSHA256Meta is the user metadata (x-amz-meta-blind-sha256) that
// carries the copy's SHA-256, so that a later BlindCopy can answer from a
// StatObject without reading the copy back.
const blindSHA256Meta = "Blind-Sha256"

// BlindKey returns the key of the metadata-free copy of the deck under key.
func BlindKey(key string) string { return key + BlindSuffix }

// ValidBlindKey reports whether key is a blind-copy key as BlindCopy makes
// them: a ValidKey followed by BlindSuffix.
func ValidBlindKey(key string) bool {
	orig, ok := strings.CutSuffix(key, BlindSuffix)
	return ok && ValidKey(orig)
}

// OriginalKey returns the deck key a blind-copy key was made from, and
// whether blindKey is one.
func OriginalKey(blindKey string) (string, bool) {
	orig, ok := strings.CutSuffix(blindKey, BlindSuffix)
	if !ok || !ValidKey(orig) {
		return "", false
	}
	return orig, true
}

// BlindCopy makes (once) and returns the metadata-free copy of the stored
// deck object key, for a judge in a blind round: StripMetadata of the
// original, stored beside it under BlindKey(key). kind is the deck's
// recorded kind, "pdf" or "pptx" (StoredDeck.Kind.String()). It returns the
// copy's key, the hex SHA-256 of its bytes and its size, for the caller to
// record. The original is only read.
//
// If the copy exists it is not remade: BlindCopy answers from a StatObject
// (the SHA-256 is kept in the copy's metadata). Two calls that race both
// make a copy, but only one is stored: the copy is written with
// If-None-Match: *, so the second write fails with 412 and that call
// answers with what the first stored. (A PDF's strip is not byte-for-byte
// reproducible, pdfcpu stamps the time into it, so "first one wins" is what
// keeps every caller's recorded SHA-256 true.)
//
// The copy is served as "deck.pdf" or "deck.pptx" (its stored
// Content-Disposition): the original's filename may name the team.
//
// Sweep's orphan pass removes objects no record names; a PendingStore
// whose KnownKey reports a blind key as known while its original is known
// (app/store does, via OriginalKey) keeps the copy as long as the deck, and
// lets Sweep remove it once the deck is discarded.
//
// Errors: ErrNotFound (wrapped) if key is not a deck key or there is no
// such object, ErrStrip (wrapped) if the deck cannot be stripped (serve
// nothing rather than the original), ErrStorageUnavailable (wrapped) when
// S3 is unreachable.
func (d *Decks) BlindCopy(ctx context.Context, key, kind string) (blindKey string, sha256hex string, size int64, err error) {
	if !ValidKey(key) {
		return "", "", 0, fmt.Errorf("uploads: blind copy %q: %w", key, ErrNotFound)
	}
	var stored Kind
	switch kind {
	case KindPDF.String():
		stored = KindPDF
	case KindPPTX.String():
		stored = KindPPTX
	default:
		return "", "", 0, fmt.Errorf("uploads: blind copy %s: unknown deck kind %q", key, kind)
	}
	blindKey = BlindKey(key)
	if sum, n, ok, err := d.statBlind(ctx, blindKey); err != nil || ok {
		return blindKey, sum, n, err
	}

	obj, info, err := d.Open(ctx, key)
	if err != nil {
		return "", "", 0, err
	}
	defer obj.Close()
	tmp, err := os.CreateTemp("", "sprout-blind-*")
	if err != nil {
		return "", "", 0, fmt.Errorf("uploads: blind copy %s: %w", key, err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	h := sha256.New()
	counter := &countWriter{}
	if err := StripMetadata(ctx, kind, obj, info.Size, io.MultiWriter(tmp, h, counter)); err != nil {
		if errors.Is(err, ErrStrip) || ctx.Err() != nil {
			return "", "", 0, fmt.Errorf("uploads: blind copy %s: %w", key, err)
		}
		// Anything else while reading the original is S3's doing.
		return "", "", 0, storageError("blind copy "+key, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", "", 0, fmt.Errorf("uploads: blind copy %s: %w", key, err)
	}
	opts := minio.PutObjectOptions{
		ContentType:        ContentTypeFor(stored),
		ContentDisposition: ContentDisposition("deck" + ExtensionFor(stored)),
		UserMetadata:       map[string]string{blindSHA256Meta: sum},
		// One PUT of known size (decks are far below S3's 5 GiB single
		// PUT limit), so that If-None-Match applies to the write itself
		// and no part buffers are allocated (SECURITY.md 8).
		DisableMultipart: true,
	}
	opts.SetMatchETagExcept("*")
	if _, err := d.Bucket.Client.PutObject(ctx, d.Bucket.Name, blindKey, tmp, counter.n, opts); err != nil {
		if !isPreconditionFailed(err) {
			return "", "", 0, storageError("store "+blindKey, err)
		}
		// Another call stored its copy first: answer with that one.
		sum, n, ok, err := d.statBlind(ctx, blindKey)
		if err == nil && !ok {
			err = fmt.Errorf("uploads: blind copy %s: refused as existing, then not found", blindKey)
		}
		return blindKey, sum, n, err
	}
	st, err := d.Bucket.Client.StatObject(ctx, d.Bucket.Name, blindKey, minio.StatObjectOptions{})
	if err != nil {
		return "", "", 0, storageError("stat "+blindKey, err)
	}
	if st.Size != counter.n {
		return "", "", 0, fmt.Errorf("uploads: blind copy %s: %d bytes stored, %d made", blindKey, st.Size, counter.n)
	}
	return blindKey, sum, counter.n, nil
}

// statBlind looks the copy up: its SHA-256 and size, and whether it exists.
// A copy without the SHA-256 in its metadata (not made by BlindCopy) is read
// and hashed.
func (d *Decks) statBlind(ctx context.Context, blindKey string) (string, int64, bool, error) {
	st, err := d.Bucket.Client.StatObject(ctx, d.Bucket.Name, blindKey, minio.StatObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return "", 0, false, nil
		}
		return "", 0, false, storageError("stat "+blindKey, err)
	}
	if sum := st.UserMetadata[blindSHA256Meta]; len(sum) == sha256.Size*2 {
		return sum, st.Size, true, nil
	}
	obj, err := d.Bucket.Client.GetObject(ctx, d.Bucket.Name, blindKey, minio.GetObjectOptions{})
	if err != nil {
		return "", 0, false, storageError("open "+blindKey, err)
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return "", 0, false, storageError("read "+blindKey, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, true, nil
}

// OpenBlind is Open for a blind copy's key (Open accepts only deck keys).
// Check that the user may read the entry before calling it.
func (d *Decks) OpenBlind(ctx context.Context, blindKey string) (*minio.Object, minio.ObjectInfo, error) {
	if !ValidBlindKey(blindKey) {
		return nil, minio.ObjectInfo{}, fmt.Errorf("uploads: open %q: %w", blindKey, ErrNotFound)
	}
	return d.openObject(ctx, blindKey)
}

// PresignBlindDownload is PresignDownload for a blind copy's key
// (PresignDownload accepts only deck keys). Pass a filename that does not
// name the team, e.g. "deck.pdf" or one made from the entry's number. Check
// that the user may read the entry, and audit the issuance, before calling
// it.
func (d *Decks) PresignBlindDownload(ctx context.Context, blindKey, filename string, ttl time.Duration) (*url.URL, error) {
	if !ValidBlindKey(blindKey) {
		return nil, fmt.Errorf("uploads: presign %q: %w", blindKey, ErrNotFound)
	}
	switch {
	case ttl <= 0:
		ttl = DefaultPresignTTL
	case ttl > MaxPresignTTL:
		ttl = MaxPresignTTL
	case ttl < time.Second:
		ttl = time.Second
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(filename))
	params.Set("response-content-type", contentTypeForName(filename))
	u, err := d.Bucket.Client.PresignedGetObject(ctx, d.Bucket.Name, blindKey, ttl, params)
	if err != nil {
		return nil, storageError("presign "+blindKey, err)
	}
	return u, nil
}

func isPreconditionFailed(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "PreconditionFailed" || er.StatusCode == 412)
}

// countWriter counts what is written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
