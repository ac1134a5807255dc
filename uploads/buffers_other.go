//go:build !unix

package uploads

// mapBuffer allocates on the heap where there is no mmap.
func mapBuffer(size int) []byte { return make([]byte, size) }

// unmapBuffer leaves b to the garbage collector.
func unmapBuffer([]byte) {}
