package uploads

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// bufferPool keeps part buffers between uploads, outside the Go heap.
//
// It replaced a sync.Pool of heap buffers. The server ran with a soft
// memory limit (GOMEMLIMIT, 96 MiB by default then) and eight upload slots
// held up to 80 MiB of part buffers, so with the buffers on the heap the heap sat
// at the limit during a burst and the collector ran almost without pause:
// with a sync.Pool (which the collector empties) buffers were also dropped
// and made again, and collecting, zeroing and returning pages took ~15 % of
// the app's CPU during 16 concurrent uploads; with the same buffers kept on
// the heap, collections alone took ~18 % (both profiled with sproutbench).
// Mapped outside the heap (mapBuffer; plain heap slices where the system
// has no mmap), the buffers are neither scanned nor counted against the
// limit, and the heap stays small.
//
// On Linux each buffer is a shared mapping of a memory file (memfd), so a
// full part is sent from the file with sendfile(2) instead of being copied
// through the HTTP transport (see body and buffers_linux.go); that took
// ~10 % off the app's CPU per upload.
//
// Up to max free buffers are kept while they are used; a buffer left free
// for idle is unmapped (and its file closed), so memory returns after a
// burst. Requests get their bodies from body, and call its done function
// before the buffer is given back.
type bufferPool struct {
	size int
	max  int           // most free buffers kept
	idle time.Duration // a free buffer unused this long is released

	mu      sync.Mutex
	free    []freeBuffer       // LIFO: the most recently used is reused first
	trimmer *time.Timer        // armed while free buffers are kept
	made    int                // buffers allocated, for tests
	live    atomic.Int64       // buffers allocated and not released
	files   map[*byte]*os.File // the memory file behind a buffer, by its first byte
}

type freeBuffer struct {
	buf   *[]byte
	since time.Time
}

// defaultIdle is how long bufferPool keeps a free buffer.
const defaultIdle = 30 * time.Second

func newBufferPool(size, max int, idle time.Duration) *bufferPool {
	return &bufferPool{size: size, max: max, idle: idle}
}

// Get returns a buffer of the pool's size, reused when one is free.
func (p *bufferPool) Get() *[]byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1].buf
		p.free[n-1] = freeBuffer{}
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b
	}
	p.made++
	p.mu.Unlock()
	b, f := mapBuffer(p.size)
	p.live.Add(1)
	if f != nil {
		p.mu.Lock()
		if p.files == nil {
			p.files = make(map[*byte]*os.File)
		}
		p.files[&b[0]] = f
		p.mu.Unlock()
	}
	return &b
}

// Put gives back a buffer of the pool's, which nothing uses any more. Past
// max free buffers it is released at once.
func (p *bufferPool) Put(b *[]byte) {
	if b == nil || len(*b) != p.size {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) >= p.max {
		p.release(*b)
		return
	}
	p.free = append(p.free, freeBuffer{buf: b, since: time.Now()})
	if p.trimmer == nil {
		p.trimmer = time.AfterFunc(p.idle, p.trim)
	}
}

// trim drops the buffers that have been free for idle, oldest first, and
// re-arms itself while any are kept.
func (p *bufferPool) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cutoff := time.Now().Add(-p.idle)
	// The oldest are at the bottom of the stack.
	drop := 0
	for drop < len(p.free) && !p.free[drop].since.After(cutoff) {
		drop++
	}
	for _, f := range p.free[:drop] {
		p.release(*f.buf)
	}
	clear(p.free[:drop])
	p.free = append(p.free[:0], p.free[drop:]...)
	if len(p.free) == 0 {
		p.trimmer = nil
		return
	}
	p.trimmer = time.AfterFunc(time.Until(p.free[0].since.Add(p.idle)), p.trim)
}

// stats reports the free buffers kept and the buffers allocated so far.
func (p *bufferPool) stats() (free, made int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free), p.made
}

// release unmaps b. The caller holds p.mu.
func (p *bufferPool) release(b []byte) {
	f := p.files[&b[0]]
	delete(p.files, &b[0])
	unmapBuffer(b, f)
	p.live.Add(-1)
}

// body returns a request body that yields b[:n], a buffer of the pool's,
// and a function to call once the request has ended, before b is reused.
//
// When b is full (n == len(b): every part but the last) and has a memory
// file behind it (Linux), the body is a duplicate of that file at offset 0:
// net/http sends it with sendfile(2), no copy in this process. A request that failed may go on sending from it
// after it returned; if b is reused meanwhile it sends other bytes, which
// the S3 server refuses, as they do not match the part's CRC32C, for an
// upload that is aborted anyway. Otherwise the body is a bodyReader, which
// done cuts off, so a late read never touches b.
func (p *bufferPool) body(b []byte, n int) (io.Reader, func()) {
	p.mu.Lock()
	f := p.files[&b[0]]
	p.mu.Unlock()
	// Only a full buffer: net/http checks that a body ends where
	// Content-Length says, and the file is as long as the buffer.
	if f != nil && n == len(b) {
		if d, err := dupFile(f); err == nil {
			if _, err := d.Seek(0, io.SeekStart); err == nil {
				// minio-go closes it too when the request ends.
				return d, func() { _ = d.Close() }
			}
			_ = d.Close()
		}
	}
	r := newBodyReader(b[:n])
	return r, r.close
}

// Bytes reports the memory the pool's buffers hold, free or in use.
func (p *bufferPool) Bytes() int64 { return p.live.Load() * int64(p.size) }

// errBodyClosed is what a request body read after closeBody gets.
var errBodyClosed = errors.New("uploads: part body read after its request ended")

// bodyReader serves a part buffer as a request body that can be cut off.
// net/http may go on reading a request's body after RoundTrip has returned
// (on errors, from its write goroutine), and the buffer is reused, or
// unmapped, once the request has ended. close waits for a Read in progress
// and makes every later one fail without touching the buffer.
//
// It is an io.ReadSeeker so minio-go can retry a request; it does not
// implement io.WriterTo, so nothing but Read ever sees the buffer.
type bodyReader struct {
	mu  sync.Mutex
	b   []byte // nil once closed
	off int64
}

func newBodyReader(b []byte) *bodyReader { return &bodyReader{b: b} }

func (r *bodyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		return 0, errBodyClosed
	}
	if r.off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += int64(n)
	return n, nil
}

func (r *bodyReader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		return 0, errBodyClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += int64(len(r.b))
	default:
		return 0, errors.New("uploads: seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("uploads: seek: negative position")
	}
	r.off = offset
	return offset, nil
}

// close ends the reader's use of the buffer.
func (r *bodyReader) close() {
	r.mu.Lock()
	r.b = nil
	r.mu.Unlock()
}
