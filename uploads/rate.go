package uploads

import (
	"errors"
	"io"
	"sync"
	"time"
)

// ErrTooSlow means the client sent the upload more slowly than Decks.MinRate
// after the grace period. Map it to 408 and close the connection.
var ErrTooSlow = errors.New("uploads: the upload arrived too slowly")

// MinRate is the slowest an upload may arrive: after Grace spent waiting on
// the client, fewer than BytesPerSecond × Window bytes in the last Window of
// such waiting cut it off with ErrTooSlow. The zero value (BytesPerSecond
// 0) sets no minimum.
//
// Time is counted only while Receive waits in a Read of the body: not while
// it waits for an upload slot or for S3 (the client is held back then, and
// that is not its fault), so a slow storage never makes a client look slow.
type MinRate struct {
	BytesPerSecond int64
	Grace          time.Duration // 0: no grace beyond the first Window
	Window         time.Duration // 0: 5 s
}

// rateGuard is a reader that enforces a MinRate on r. A watcher wakes every
// quarter of the window; when the client is too slow it marks the guard
// tripped and calls cut, which must make a Read blocked on the client
// return (the app sets the connection's read deadline); every Read after
// that fails with ErrTooSlow.
type rateGuard struct {
	r    io.Reader
	rate MinRate
	cut  func()
	now  func() time.Time
	stop chan struct{}
	done sync.Once
	exit chan struct{} // closed when the watcher has returned

	mu      sync.Mutex
	n       int64         // bytes read
	waited  time.Duration // time spent in finished Reads
	since   time.Time     // start of the Read in progress; zero if none
	samples []rateSample  // (waited, n) as the watcher saw them
	tripped bool
}

type rateSample struct {
	waited time.Duration
	n      int64
}

// guardRate wraps r with rate's minimum and starts its watcher; call stop
// when done. With no minimum it returns r and a no-op.
func guardRate(r io.Reader, rate MinRate, cut func()) (io.Reader, func()) {
	if rate.BytesPerSecond <= 0 {
		return r, func() {}
	}
	if rate.Window <= 0 {
		rate.Window = 5 * time.Second
	}
	g := &rateGuard{r: r, rate: rate, cut: cut, now: time.Now, stop: make(chan struct{}), exit: make(chan struct{}),
		samples: []rateSample{{}}}
	go g.watch()
	// Waiting for the watcher means cut is never called once Receive has
	// returned (the connection may be serving the next request by then).
	return g, func() { g.done.Do(func() { close(g.stop) }); <-g.exit }
}

func (g *rateGuard) Read(p []byte) (int, error) {
	g.mu.Lock()
	if g.tripped {
		g.mu.Unlock()
		return 0, ErrTooSlow
	}
	g.since = g.now()
	g.mu.Unlock()
	n, err := g.r.Read(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waited += g.now().Sub(g.since)
	g.since = time.Time{}
	g.n += int64(n)
	if g.tripped {
		// The read was cut short (or ended as the guard tripped).
		return n, ErrTooSlow
	}
	return n, err
}

func (g *rateGuard) watch() {
	defer close(g.exit)
	t := time.NewTicker(max(g.rate.Window/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			if g.check() {
				if g.cut != nil {
					g.cut()
				}
				return
			}
		}
	}
}

// check records a sample and reports whether the guard tripped.
func (g *rateGuard) check() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.waited
	if !g.since.IsZero() {
		w += g.now().Sub(g.since)
	}
	g.samples = append(g.samples, rateSample{waited: w, n: g.n})
	// The newest sample at least a window of waiting old; older ones are
	// not needed again.
	i := -1
	for j, s := range g.samples {
		if s.waited <= w-g.rate.Window {
			i = j
		}
	}
	if i < 0 {
		return false
	}
	g.samples = g.samples[i:]
	if w < g.rate.Grace {
		return false
	}
	want := float64(g.rate.BytesPerSecond) * g.rate.Window.Seconds()
	if float64(g.n-g.samples[0].n) >= want {
		return false
	}
	g.tripped = true
	return true
}
