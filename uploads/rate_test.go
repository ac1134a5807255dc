package uploads

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// blockingReader sends head, then blocks until cut is called.
type blockingReader struct {
	head []byte
	cut  chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	<-b.cut
	return 0, errors.New("i/o timeout")
}

// A client that stops sending is cut off after the grace: the blocked Read
// is interrupted through cut, and every Read fails with ErrTooSlow.
func TestRateGuardCutsOffAStalledClient(t *testing.T) {
	br := &blockingReader{head: make([]byte, 100), cut: make(chan struct{})}
	r, stop := guardRate(br, MinRate{BytesPerSecond: 8 << 10, Grace: 50 * time.Millisecond, Window: 50 * time.Millisecond},
		func() { close(br.cut) })
	defer stop()
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrTooSlow) {
		t.Fatalf("got %v, want ErrTooSlow", err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrTooSlow) {
		t.Fatalf("read after the cut: %v", err)
	}
}

// Time the reader is not waiting on the client (for a slot, for S3) does
// not count against it: a client whose bytes are always there is never
// cut off, however slowly they are taken.
func TestRateGuardCountsOnlyTimeWaitingOnTheClient(t *testing.T) {
	r, stop := guardRate(bytes.NewReader(make([]byte, 12)), MinRate{BytesPerSecond: 1 << 20, Grace: 20 * time.Millisecond, Window: 20 * time.Millisecond},
		func() { t.Error("cut called") })
	defer stop()
	p := make([]byte, 1)
	for {
		_, err := r.Read(p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		time.Sleep(15 * time.Millisecond) // the server is busy elsewhere
	}
}
