//go:build unix && !linux

package uploads

import (
	"os"
	"syscall"
)

// mapBuffer maps size bytes of anonymous memory, outside the Go heap (see
// bufferPool). Pages are backed only when first written. There is no file
// behind it (see buffers_linux.go for why there is one on Linux).
func mapBuffer(size int) ([]byte, *os.File) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space or a mapping limit: the heap still works.
		return make([]byte, size), nil
	}
	return b, nil
}

// unmapBuffer unmaps a buffer mapBuffer mapped. A heap fallback is left
// to the garbage collector (Munmap refuses memory it did not map).
func unmapBuffer(b []byte, _ *os.File) {
	_ = syscall.Munmap(b)
}

// dupFile is not needed where buffers have no file.
func dupFile(*os.File) (*os.File, error) { return nil, os.ErrInvalid }
