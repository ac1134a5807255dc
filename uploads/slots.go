package uploads

// Slots is a counting semaphore of concurrent S3 streams (see Decks.Slots).
type Slots chan struct{}

// NewSlots makes room for n uploads streaming at once.
func NewSlots(n int) Slots { return make(Slots, n) }

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
