package rules

import "unsafe"

// arena hands out copies of slices carved from shared chunks, as keyArena
// does for keys: one allocation per chunk instead of one or two per event.
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
