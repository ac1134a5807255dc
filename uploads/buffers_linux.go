package uploads

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// mapBuffer makes a part buffer of size bytes outside the Go heap (see
// bufferPool): an anonymous memory file (memfd) mapped shared, so the
// bytes written into the buffer are the file's. A part is then sent from
// the file rather than from the buffer: net/http, given an *os.File body,
// hands it to the socket with sendfile(2), so the kernel moves the pages
// and neither a copy into the transport's 32 KiB buffer nor a copy from it
// into the socket is made (see bufferPool.body). If any step fails, it
// falls back to an anonymous mapping, then to the heap, without a file.
func mapBuffer(size int) ([]byte, *os.File) {
	fd, err := unix.MemfdCreate("sprout-deck-part", unix.MFD_CLOEXEC)
	if err == nil {
		if err = unix.Ftruncate(fd, int64(size)); err == nil {
			b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err == nil {
				return b, os.NewFile(uintptr(fd), "sprout-deck-part")
			}
		}
		_ = unix.Close(fd)
	}
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size), nil
	}
	return b, nil
}

// unmapBuffer unmaps a buffer mapBuffer mapped and closes its file, if it
// has one. A heap fallback is left to the garbage collector (Munmap refuses
// memory it did not map). A request still sending from a duplicate of the
// file keeps the pages until it ends.
func unmapBuffer(b []byte, f *os.File) {
	_ = unix.Munmap(b)
	if f != nil {
		_ = f.Close()
	}
}

// dupFile returns a new descriptor of f's file, for one request: minio-go
// closes a body that is an io.Closer when the request ends, which must not
// close the buffer's own file. The duplicate shares f's offset; a buffer is
// used by one request at a time.
func dupFile(f *os.File) (*os.File, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var dup int
	var dupErr error
	if err := sc.Control(func(fd uintptr) {
		dup, dupErr = unix.FcntlInt(fd, syscall.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	return os.NewFile(uintptr(dup), f.Name()), nil
}
