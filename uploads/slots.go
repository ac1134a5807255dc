package uploads

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBusy means every upload slot stayed taken for Decks.SlotWait. Map it to
// 503 with a Retry-After: the upload can be sent again in a moment.
var ErrBusy = errors.New("uploads: all upload slots are busy")

// ErrTooManyUploads matches, via errors.Is, every *TooManyUploadsError.
var ErrTooManyUploads = errors.New("uploads: too many uploads in progress for this account")

// TooManyUploadsError means the owner already has Max (Decks.PerOwner)
// uploads in progress. Map it to 429 with a Retry-After.
type TooManyUploadsError struct{ Max int }

func (e *TooManyUploadsError) Error() string {
	return fmt.Sprintf("uploads: %d uploads in progress for this account already", e.Max)
}

// Is makes errors.Is(err, ErrTooManyUploads) work.
func (e *TooManyUploadsError) Is(target error) bool { return target == ErrTooManyUploads }

// Slots is a counting semaphore of concurrent S3 streams (see Decks.Slots).
type Slots chan struct{}

// NewSlots makes room for n uploads streaming at once.
func NewSlots(n int) Slots { return make(Slots, n) }

// acquireSlot takes an upload slot, waiting at most d.SlotWait (ErrBusy)
// or until ctx ends, and returns its release.
func (d *Decks) acquireSlot(ctx context.Context) (release func(), err error) {
	if d.Slots == nil {
		return func() {}, nil
	}
	release = func() { <-d.Slots }
	select {
	case d.Slots <- struct{}{}:
		return release, nil
	default:
	}
	var timeout <-chan time.Time
	if d.SlotWait > 0 {
		t := time.NewTimer(d.SlotWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case d.Slots <- struct{}{}:
		return release, nil
	case <-timeout:
		return nil, fmt.Errorf("uploads: waited %s for an upload slot: %w", d.SlotWait, ErrBusy)
	case <-ctx.Done():
		return nil, fmt.Errorf("uploads: waiting for an upload slot: %w", ctx.Err())
	}
}

// ownerCounts counts the uploads in progress per owner (see Decks.PerOwner).
type ownerCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// acquireOwner counts one more upload of owner, or fails with
// ErrTooManyUploads when it has d.PerOwner already.
func (d *Decks) acquireOwner(owner string) (release func(), err error) {
	if d.PerOwner <= 0 {
		return func() {}, nil
	}
	o := &d.owners
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = make(map[string]int)
	}
	if o.n[owner] >= d.PerOwner {
		return nil, &TooManyUploadsError{Max: d.PerOwner}
	}
	o.n[owner]++
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.n[owner]--; o.n[owner] <= 0 {
			delete(o.n, owner)
		}
	}, nil
}

// partsPerUpload is how many part buffers one upload holds at most: one
// being filled from the client while the other is sent (or both sent at
// once when the client is faster than S3).
const partsPerUpload = 2

// buffers returns the pool of part buffers, made on first use. It keeps at
// most as many free buffers as the upload slots can use at once
// (partsPerUpload per slot; 16 when uploads are not bounded).
func (d *Decks) buffers() *bufferPool {
	d.poolOnce.Do(func() {
		keep := 16
		if d.Slots != nil {
			keep = partsPerUpload * cap(d.Slots)
		}
		d.pool = newBufferPool(int(d.partSize()), keep, defaultIdle)
	})
	return d.pool
}
