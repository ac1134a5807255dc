package uploads

import (
	"context"
	"errors"
	"io"

	"github.com/minio/minio-go/v7"
)

// inspect runs InspectOOXML over the stored object with ranged reads, so a
// large upload is never held in memory.
func (d *Decks) inspect(ctx context.Context, key string, size int64) error {
	obj, err := d.Bucket.Client.GetObject(ctx, d.Bucket.Name, key, minio.GetObjectOptions{})
	if err != nil {
		return storageError("open "+key, err)
	}
	defer obj.Close()
	br := &blockReaderAt{r: obj, size: size}
	err = InspectOOXML(br, size, d.Limits)
	// InspectOOXML calls any read failure a damaged archive; if the read
	// failed because of S3, say so rather than blame the file.
	if br.err != nil {
		return storageError("inspect "+key, br.err)
	}
	return err
}

// Block cache geometry for inspecting stored ZIPs.
const (
	inspectBlockSize = 64 << 10
	inspectBlocks    = 4
)

// blockReaderAt serves ReadAt from a few cached, aligned blocks of r.
// archive/zip reads the central directory and each part in small
// sequential reads (4 KiB through bufio); on a *minio.Object every ReadAt
// is a ranged GET, so without the cache the directory costs one request per
// 4 KiB (measured: 67 ReadAt calls for a 3,000-entry archive, 6 with the
// cache; the directory budget would allow ~270). Memory stays at
// inspectBlocks × inspectBlockSize. Not safe for concurrent use.
type blockReaderAt struct {
	r      io.ReaderAt
	size   int64
	blocks [inspectBlocks]cachedBlock
	next   int   // block to replace next (round robin)
	err    error // first failure of r, for telling storage errors apart
}

type cachedBlock struct {
	off int64
	buf []byte // nil until filled
}

func (b *blockReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("uploads: negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= b.size {
			return n, io.EOF
		}
		blk, err := b.block(off - off%inspectBlockSize)
		if err != nil {
			return n, err
		}
		c := copy(p, blk[off%inspectBlockSize:])
		n += c
		p = p[c:]
		off += int64(c)
	}
	return n, nil
}

// block returns the cached block at offset start, reading it if needed.
func (b *blockReaderAt) block(start int64) ([]byte, error) {
	for _, c := range b.blocks {
		if c.buf != nil && c.off == start {
			return c.buf, nil
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	c := &b.blocks[b.next]
	b.next = (b.next + 1) % inspectBlocks
	want := int(min(inspectBlockSize, b.size-start))
	if cap(c.buf) < want {
		c.buf = make([]byte, inspectBlockSize)
	}
	c.buf = c.buf[:want]
	got, err := b.r.ReadAt(c.buf, start)
	if got < want {
		c.buf = nil
		if err == nil || errors.Is(err, io.EOF) {
			// The object is shorter than it was when stat'ed.
			err = io.ErrUnexpectedEOF
		}
		b.err = err
		return nil, err
	}
	c.off = start
	return c.buf, nil
}
