package decks

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"unicode/utf16"
)

// peExecutable is the start of a Windows executable: an MS-DOS header whose
// e_lfanew points at a PE signature and a COFF header (x86-64, no
// sections) and a PE32+ optional header, then int3 padding to 4 KiB.
// debug/pe parses it.
func peExecutable() []byte {
	b := make([]byte, 0x40)
	copy(b, "MZ")
	binary.LittleEndian.PutUint16(b[2:], 0x90)    // bytes on the last page
	binary.LittleEndian.PutUint16(b[4:], 3)       // pages
	binary.LittleEndian.PutUint16(b[8:], 4)       // header paragraphs
	binary.LittleEndian.PutUint32(b[0x3c:], 0x40) // e_lfanew
	b = append(b, "PE\x00\x00"...)
	coff := make([]byte, 20)
	binary.LittleEndian.PutUint16(coff[0:], 0x8664)     // Machine: AMD64
	binary.LittleEndian.PutUint16(coff[2:], 0)          // NumberOfSections
	binary.LittleEndian.PutUint32(coff[4:], 0x695b3c00) // TimeDateStamp
	binary.LittleEndian.PutUint16(coff[16:], 240)       // SizeOfOptionalHeader: PE32+ with 16 directories
	binary.LittleEndian.PutUint16(coff[18:], 0x0022)    // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
	b = append(b, coff...)
	opt := make([]byte, 240)
	binary.LittleEndian.PutUint16(opt[0:], 0x20b)        // Magic: PE32+
	binary.LittleEndian.PutUint32(opt[16:], 0x1000)      // AddressOfEntryPoint
	binary.LittleEndian.PutUint64(opt[24:], 0x140000000) // ImageBase
	binary.LittleEndian.PutUint32(opt[32:], 0x1000)      // SectionAlignment
	binary.LittleEndian.PutUint32(opt[36:], 0x200)       // FileAlignment
	binary.LittleEndian.PutUint16(opt[40:], 6)           // MajorOperatingSystemVersion
	binary.LittleEndian.PutUint16(opt[48:], 6)           // MajorSubsystemVersion
	binary.LittleEndian.PutUint32(opt[56:], 0x2000)      // SizeOfImage
	binary.LittleEndian.PutUint32(opt[60:], 0x200)       // SizeOfHeaders
	binary.LittleEndian.PutUint16(opt[68:], 3)           // Subsystem: Windows console
	binary.LittleEndian.PutUint64(opt[72:], 0x100000)    // SizeOfStackReserve
	binary.LittleEndian.PutUint64(opt[80:], 0x1000)      // SizeOfStackCommit
	binary.LittleEndian.PutUint64(opt[88:], 0x100000)    // SizeOfHeapReserve
	binary.LittleEndian.PutUint64(opt[96:], 0x1000)      // SizeOfHeapCommit
	binary.LittleEndian.PutUint32(opt[108:], 16)         // NumberOfRvaAndSizes
	b = append(b, opt...)
	return append(b, bytes.Repeat([]byte{0xcc}, 4096-len(b))...) // int3
}

// pngImage is a 1×1 green PNG.
func pngImage() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{0x3b, 0x7a, 0x57, 0xff})
	var buf bytes.Buffer
	must(png.Encode(&buf, img))
	return buf.Bytes()
}

// oleFile is a Compound File Binary (version 3, 512-byte sectors) laid out
// as password-protected Office documents are: a root storage holding empty
// EncryptionInfo and EncryptedPackage streams. Sector 0 is the FAT, sector
// 1 the directory. (A vbaProject.bin is a compound file too.)
func oleFile() []byte {
	const (
		freeSect   = 0xffffffff
		endOfChain = 0xfffffffe
		fatSect    = 0xfffffffd
		noStream   = 0xffffffff
	)
	le := binary.LittleEndian
	h := make([]byte, 512)
	copy(h, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	le.PutUint16(h[0x18:], 0x003e) // minor version
	le.PutUint16(h[0x1a:], 0x0003) // major version
	le.PutUint16(h[0x1c:], 0xfffe) // byte order
	le.PutUint16(h[0x1e:], 9)      // sector shift: 512
	le.PutUint16(h[0x20:], 6)      // mini sector shift: 64
	le.PutUint32(h[0x2c:], 1)      // FAT sectors
	le.PutUint32(h[0x30:], 1)      // first directory sector
	le.PutUint32(h[0x38:], 4096)   // mini stream cutoff
	le.PutUint32(h[0x3c:], endOfChain)
	le.PutUint32(h[0x44:], endOfChain)
	le.PutUint32(h[0x4c:], 0) // DIFAT[0]: the FAT is sector 0
	for i := 1; i < 109; i++ {
		le.PutUint32(h[0x4c+4*i:], freeSect)
	}
	fat := make([]byte, 512)
	for i := range 128 {
		le.PutUint32(fat[4*i:], freeSect)
	}
	le.PutUint32(fat[0:], fatSect)
	le.PutUint32(fat[4:], endOfChain)
	dir := make([]byte, 512)
	dirEntry := func(i int, name string, typ byte, left, right, child uint32) {
		e := dir[128*i : 128*(i+1)]
		if name != "" {
			for j, u := range utf16.Encode([]rune(name)) {
				le.PutUint16(e[2*j:], u)
			}
			le.PutUint16(e[64:], uint16(2*(len(name)+1)))
		}
		e[66], e[67] = typ, 1 // type, black
		le.PutUint32(e[68:], left)
		le.PutUint32(e[72:], right)
		le.PutUint32(e[76:], child)
		if typ != 0 {
			le.PutUint32(e[116:], endOfChain) // start sector; size 0
		}
	}
	dirEntry(0, "Root Entry", 5, noStream, noStream, 1)
	dirEntry(1, "EncryptionInfo", 2, noStream, 2, noStream)
	dirEntry(2, "EncryptedPackage", 2, noStream, noStream, noStream)
	dirEntry(3, "", 0, noStream, noStream, noStream)
	return append(append(h, fat...), dir...)
}
