package store

import (
	"context"
	"sync/atomic"
	"time"
)

// DBTimer sums the time a request spends waiting on MongoDB, for the
// Server-Timing header.
type DBTimer struct{ ns atomic.Int64 }

// Add records d.
func (t *DBTimer) Add(d time.Duration) { t.ns.Add(int64(d)) }

// Total returns the time recorded so far.
func (t *DBTimer) Total() time.Duration { return time.Duration(t.ns.Load()) }

type dbTimerKey struct{}

// WithDBTimer returns a context whose MongoDB commands are timed into t.
func WithDBTimer(ctx context.Context, t *DBTimer) context.Context {
	return context.WithValue(ctx, dbTimerKey{}, t)
}

// DBTimerFrom returns the timer in ctx, or nil.
func DBTimerFrom(ctx context.Context) *DBTimer {
	if ctx == nil {
		return nil
	}
	t, _ := ctx.Value(dbTimerKey{}).(*DBTimer)
	return t
}
