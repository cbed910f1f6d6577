package milestones

import (
	"fmt"
	"strconv"

	"github.com/google/cel-go/cel"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
)

// Requirement kinds.
const (
	ReqCurrency     = "currency"      // balance (or lifetime earned) of a currency ≥ min
	ReqEvents       = "events"        // count of an event type (zone, channel, window) ≥ min
	ReqStreak       = "streak"        // current run of consecutive active days ≥ days
	ReqVoiceMinutes = "voice_minutes" // non-AFK voice minutes ≥ min
	ReqMemberDays   = "member_days"   // days since the member joined ≥ min
	ReqRole         = "role"          // holds a role
	ReqMilestones   = "milestones"    // has earned every milestone in keys
	ReqRank         = "rank"          // live rank in a currency ≤ top
	ReqCEL          = "cel"           // a boolean CEL expression
)

// Requirement is a node of a requirement tree: either a combinator (All or
// Any, non-empty) or a leaf of one Type with that type's fields.
type Requirement struct {
	All []Requirement `json:"all,omitempty"`
	Any []Requirement `json:"any,omitempty"`

	Type string `json:"type,omitempty"`
	// currency, rank
	Currency string `json:"currency,omitempty"`
	// currency: "balance" (default) or "lifetime"
	Field string `json:"field,omitempty"`
	// currency, events, voice_minutes, member_days: the threshold
	Min int64 `json:"min,omitempty"`
	// events
	Event      string `json:"event,omitempty"`
	Zone       string `json:"zone,omitempty"`
	ChannelID  int64  `json:"channel_id,string,omitempty"`
	WindowDays int    `json:"window_days,omitempty"` // only the last N days (today included)
	// streak
	Days   int        `json:"days,omitempty"`
	Active *ActiveDay `json:"active,omitempty"`
	// role
	RoleID int64 `json:"role_id,string,omitempty"`
	// milestones
	Keys []string `json:"keys,omitempty"`
	// rank
	Top int `json:"top,omitempty"`
	// cel
	Expr string `json:"expr,omitempty"`
}

// ActiveDay says what makes a day count for a streak: at least MinEvents
// events of the listed types (default: messages, reactions, threads and
// voice joins; at least 1).
type ActiveDay struct {
	Events    []string `json:"events,omitempty"`
	MinEvents int64    `json:"min_events,omitempty"`
}

var defaultActive = []lake.Type{lake.MessageCreate, lake.ReactionAdd, lake.ThreadCreate, lake.VoiceJoin}

// defaultStreak is the streak the CEL "streak" variable reports.
var defaultStreak = &node{kind: ReqStreak, types: defaultActive, minEvents: 1, activityKey: fmt.Sprint(defaultActive, 1)}

const (
	maxTreeDepth  = 6
	maxTreeNodes  = 50
	maxWindowDays = 366
	maxStreakDays = 366
)

// node is a compiled requirement.
type node struct {
	kind     string
	children []*node
	any      bool

	currencyID int64
	lifetime   bool
	min        int64

	types      []lake.Type
	zone       string // resolved per guild set into channels
	channels   map[int64]bool
	channelID  int64
	windowDays int

	days        int
	minEvents   int64
	activityKey string // streak: identifies (types, minEvents) for memoising

	roleID int64
	keys   []string
	top    int
	prg    cel.Program
}

// compileEnv is what compiling needs from the guild.
type compileEnv struct {
	currencies map[string]int64 // code → id
	zones      map[string][]int64
	cel        *cel.Env
	nodes      int
}

