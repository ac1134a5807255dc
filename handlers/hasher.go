package handlers

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sprout-vn/sprout/models"
)

// Hasher runs argon2id with a bound on how many hashes run at once. Each
// one takes 19 MiB for its duration, so a burst of sign-ins on a small
// server would otherwise take memory without limit; extra callers wait
// their turn (or give up when their request is cancelled).
//
// After a burst it hands the hashes' memory back to the system: argon2id's
// 19 MiB blocks are freed when a hash ends, but the Go runtime returns free
// heap to the system only gradually (minutes), and sproutbench measured the
// server at 106 MiB RSS after 16 sign-ins and 154 MiB when uploads began
// right after (docs/BENCHMARKS.md). So once no hash has run for
// releaseAfter, the heap is collected and its free pages returned at once
// (debug.FreeOSMemory: one collection of a small heap, a few milliseconds).
type Hasher struct {
	slots chan struct{}

	mu        sync.Mutex
	lastEnd   time.Time
	releasing *time.Timer // armed while memory waits to be handed back
	released  int         // times memory was handed back (for tests)
}

// releaseAfter is how long no hash must run before their memory is handed
// back to the system.
const releaseAfter = time.Second

// NewHasher lets n hashes run at once.
func NewHasher(n int) *Hasher { return &Hasher{slots: make(chan struct{}, n)} }

func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	if h == nil {
		return func() {}, nil
	}
	select {
	case h.slots <- struct{}{}:
		return func() {
			<-h.slots
			h.ended()
		}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("handlers: waiting to hash a password: %w", ctx.Err())
	}
}

// Hash returns the argon2id hash of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return models.HashPassword(pw)
}

// Verify reports whether pw matches hash.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return models.VerifyPassword(hash, pw)
}

// InUse reports how many hashes are running (for tests).
func (h *Hasher) InUse() int { return len(h.slots) }

// ended arms the hand-back of memory after a hash.
func (h *Hasher) ended() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastEnd = time.Now()
	if h.releasing == nil {
		h.releasing = time.AfterFunc(releaseAfter, h.release)
	}
}

// release hands the heap's free memory back once no hash has run for
// releaseAfter, or waits again.
func (h *Hasher) release() {
	h.mu.Lock()
	if wait := releaseAfter - time.Since(h.lastEnd); wait > 0 || len(h.slots) > 0 {
		h.releasing = time.AfterFunc(max(wait, releaseAfter/4), h.release)
		h.mu.Unlock()
		return
	}
	h.releasing = nil
	h.released++
	h.mu.Unlock()
	debug.FreeOSMemory()
}

// Released reports how many times memory was handed back (for tests).
func (h *Hasher) Released() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.released
}
