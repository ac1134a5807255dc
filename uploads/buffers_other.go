//go:build !unix

package uploads

import "os"

// mapBuffer allocates on the heap where there is no mmap.
func mapBuffer(size int) ([]byte, *os.File) { return make([]byte, size), nil }

// unmapBuffer leaves b to the garbage collector.
func unmapBuffer([]byte, *os.File) {}

// dupFile is not needed where buffers have no file.
func dupFile(*os.File) (*os.File, error) { return nil, os.ErrInvalid }
