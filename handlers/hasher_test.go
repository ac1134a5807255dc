package handlers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(2)
	var peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := h.acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			if n := int32(h.InUse()); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(20 * time.Millisecond)
			release()
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Fatalf("peak concurrent hashes %d, want ≤ 2", p)
	}
	// Full: a caller whose request ends gives up instead of waiting.
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "mùa xuân trên cao nguyên"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	// A free hasher hashes and verifies.
	h = NewHasher(1)
	hash, err := h.Hash(context.Background(), "mùa xuân trên cao nguyên")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(context.Background(), hash, "mùa xuân trên cao nguyên"); !ok || err != nil {
		t.Fatalf("verify: %v %v", ok, err)
	}
}
