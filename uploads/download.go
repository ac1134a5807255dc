package uploads

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"golang.org/x/text/unicode/norm"
)

// Open returns the deck under key for streaming to the client, with its
// size and stored content type. The caller closes the object and, as for
// any download, sets Content-Disposition (ContentDisposition) and
// X-Content-Type-Options: nosniff. Check that the user may read the entry
// before calling it: Open checks nothing.
func (d *Decks) Open(ctx context.Context, key string) (*minio.Object, minio.ObjectInfo, error) {
	if !ValidKey(key) {
		return nil, minio.ObjectInfo{}, fmt.Errorf("uploads: open %q: %w", key, ErrNotFound)
	}
	return d.openObject(ctx, key)
}

// openObject opens a stored object for streaming, after the caller has
// checked its key.
func (d *Decks) openObject(ctx context.Context, key string) (*minio.Object, minio.ObjectInfo, error) {
	obj, err := d.Bucket.Client.GetObject(ctx, d.Bucket.Name, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, minio.ObjectInfo{}, storageError("open "+key, err)
	}
	// GetObject is lazy; Stat makes the request, so a missing object or
	// an outage shows here rather than halfway into the response.
	info, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		if isNoSuchKey(err) {
			return nil, minio.ObjectInfo{}, fmt.Errorf("uploads: open %s: %w", key, ErrNotFound)
		}
		return nil, minio.ObjectInfo{}, storageError("open "+key, err)
	}
	return obj, info, nil
}

// PresignDownload returns a URL that downloads the deck under key without
// credentials for ttl, signed for the bucket's public URL if it has one (at most MaxPresignTTL; DefaultPresignTTL if ttl is
// not positive). The response carries Content-Disposition: attachment with
// filename, and the content type that filename's extension names (pass
// StoredDeck.Filename, whose extension matches the content). Check that the
// user may read the entry, and audit the issuance, before calling it.
func (d *Decks) PresignDownload(ctx context.Context, key, filename string, ttl time.Duration) (*url.URL, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("uploads: presign %q: %w", key, ErrNotFound)
	}
	switch {
	case ttl <= 0:
		ttl = DefaultPresignTTL
	case ttl > MaxPresignTTL:
		ttl = MaxPresignTTL
	case ttl < time.Second:
		ttl = time.Second // the smallest expiry S3 signs
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(filename))
	params.Set("response-content-type", contentTypeForName(filename))
	cl, err := d.Bucket.presigner(ctx)
	if err != nil {
		return nil, storageError("presign "+key, err)
	}
	u, err := cl.PresignedGetObject(ctx, d.Bucket.Name, key, ttl, params)
	if err != nil {
		// Signing is local, but minio-go may first ask the server for
		// the bucket's region.
		return nil, storageError("presign "+key, err)
	}
	return u, nil
}

// ContentDisposition returns an "attachment" Content-Disposition value for
// filename (cleaned first) in the form RFC 6266 recommends: an ASCII
// filename for old clients (Vietnamese letters lose their accents, other
// non-ASCII becomes '_') and filename* with the UTF-8 name percent-encoded
// as RFC 5987 says.
func ContentDisposition(filename string) string {
	name := CleanFilename(filename)
	return `attachment; filename="` + asciiFallback(name) + `"; filename*=UTF-8''` + rfc5987Encode(name)
}

// asciiFallback folds name to printable ASCII without quotes or
// backslashes, so it can sit in a quoted-string unescaped.
func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// accents split off by NFD
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		case r == '"' || r == '\\' || r < 0x20 || r > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rfc5987Encode percent-encodes every byte that is not an attr-char.
func rfc5987Encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// contentTypeForName maps a stored deck name's extension to its media type.
func contentTypeForName(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".pdf"):
		return ContentTypePDF
	case strings.HasSuffix(lower, ".pptx"):
		return ContentTypePPTX
	}
	return "application/octet-stream"
}

// ValidKey reports whether key is a deck key as Receive makes them:
// KeyPrefix followed by a UUID in canonical form. Keys come from the
// database, but checking them keeps a corrupted or injected value from
// reaching other objects in the bucket.
func ValidKey(key string) bool {
	id, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
