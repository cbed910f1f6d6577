package discordsim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Gateway transport compressions, selected by the `compress` query parameter.
const (
	CompressNone = ""
	CompressZstd = "zstd-stream"
	CompressZlib = "zlib-stream"
)

const (
	wsOpText   = 0x1
	wsOpBinary = 0x2
	wsOpClose  = 0x8
	wsOpPong   = 0xA
)

// frameWriter writes server websocket frames straight into a buffered
// connection. Writing frames ourselves (instead of one gorilla write per
// message) lets the writer goroutine batch many dispatches per syscall.
type frameWriter struct {
	bw  *bufio.Writer
	hdr [10]byte

	compress string
	zbuf     bytes.Buffer
	zstdEnc  *zstd.Encoder
	zlibEnc  *zlib.Writer
}

func newFrameWriter(bw *bufio.Writer, compress string) (*frameWriter, error) {
	fw := &frameWriter{bw: bw, compress: compress}
	var err error
	switch compress {
	case CompressNone:
	case CompressZstd:
		// One stream per connection; a small window keeps per-connection memory low.
		fw.zstdEnc, err = zstd.NewWriter(&fw.zbuf, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<17), zstd.WithLowerEncoderMem(true))
	case CompressZlib:
		fw.zlibEnc, err = zlib.NewWriterLevel(&fw.zbuf, zlib.BestSpeed)
	default:
		err = fmt.Errorf("unsupported compress %q", compress)
	}
	return fw, err
}

func (fw *frameWriter) writeFrame(op byte, payload []byte) error {
	h := fw.hdr[:]
	h[0] = 0x80 | op
	n := 2
	switch l := len(payload); {
	case l < 126:
		h[1] = byte(l)
	case l <= 0xFFFF:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(l))
		n = 4
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(l))
		n = 10
	}
	if _, err := fw.bw.Write(h[:n]); err != nil {
		return err
	}
	_, err := fw.bw.Write(payload)
	return err
}

// writeMessage writes one gateway payload. Stream compressions flush after
// every payload so each websocket message decodes to exactly one JSON object,
// which is what Discord does and what disgo's transports expect.
func (fw *frameWriter) writeMessage(msg []byte) error {
	switch fw.compress {
	case CompressZstd:
		fw.zbuf.Reset()
		if _, err := fw.zstdEnc.Write(msg); err != nil {
			return err
		}
		if err := fw.zstdEnc.Flush(); err != nil {
			return err
		}
		return fw.writeFrame(wsOpBinary, fw.zbuf.Bytes())
	case CompressZlib:
		fw.zbuf.Reset()
		if _, err := fw.zlibEnc.Write(msg); err != nil {
			return err
		}
		if err := fw.zlibEnc.Flush(); err != nil { // sync flush ends in 00 00 ff ff
			return err
		}
		return fw.writeFrame(wsOpBinary, fw.zbuf.Bytes())
	default:
		return fw.writeFrame(wsOpText, msg)
	}
}

func (fw *frameWriter) writeClose(code int, reason string) error {
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	b = append(b, reason...)
	return fw.writeFrame(wsOpClose, b)
}

func (fw *frameWriter) release() {
	if fw.zstdEnc != nil {
		_ = fw.zstdEnc.Close()
	}
	if fw.zlibEnc != nil {
		_ = fw.zlibEnc.Close()
	}
}
