//go:build unix

package uploads

import "syscall"

// mapBuffer maps size bytes of anonymous memory, outside the Go heap (see
// bufferPool). Pages are backed only when first written.
func mapBuffer(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space or a mapping limit: the heap still works.
		return make([]byte, size)
	}
	return b
}

// unmapBuffer unmaps a buffer mapBuffer mapped. A heap fallback is left
// to the garbage collector (Munmap refuses memory it did not map).
func unmapBuffer(b []byte) {
	_ = syscall.Munmap(b)
}
