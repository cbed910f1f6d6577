package discordsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Duration accepts "1.5s"-style strings or a number of seconds.
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		*d = Duration(v)
		return err
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Ref names a guild, channel, member or message in a scenario: a number is an
// index (guilds in creation order, members in join order with 0 the owner),
// a snowflake is an ID, anything else a channel name or a step's `ref`.
type Ref string

func (r *Ref) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' {
		*r = Ref(bytes.TrimSpace(b))
		return nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	*r = Ref(s)
	return err
}

// Step is one scenario action at offset At from the scenario start.
type Step struct {
	At          Duration         `json:"at"`
	Do          string           `json:"do"`
	Guild       Ref              `json:"guild,omitempty"`
	Channel     Ref              `json:"channel,omitempty"`
	Member      Ref              `json:"member,omitempty"`
	Message     Ref              `json:"message,omitempty"`
	ReplyTo     Ref              `json:"reply_to,omitempty"`
	Content     string           `json:"content,omitempty"`
	Emoji       string           `json:"emoji,omitempty"`
	Name        string           `json:"name,omitempty"`
	Attachments []string         `json:"attachments,omitempty"`
	Embeds      []map[string]any `json:"embeds,omitempty"`
	Options     map[string]any   `json:"options,omitempty"`
	Mute        bool             `json:"mute,omitempty"`
	Deaf        bool             `json:"deaf,omitempty"`
	ChannelType int              `json:"channel_type,omitempty"`
	Role        Ref              `json:"role,omitempty"`
	Fault       *FaultRequest    `json:"fault,omitempty"`
	Shard       int              `json:"shard,omitempty"`
	Timeout     Duration         `json:"timeout,omitempty"`
	// Ref names what the step creates (message, member, thread, channel, interaction).
	Ref string `json:"ref,omitempty"`
}

// Scenario is a scripted sequence of steps for exact end-to-end tests.
type Scenario struct {
	Name string `json:"name"`
	// Guild is the default guild for steps that name none (default: index 0).
	Guild Ref `json:"guild,omitempty"`
	// Speed is simulated seconds per real second; 0 runs steps back to back.
	Speed float64 `json:"speed"`
	Steps []Step  `json:"steps"`
}

// Step actions.
const (
	DoMessage      = "message"
	DoEdit         = "edit"
	DoDelete       = "delete"
	DoReact        = "react"
	DoUnreact      = "unreact"
	DoThread       = "thread"
	DoVoiceJoin    = "voice_join" // also a move when already in voice
	DoVoiceLeave   = "voice_leave"
	DoVoiceSelf    = "voice_self" // mute / deaf
	DoAFK          = "afk"        // move to the guild's AFK channel, muted and deafened
	DoMemberJoin   = "member_join"
	DoMemberLeave  = "member_leave"
	DoMemberRepeat = "member_add_repeat"
	DoRoleAdd      = "role_add"
	DoRoleRemove   = "role_remove"
	DoDMsClose     = "dms_close" // the member closes DMs from the guild's members (see SetMemberDMs)
	DoDMsOpen      = "dms_open"
	DoBotAdd       = "bot_add"
	DoBotRemove    = "bot_remove"
	DoChannel      = "channel_create"
	DoSlash        = "slash_command"
	DoFault        = "fault"
	DoAwaitReady   = "await_ready" // wait for a live session connection on Shard
)

// ParseScenario reads YAML or JSON.
func ParseScenario(data []byte) (*Scenario, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("scenario yaml: %w", err)
		}
		data = j
	}
	var sc Scenario
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	for i, st := range sc.Steps {
		if st.Do == "" {
			return nil, fmt.Errorf("scenario step %d: missing do: %w", i, ErrInvalid)
		}
		if i > 0 && st.At < sc.Steps[i-1].At {
			return nil, fmt.Errorf("scenario step %d: at goes backwards: %w", i, ErrInvalid)
		}
	}
	return &sc, nil
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(b)
}

