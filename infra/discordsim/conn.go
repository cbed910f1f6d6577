package discordsim

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// maxQueuedFrames bounds a connection's outbound queue: a client that falls
// this far behind is disconnected (its session stays resumable).
const maxQueuedFrames = 1 << 18

type itemKind uint8

const (
	itemDispatch itemKind = iota
	itemRaw
	itemClose
	itemDrop
	itemPong
)

type outItem struct {
	kind   itemKind
	seq    int
	typ    string
	d      []byte  // raw frames and pongs
	p      payload // dispatches
	code   int
	reason string
}

// gwConn is one gateway websocket. The reader goroutine owns protocol state;
// the writer goroutine owns the socket's write side.
type gwConn struct {
	srv    *Server
	id     uint64
	ws     *websocket.Conn
	nc     net.Conn
	log    *slog.Logger
	fw     *frameWriter
	viaURL string // "gateway" or "resume"

	qmu     sync.Mutex
	queue   []outItem
	closing bool
	wake    chan struct{}
	// unwritten counts dispatches queued or being written (Generate's
	// back-pressure, see Config.GenerateMaxBacklog).
	unwritten atomic.Int64

	readerDone chan struct{}
	done       chan struct{}

	sess   atomic.Pointer[session]
	zombie atomic.Bool

	// reader-goroutine state
	authed    bool
	sendTimes []time.Time
	watchdog  *time.Timer
}

func (c *gwConn) enqueue(it outItem) {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return
	}
	if len(c.queue) >= maxQueuedFrames {
		c.closing = true
		c.queue = append(c.queue[:0], outItem{kind: itemDrop})
	} else {
		if it.kind == itemClose || it.kind == itemDrop {
			c.closing = true
		}
		if it.kind == itemDispatch {
			c.unwritten.Add(1)
		}
		c.queue = append(c.queue, it)
	}
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *gwConn) enqueueDispatch(seq int, typ string, p payload) {
	c.enqueue(outItem{kind: itemDispatch, seq: seq, typ: typ, p: p})
}

func (c *gwConn) sendRaw(b []byte) { c.enqueue(outItem{kind: itemRaw, d: b}) }

// sendACK answers a heartbeat after Config.HeartbeatACKDelay (a network's
// round trip). A connection made a zombie meanwhile sends none.
func (c *gwConn) sendACK() {
	d := c.srv.cfg.HeartbeatACKDelay
	if d <= 0 {
		c.sendRaw(frameACK)
		return
	}
	time.AfterFunc(d, func() {
		if !c.zombie.Load() {
			c.sendRaw(frameACK)
		}
	})
}

// closeWith sends a close frame with code and then closes the socket.
func (c *gwConn) closeWith(code int, reason string) {
	c.srv.stats.closeSent(code)
	c.enqueue(outItem{kind: itemClose, code: code, reason: reason})
}

// drop closes the TCP connection without a close frame.
func (c *gwConn) drop() { c.enqueue(outItem{kind: itemDrop}) }

func (c *gwConn) isClosing() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.closing
}

// writeLoop drains the queue, batching everything queued into one flush.
func (c *gwConn) writeLoop(bw *bufio.Writer) {
	defer c.finish()
	var batch []outItem
	scratch := make([]byte, 0, 4096)
	for {
		select {
		case <-c.wake:
		case <-c.readerDone:
			c.qmu.Lock()
			empty := len(c.queue) == 0
			c.qmu.Unlock()
			if empty {
				return
			}
		}
		c.qmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		c.qmu.Unlock()
		for i := range batch {
			it := &batch[i]
			var err error
			switch it.kind {
			case itemDispatch:
				scratch = appendDispatch(scratch[:0], it.seq, it.typ, it.p)
				err = c.fw.writeMessage(scratch)
				c.unwritten.Add(-1)
			case itemRaw:
				err = c.fw.writeMessage(it.d)
			case itemPong:
				err = c.fw.writeFrame(wsOpPong, it.d)
			case itemClose:
				if err = c.fw.writeClose(it.code, it.reason); err == nil {
					err = bw.Flush()
				}
				if err == nil {
					// Wait for the client's close echo so unread data is not
					// discarded by a TCP reset, but never forever.
					select {
					case <-c.readerDone:
					case <-time.After(2 * time.Second):
					}
				}
				return
			case itemDrop:
				return
			}
			if err != nil {
				return
			}
			*it = outItem{}
		}
		if err := bw.Flush(); err != nil {
			return
		}
		c.srv.signalWritten()
	}
}

func appendDispatch(b []byte, seq int, typ string, d payload) []byte {
	b = append(b, `{"op":0,"s":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"t":"`...)
	b = append(b, typ...)
	b = append(b, `","d":`...)
	b = d.appendTo(b)
	return append(b, '}')
}

// finish runs once when the writer exits: the socket is closed and the
// connection detached from its session, which stays resumable.
func (c *gwConn) finish() {
	c.qmu.Lock()
	c.closing = true
	c.queue = nil
	c.unwritten.Store(0)
	c.qmu.Unlock()
	c.srv.signalWritten()
	_ = c.nc.Close()
	c.fw.release()
	if s := c.sess.Load(); s != nil {
		s.mu.Lock()
		if s.conn == c {
			s.conn = nil
			s.detachedAt, s.detachedSeq = time.Now(), s.seq
		}
		s.mu.Unlock()
	}
	c.srv.untrackConn(c)
	close(c.done)
}

// readLoop reads client payloads until the socket fails or closes.
func (c *gwConn) readLoop() {
	defer close(c.readerDone)
	defer func() {
		if c.watchdog != nil {
			c.watchdog.Stop()
		}
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				// Discord ends the session when the client closes with 1000/1001.
				if s := c.sess.Load(); s != nil {
					c.srv.invalidateSession(s, CauseClientClose)
				}
			}
			c.drop()
			return
		}
		if c.isClosing() {
			continue // drain until the peer's close echo
		}
		c.handlePayload(data)
	}
}

func (c *gwConn) armWatchdog() {
	// A client that misses two heartbeat intervals is gone: 4009, new session.
	timeout := 2*c.srv.cfg.HeartbeatInterval + 250*time.Millisecond
	if c.watchdog == nil {
		c.watchdog = time.AfterFunc(timeout, func() {
			if s := c.sess.Load(); s != nil {
				c.srv.invalidateSession(s, CauseHeartbeatTimeout)
			}
			c.closeWith(4009, "Session timed out")
		})
		return
	}
	c.watchdog.Reset(timeout)
}
