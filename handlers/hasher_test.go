package handlers

import (
	"context"
	"errors"
	"runtime"
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

// TestHasherReturnsMemory: once a burst of hashes is over, the memory they
// used goes back to the system (once for the whole burst, not per hash),
// so the process's footprint after sign-ins is not argon2id's.
func TestHasherReturnsMemory(t *testing.T) {
	h := NewHasher(4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "mùa xuân trên cao nguyên"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := h.Released(); n != 0 {
		t.Fatalf("memory handed back %d times right after the burst, want it to wait %v", n, releaseAfter)
	}
	// Collected but not handed back: the hashes' blocks are free heap.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	deadline := time.Now().Add(10 * releaseAfter)
	for h.Released() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("memory not handed back %v after the burst", 10*releaseAfter)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if n := h.Released(); n != 1 {
		t.Errorf("memory handed back %d times for one burst, want 1", n)
	}
	// What the heap keeps from the system but does not use.
	idle := func(m *runtime.MemStats) uint64 { return m.HeapIdle - m.HeapReleased }
	t.Logf("heap idle and not released: %d MiB before, %d MiB after", idle(&before)>>20, idle(&after)>>20)
	if idle(&before) < 16<<20 {
		t.Fatalf("only %d MiB of free heap held after four hashes; the test cannot tell", idle(&before)>>20)
	}
	if idle(&after) > 8<<20 {
		t.Errorf("%d MiB of free heap still held after the hand-back, want < 8", idle(&after)>>20)
	}
}