func (c *compileEnv) compile(r Requirement, path string, depth int) (*node, error) {
	c.nodes++
	if c.nodes > maxTreeNodes {
		return nil, apperr.Invalid(path, "a requirement tree has at most %d nodes", maxTreeNodes)
	}
	if depth > maxTreeDepth {
		return nil, apperr.Invalid(path, "requirements nest at most %d deep", maxTreeDepth)
	}
	combos := 0
	if r.All != nil {
		combos++
	}
	if r.Any != nil {
		combos++
	}
	if r.Type != "" {
		combos++
	}
	if combos != 1 {
		return nil, apperr.Invalid(path, "must have exactly one of all, any or type")
	}
	if r.All != nil || r.Any != nil {
		list, name := r.All, "all"
		n := &node{kind: "all"}
		if r.Any != nil {
			list, name, n.kind, n.any = r.Any, "any", "any", true
		}
		if len(list) == 0 {
			return nil, apperr.Invalid(path+"."+name, "must list at least one requirement")
		}
		for i, child := range list {
			cn, err := c.compile(child, path+"."+name+"["+strconv.Itoa(i)+"]", depth+1)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
		}
		return n, nil
	}
	n := &node{kind: r.Type, min: r.Min}
	needMin := func() error {
		if r.Min <= 0 {
			return apperr.Invalid(path+".min", "must be at least 1")
		}
		return nil
	}
	switch r.Type {
	case ReqCurrency, ReqRank:
		id, ok := c.currencies[r.Currency]
		if !ok {
			return nil, apperr.Invalid(path+".currency", "unknown currency %q in this guild", r.Currency)
		}
		n.currencyID = id
		if r.Type == ReqRank {
			if r.Top < 1 || r.Top > 1000 {
				return nil, apperr.Invalid(path+".top", "must be 1 to 1000")
			}
			n.top = r.Top
			return n, nil
		}
		switch r.Field {
		case "", "balance":
		case "lifetime":
			n.lifetime = true
		default:
			return nil, apperr.Invalid(path+".field", "must be balance or lifetime")
		}
		return n, needMin()
	case ReqEvents:
		t, err := lake.ParseType(r.Event)
		if err != nil {
			return nil, apperr.Invalid(path+".event", "unknown event type %q", r.Event)
		}
		n.types = []lake.Type{t}
		if r.Zone != "" && r.ChannelID != 0 {
			return nil, apperr.Invalid(path+".zone", "give a zone or a channel, not both")
		}
		n.zone, n.channelID = r.Zone, r.ChannelID
		if r.WindowDays < 0 || r.WindowDays > maxWindowDays {
			return nil, apperr.Invalid(path+".window_days", "must be 0 (all time) to %d", maxWindowDays)
		}
		n.windowDays = r.WindowDays
		return n, needMin()
	case ReqStreak:
		if r.Days < 1 || r.Days > maxStreakDays {
			return nil, apperr.Invalid(path+".days", "must be 1 to %d", maxStreakDays)
		}
		n.days, n.types, n.minEvents = r.Days, defaultActive, 1
		if r.Active != nil {
			if len(r.Active.Events) > 0 {
				n.types = nil
				for i, name := range r.Active.Events {
					t, err := lake.ParseType(name)
					if err != nil || !lake.IsActivityType(t) {
						return nil, apperr.Invalid(fmt.Sprintf("%s.active.events[%d]", path, i), "not an activity event type: %q", name)
					}
					n.types = append(n.types, t)
				}
			}
			if r.Active.MinEvents < 0 {
				return nil, apperr.Invalid(path+".active.min_events", "must not be negative")
			}
			if r.Active.MinEvents > 0 {
				n.minEvents = r.Active.MinEvents
			}
		}
		n.activityKey = fmt.Sprint(n.types, n.minEvents)
		return n, nil
	case ReqVoiceMinutes, ReqMemberDays:
		return n, needMin()
	case ReqRole:
		if r.RoleID <= 0 {
			return nil, apperr.Invalid(path+".role_id", "a role id is required")
		}
		n.roleID = r.RoleID
		return n, nil
	case ReqMilestones:
		if len(r.Keys) == 0 || len(r.Keys) > 50 {
			return nil, apperr.Invalid(path+".keys", "must list 1 to 50 milestone keys")
		}
		for i, k := range r.Keys {
			if !keyRE.MatchString(k) {
				return nil, apperr.Invalid(fmt.Sprintf("%s.keys[%d]", path, i), "not a milestone key")
			}
		}
		n.keys = r.Keys
		return n, nil
	case ReqCEL:
		prg, err := compileCEL(c.cel, r.Expr)
		if err != nil {
			return nil, apperr.Invalid(path+".expr", "%s", err)
		}
		n.prg = prg
		return n, nil
	}
	return nil, apperr.Invalid(path+".type", "unknown requirement type %q", r.Type)
}

// walk visits every node of a tree.
func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, c := range n.children {
		c.walk(fn)
	}
}
