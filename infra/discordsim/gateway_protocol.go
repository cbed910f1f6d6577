package discordsim

import (
	"bytes"
	"encoding/json"
	"time"
)

// Gateway opcodes.
const (
	opDispatch            = 0
	opHeartbeat           = 1
	opIdentify            = 2
	opPresenceUpdate      = 3
	opVoiceStateUpdate    = 4
	opResume              = 6
	opReconnect           = 7
	opRequestGuildMembers = 8
	opInvalidSession      = 9
	opHello               = 10
	opHeartbeatACK        = 11
	opRequestSoundboard   = 31
)

// Close codes the simulator sends, as Discord documents them.
const (
	CloseUnknownError         = 4000
	CloseUnknownOpcode        = 4001
	CloseDecodeError          = 4002
	CloseNotAuthenticated     = 4003
	CloseAuthenticationFailed = 4004
	CloseAlreadyAuthenticated = 4005
	CloseInvalidSeq           = 4007
	CloseRateLimited          = 4008
	CloseSessionTimedOut      = 4009
	CloseInvalidShard         = 4010
	CloseShardingRequired     = 4011
	CloseInvalidAPIVersion    = 4012
	CloseInvalidIntents       = 4013
	CloseDisallowedIntents    = 4014
)

// maxPayloadBytes is Discord's limit on client payloads.
const maxPayloadBytes = 4096

var (
	frameACK          = []byte(`{"t":null,"s":null,"op":11,"d":null}`)
	frameReconnect    = []byte(`{"t":null,"s":null,"op":7,"d":null}`)
	frameInvalidFalse = []byte(`{"t":null,"s":null,"op":9,"d":false}`)
	frameInvalidTrue  = []byte(`{"t":null,"s":null,"op":9,"d":true}`)
	nullJSON          = []byte("null")
)

type clientPayload struct {
	Op *int            `json:"op"`
	D  json.RawMessage `json:"d"`
}

// handlePayload validates one client payload and acts on it. Malformed input
// gets the close code Discord would send, never a panic.
func (c *gwConn) handlePayload(data []byte) {
	if len(data) > maxPayloadBytes {
		c.closeWith(CloseDecodeError, "Payload too large")
		return
	}
	var p clientPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Op == nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload")
		return
	}
	if c.rateLimited() {
		c.closeWith(CloseRateLimited, "You are being rate limited")
		return
	}
	switch *p.Op {
	case opHeartbeat:
		var seq *int
		if len(p.D) > 0 && json.Unmarshal(p.D, &seq) != nil {
			c.closeWith(CloseDecodeError, "Error while decoding payload")
			return
		}
		c.srv.stats.heartbeat()
		c.armWatchdog()
		if !c.zombie.Load() {
			c.sendACK()
		}
	case opIdentify:
		if c.authed {
			c.closeWith(CloseAlreadyAuthenticated, "Already authenticated")
			return
		}
		c.srv.handleIdentify(c, p.D)
	case opResume:
		if c.authed {
			c.closeWith(CloseAlreadyAuthenticated, "Already authenticated")
			return
		}
		c.srv.handleResume(c, p.D)
	case opPresenceUpdate, opVoiceStateUpdate, opRequestGuildMembers, opRequestSoundboard:
		if !c.authed {
			c.closeWith(CloseNotAuthenticated, "Not authenticated")
			return
		}
		if len(bytes.TrimSpace(p.D)) == 0 || bytes.Equal(bytes.TrimSpace(p.D), nullJSON) || p.D[0] != '{' {
			c.closeWith(CloseDecodeError, "Error while decoding payload")
			return
		}
		if *p.Op == opRequestGuildMembers {
			c.srv.handleRequestMembers(c, p.D)
		}
		// Presence and voice updates are accepted and ignored: Synapse never sends them.
	default:
		c.closeWith(CloseUnknownOpcode, "Unknown opcode")
	}
}

// rateLimited counts this payload against SendLimit per SendWindow.
func (c *gwConn) rateLimited() bool {
	now := time.Now()
	cut := now.Add(-c.srv.cfg.SendWindow)
	i := 0
	for i < len(c.sendTimes) && c.sendTimes[i].Before(cut) {
		i++
	}
	c.sendTimes = append(c.sendTimes[i:], now)
	return len(c.sendTimes) > c.srv.cfg.SendLimit
}
