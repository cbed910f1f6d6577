package rules

import "unsafe"

// arena hands out copies of slices carved from shared chunks: one
// allocation per chunk instead of one or two per event.
// A chunk's elements are written once, when copied in, and never again: a
// copy's capacity ends at its length, so appending to it reallocates
// rather than writing over the next copy. A chunk lives as long as one of
// its copies does.
type arena[T any] struct{ buf []T }

// arenaChunk is the size of a chunk in bytes.
const arenaChunk = 4096

// copyOf returns a copy of src (nil when src is empty).
func (a *arena[T]) copyOf(src []T) []T {
	if len(src) == 0 {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(src) {
		var zero T
		a.buf = make([]T, 0, max(arenaChunk/int(unsafe.Sizeof(zero)), len(src)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, src...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// slab hands out pointers to elements carved from chunks, for effects
// boxed in an Effect by pointer: one allocation per chunk instead of one
// per element. Chunks start small and double up to arenaChunk bytes. Used
// as an arena (never reset), a chunk's elements are never handed out
// twice; reset starts over in the latest chunk, overwriting what was
// handed out before, for storage whose owner is done with it (see
// Engine.EvaluateInto).
type slab[T any] struct{ buf []T }

const slabFirst = 8 // elements in a slab's first chunk

// next returns a pointer to a zeroed element.
func (s *slab[T]) next() *T {
	var zero T
	if len(s.buf) == cap(s.buf) {
		n := max(slabFirst, min(2*cap(s.buf), arenaChunk/int(unsafe.Sizeof(zero))))
		s.buf = make([]T, 0, n)
	}
	s.buf = s.buf[:len(s.buf)+1]
	p := &s.buf[len(s.buf)-1]
	*p = zero
	return p
}

// reset makes the latest chunk's elements available again.
func (s *slab[T]) reset() { s.buf = s.buf[:0] }
