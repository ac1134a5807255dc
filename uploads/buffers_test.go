package uploads

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestBufferPoolReuses: a buffer given back is the next one handed out, so
// uploads one after another allocate once.
func TestBufferPoolReuses(t *testing.T) {
	p := newBufferPool(1<<10, 4, time.Hour)
	a := p.Get()
	if len(*a) != 1<<10 {
		t.Fatalf("buffer of %d bytes, want %d", len(*a), 1<<10)
	}
	p.Put(a)
	for range 10 {
		b := p.Get()
		if b != a {
			t.Fatal("a free buffer was not reused")
		}
		p.Put(b)
	}
	if free, made := p.stats(); free != 1 || made != 1 {
		t.Errorf("free, made = %d, %d; want 1, 1", free, made)
	}
	p.Put(&[]byte{1, 2, 3}) // not the pool's size: ignored
	if free, _ := p.stats(); free != 1 {
		t.Errorf("a buffer of another size was kept: %d free", free)
	}
}

// TestBufferPoolBounded: no more than max free buffers are kept however
// many were in use at once.
func TestBufferPoolBounded(t *testing.T) {
	p := newBufferPool(64, 3, time.Hour)
	var bufs []*[]byte
	for range 8 {
		bufs = append(bufs, p.Get())
	}
	for _, b := range bufs {
		p.Put(b)
	}
	if free, made := p.stats(); free != 3 || made != 8 {
		t.Errorf("free, made = %d, %d; want 3, 8", free, made)
	}
}

// TestBufferPoolTrims: buffers left unused for the idle time are dropped,
// so the memory of a burst is returned; a buffer used meanwhile is kept
// until it too has been idle that long.
func TestBufferPoolTrims(t *testing.T) {
	const idle = 200 * time.Millisecond
	p := newBufferPool(64, 4, idle)
	a, b := p.Get(), p.Get()
	p.Put(a)
	p.Put(b)
	time.Sleep(idle / 2)
	p.Put(p.Get()) // b, used again: its idle time starts over
	waitFree(t, p, 1, 10*idle)
	waitFree(t, p, 0, 20*idle)
	// Trimming re-arms when buffers come back.
	p.Put(p.Get())
	waitFree(t, p, 0, 20*idle)
}

func waitFree(t *testing.T, p *bufferPool, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		free, _ := p.stats()
		if free == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d free buffers after %v, want %d", free, within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBodyReader: a part body reads and seeks like a bytes.Reader until it
// is closed; after that every read fails and nothing reaches the buffer,
// which is what lets a failed request's buffer be reused or unmapped.
func TestBodyReader(t *testing.T) {
	buf := []byte("0123456789")
	r := newBodyReader(buf[:8])
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "01234567" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	if pos, err := r.Seek(2, io.SeekStart); err != nil || pos != 2 {
		t.Fatalf("Seek = %d, %v", pos, err)
	}
	p := make([]byte, 3)
	if n, err := r.Read(p); n != 3 || err != nil || string(p) != "234" {
		t.Fatalf("Read after Seek = %d, %v, %q", n, err, p)
	}
	if pos, err := r.Seek(-1, io.SeekEnd); err != nil || pos != 7 {
		t.Fatalf("Seek from the end = %d, %v", pos, err)
	}
	if _, err := r.Seek(-9, io.SeekCurrent); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
	r.close()
	buf[7] = 'x'
	if n, err := r.Read(p); n != 0 || !errors.Is(err, errBodyClosed) {
		t.Errorf("Read after close = %d, %v; want 0, errBodyClosed", n, err)
	}
	if _, err := r.Seek(0, io.SeekStart); !errors.Is(err, errBodyClosed) {
		t.Errorf("Seek after close = %v; want errBodyClosed", err)
	}
}

// TestBodyReaderCloseWaits: close returns only after a Read in progress has
// finished, so no copy out of the buffer runs after it.
func TestBodyReaderCloseWaits(t *testing.T) {
	r := newBodyReader(make([]byte, 1<<20))
	var reads atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := make([]byte, 4<<10)
		for {
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				return
			}
			if _, err := r.Read(p); err != nil {
				return
			}
			reads.Add(1)
		}
	}()
	for reads.Load() < 100 {
		runtime.Gosched()
	}
	r.close()
	after := reads.Load()
	<-done
	if extra := reads.Load() - after; extra > 1 {
		t.Errorf("%d reads completed after close returned, want at most the one in progress", extra)
	}
}

// TestBufferPoolBody: a full buffer is sent from its memory file on Linux
// (so net/http can use sendfile), with the bytes written into the buffer;
// a partial one through a bodyReader. Closing a request's body (as
// minio-go does) leaves the buffer's own file usable for the next part.
func TestBufferPoolBody(t *testing.T) {
	p := newBufferPool(64<<10, 2, time.Hour)
	b := p.Get()
	for i := range *b {
		(*b)[i] = byte(i * 7)
	}
	for round := range 2 {
		body, done := p.body(*b, len(*b))
		f, isFile := body.(*os.File)
		if runtime.GOOS == "linux" && !isFile {
			t.Fatalf("round %d: a full buffer's body is %T, want its memory file", round, body)
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, *b) {
			t.Fatalf("round %d: full body read %d bytes (%v), want the buffer's %d", round, len(got), err, len(*b))
		}
		if isFile {
			_ = f.Close() // minio-go closes the body it was given
		}
		done()
		(*b)[0]++ // the next part's bytes
	}

	body, done := p.body(*b, 100)
	if _, isFile := body.(*os.File); isFile {
		t.Fatal("a partial buffer's body is a file, whose length would not match Content-Length")
	}
	got, _ := io.ReadAll(body)
	done()
	if !bytes.Equal(got, (*b)[:100]) {
		t.Fatalf("partial body read %d bytes, want the first 100", len(got))
	}
	p.Put(b)
	if p.Get() != b {
		t.Fatal("the buffer was not reused")
	}
}
