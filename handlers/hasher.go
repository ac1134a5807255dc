package handlers

import (
	"context"
	"fmt"

	"github.com/sprout-vn/sprout/models"
)

// Hasher runs argon2id with a bound on how many hashes run at once. Each
// one takes 19 MiB for its duration, so a burst of sign-ins on a small
// server would otherwise take memory without limit; extra callers wait
// their turn (or give up when their request is cancelled).
type Hasher struct {
	slots chan struct{}
}

// NewHasher lets n hashes run at once.
func NewHasher(n int) *Hasher { return &Hasher{slots: make(chan struct{}, n)} }

func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	if h == nil {
		return func() {}, nil
	}
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
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
