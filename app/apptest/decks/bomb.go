package decks

import (
	"bytes"
	"hash/crc32"
)

// deflateZeros returns a raw DEFLATE stream (RFC 1951) that inflates to n
// zero bytes, at the best ratio DEFLATE allows (about 1032:1, as zlib's
// best compression gets): one block with dynamic Huffman codes in which
// "length 258" takes one bit and "distance 1" takes one bit, so that after
// a literal zero every 258 bytes cost two bits. Built directly because
// compressing 2 GiB through compress/flate would take seconds.
//
// Literal/length code: 285 (length 258) → 1 bit, 0 (literal zero) and 256
// (end of block) → 2 bits. Distance code: only code 0 (distance 1), 1 bit.
func deflateZeros(n int64) []byte {
	if n <= 0 {
		// A final fixed-Huffman block holding only end-of-block.
		return []byte{0x03, 0x00}
	}
	w := &bitWriter{}
	w.bits(1, 1) // BFINAL
	w.bits(2, 2) // BTYPE: dynamic Huffman
	w.bits(286-257, 5)
	w.bits(1-1, 5)
	w.bits(18-4, 4) // code length codes sent, in the order below
	// The code-length alphabet: 18 (a run of zeros) → 1 bit, 1 and 2 → 2
	// bits. In RFC 1951's order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1.
	clen := map[int]uint64{18: 1, 1: 2, 2: 2}
	for _, sym := range []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1} {
		w.bits(clen[sym], 3)
	}
	// Canonical codes of the code-length alphabet: 18 → 0, 1 → 10, 2 → 11.
	cl18 := func(zeros int) { w.code(0b0, 1); w.bits(uint64(zeros-11), 7) }
	cl1 := func() { w.code(0b10, 2) }
	cl2 := func() { w.code(0b11, 2) }
	// Literal/length lengths: 0 → 2, 1..255 → 0, 256 → 2, 257..284 → 0,
	// 285 → 1; then the distance length: 0 → 1.
	cl2()
	cl18(138)
	cl18(255 - 138)
	cl2()
	cl18(28)
	cl1()
	cl1()
	// Canonical literal/length codes: 285 → 0, 0 → 10, 256 → 11.
	literal := func() { w.code(0b10, 2) }
	literal()
	n--
	matches, rest := n/258, n%258
	w.zeros(2 * matches) // each: length code 285 (0), distance code 0 (0)
	for range rest {
		literal()
	}
	w.code(0b11, 2) // end of block
	return w.flush()
}

// bitWriter writes DEFLATE's bit stream: values least significant bit
// first, Huffman codes most significant bit first.
type bitWriter struct {
	out  bytes.Buffer
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out.WriteByte(byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes an n-bit Huffman code.
func (w *bitWriter) code(c uint64, n uint) {
	var r uint64
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(r, n)
}

// zeros writes k zero bits.
func (w *bitWriter) zeros(k int64) {
	for k > 0 && w.nacc != 0 {
		w.bits(0, 1)
		k--
	}
	w.out.Write(make([]byte, k/8))
	w.bits(0, uint(k%8))
}

func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.bits(0, 8-w.nacc)
	}
	return w.out.Bytes()
}

// crcZeros is crc32.ChecksumIEEE of n zero bytes, computed by doubling with
// the CRC combination of zlib's crc32_combine instead of hashing n bytes.
func crcZeros(n int64) uint32 {
	one := crc32.ChecksumIEEE([]byte{0})
	var crc uint32 // of the empty string
	var length int64
	for bit := 62; bit >= 0; bit-- {
		if length > 0 {
			crc = crcCombine(crc, crc, length)
			length *= 2
		}
		if n>>bit&1 == 1 {
			crc = crcCombine(crc, one, 1)
			length++
		}
	}
	return crc
}

// crcCombine returns the CRC of A+B from crcA, crcB and len(B).
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	return multModP(x2nModP(lenB, 3), crcA) ^ crcB
}

const crcPoly = 0xedb88320 // reflected

// multModP multiplies a and b modulo the CRC polynomial (reflected bit
// order: 1<<31 is x^0).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2nModP returns x^(n·2^k) modulo the CRC polynomial.
func x2nModP(n int64, k uint) uint32 {
	p := uint32(1) << 31   // x^0
	x2k := uint32(1) << 30 // x^1
	for range k {
		x2k = multModP(x2k, x2k)
	}
	for n != 0 {
		if n&1 != 0 {
			p = multModP(x2k, p)
		}
		n >>= 1
		x2k = multModP(x2k, x2k)
	}
	return p
}
