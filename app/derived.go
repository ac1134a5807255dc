package app

import (
	"context"
	"time"
)

// repairInterval is how often each instance brings up to date the derived
// rows of recently written entries (store.RepairRecent).
const repairInterval = 30 * time.Second

// repairDerived repairs, every repairInterval, the derived rows of entries
// written since the last pass (with a minute of overlap), the first pass
// covering the hour that write claims are kept: a crash between an entry's
// write and its rows' write in any instance is repaired within a minute.
func (a *App) repairDerived(ctx context.Context) {
	defer a.wg.Done()
	t := time.NewTicker(repairInterval)
	defer t.Stop()
	since := a.now().Add(-time.Hour)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			start := a.now()
			n, err := a.store.RepairRecent(ctx, since)
			if err != nil {
				a.log.Warn("repair derived entry rows", "err", err)
				continue
			}
			a.log.Debug("checked derived entry rows", "entries", n)
			since = start.Add(-time.Minute)
		}
	}
}