// ScenarioResult maps step refs to the IDs they created and gives the
// ground truth index range the scenario produced.
type ScenarioResult struct {
	Refs       map[string]ID `json:"refs"`
	FirstIndex uint64        `json:"first_index"`
	LastIndex  uint64        `json:"last_index"`
}

// RunScenario executes sc. The simulated clock is set to start+At for each step.
func (s *Server) RunScenario(ctx context.Context, sc *Scenario) (*ScenarioResult, error) {
	res := &ScenarioResult{Refs: map[string]ID{}, FirstIndex: uint64(s.gt.len()) + 1}
	simStart := s.clock.Now()
	realStart := time.Now()
	for i, st := range sc.Steps {
		if sc.Speed > 0 {
			wait := time.Until(realStart.Add(time.Duration(float64(st.At) / sc.Speed)))
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return res, ctx.Err()
				case <-t.C:
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		s.clock.AdvanceTo(simStart.Add(time.Duration(st.At)))
		if st.Guild == "" {
			st.Guild = sc.Guild
		}
		if err := s.runStep(ctx, st, res.Refs); err != nil {
			return res, fmt.Errorf("scenario %q step %d (%s): %w", sc.Name, i, st.Do, err)
		}
	}
	res.LastIndex = uint64(s.gt.len())
	return res, nil
}

// RunSteps executes steps immediately (the admin API's entry point).
func (s *Server) RunSteps(ctx context.Context, steps []Step) (map[string]ID, error) {
	res, err := s.RunScenario(ctx, &Scenario{Name: "adhoc", Steps: steps})
	if res == nil {
		return nil, err
	}
	return res.Refs, err
}

type resolver struct {
	s    *Server
	refs map[string]ID
}

func (rv resolver) guild(r Ref) (*Guild, error) {
	if r == "" {
		r = "0"
	}
	if id, ok := rv.refs[string(r)]; ok {
		if g := rv.s.world.guilds[id]; g != nil {
			return g, nil
		}
	}
	n, err := strconv.ParseUint(string(r), 10, 64)
	if err != nil {
		return nil, invalid("guild %q: want index or id", r)
	}
	if n < uint64(len(rv.s.world.order)) {
		return rv.s.world.guilds[rv.s.world.order[n]], nil
	}
	if g := rv.s.world.guilds[ID(n)]; g != nil {
		return g, nil
	}
	return nil, notFound("guild", ID(n))
}

func (rv resolver) channel(g *Guild, r Ref) (ID, error) {
	if r == "" {
		r = "general"
	}
	if id, ok := rv.refs[string(r)]; ok {
		return id, nil
	}
	if c := g.channelByName(strings.TrimPrefix(string(r), "#")); c != nil {
		return c.ID, nil
	}
	if id, err := ParseID(string(r)); err == nil {
		return id, nil
	}
	return 0, invalid("channel %q not found", r)
}

func (rv resolver) member(g *Guild, r Ref) (ID, error) {
	if r == "" {
		r = "0"
	}
	if id, ok := rv.refs[string(r)]; ok {
		return id, nil
	}
	if r == "bot" {
		return rv.s.world.appID, nil
	}
	n, err := strconv.ParseUint(string(r), 10, 64)
	if err != nil {
		return 0, invalid("member %q: want index, id, ref or bot", r)
	}
	hs := g.humanMembers()
	if n < uint64(len(hs)) {
		return hs[n].User.ID, nil
	}
	return ID(n), nil
}

func (rv resolver) id(r Ref) (ID, error) {
	if id, ok := rv.refs[string(r)]; ok {
		return id, nil
	}
	id, err := ParseID(string(r))
	if err != nil {
		return 0, invalid("unknown ref %q", r)
	}
	return id, nil
}

func (rv resolver) role(g *Guild, r Ref) (ID, error) {
	for _, role := range g.Roles {
		if role.Name == string(r) {
			return role.ID, nil
		}
	}
	return rv.id(r)
}
