package uploads

// BuffersMade reports how many part buffers d has allocated, for tests.
func (d *Decks) BuffersMade() int {
	_, made := d.buffers().stats()
	return made
}

// BuffersBytes reports the memory d's part buffers hold (they live outside
// the Go heap), for tests.
func (d *Decks) BuffersBytes() int64 { return d.buffers().Bytes() }
