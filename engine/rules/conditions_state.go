package rules

import (
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Cooldown scopes and cap periods/scopes as written in params.
const (
	perUser    = "user"
	perChannel = "channel"
	perGuild   = "guild"
	periodDay  = "day"
	periodWeek = "week"
	scopeRule  = "rule"
	scopeAll   = "currency"
)

// --- cooldown

func compileCooldown(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Seconds int64  `json:"seconds"`
		Per     string `json:"per"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Seconds < 1 || p.Seconds > 30*86400 {
		return nil, apperr.Invalid(path+".seconds", "must be between 1 and 2592000 (30 days)")
	}
	// The scope is one of the constants, not the decoded string, so that
	// MemoryState matches the keys of a member's cooldowns under every
	// rule by comparing pointers.
	switch p.Per {
	case "", perUser:
		p.Per = perUser
	case perChannel:
		p.Per = perChannel
	case perGuild:
		p.Per = perGuild
	default:
		return nil, apperr.Invalid(path+".per", "must be user, channel or guild")
	}
	return &cooldown{window: time.Duration(p.Seconds) * time.Second, per: p.Per}, nil
}

// cooldown is the cooldown condition: one State call, made now (Eval) or
// sent with the rest of the event's (appendOps).
type cooldown struct {
	window time.Duration
	per    string
}

func (c *cooldown) key(ec *evalCtx) Key {
	var who int64
	switch c.per {
	case perUser:
		who = ec.ev.UserID
	case perChannel:
		who = ec.ev.ChannelID
	}
	return Key{Kind: "cd", Guild: ec.set.GuildID, Rule: ec.rule.ID, Scope: c.per, A: who}
}

// Eval makes the call on a held MemoryState directly, key and token in
// place.
func (c *cooldown) Eval(ec *evalCtx) (bool, error) {
	key := c.key(ec)
	s := ec.state()
	if h, ok := s.(*memoryHeld); ok {
		return (*MemoryState)(h).fire(&key, &ec.token, ec.ev.OccurredAt, c.window, 1), nil
	}
	ok, err := s.Cooldown(ec.ctx, key, ec.token, ec.ev.OccurredAt, c.window)
	return ok, infra(err)
}

func (c *cooldown) appendOps(ec *evalCtx, ops []stateOp) []stateOp {
	return append(ops, stateOp{kind: opCooldown, key: c.key(ec), token: ec.token, at: ec.ev.OccurredAt, window: c.window, limit: 1})
}

// --- reaction_velocity

func compileReactionVelocity(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Limit         int   `json:"limit"`
		WindowSeconds int64 `json:"window_seconds"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Limit < 1 || p.Limit > 1000 {
		return nil, apperr.Invalid(path+".limit", "must be between 1 and 1000")
	}
	if p.WindowSeconds < 1 || p.WindowSeconds > 7*86400 {
		return nil, apperr.Invalid(path+".window_seconds", "must be between 1 and 604800 (7 days)")
	}
	if err := cc.requireTriggers(path, CondReactionVelocity, "reaction_add"); err != nil {
		return nil, err
	}
	return reactionVelocity{limit: int64(p.Limit), window: time.Duration(p.WindowSeconds) * time.Second}, nil
}

// reactionVelocity passes a reaction when its reactor has not reacted to
// the same message within the window (removing and re-adding a reaction,
// or adding a second emoji, earns nothing twice), and has given the
// message's author fewer than limit reactions within it. The message
// check comes first, so a toggle does not spend the author allowance; it
// is skipped when the message is unknown (events replayed from lake
// history, which does not keep it).
type reactionVelocity struct {
	limit  int64
	window time.Duration
}

func (v reactionVelocity) ops(ec *evalCtx, ops []stateOp) []stateOp {
	ev := ec.ev
	if ev.MessageID != 0 {
		key := Key{Kind: "velmsg", Guild: ec.set.GuildID, Rule: ec.rule.ID, A: ev.UserID, B: ev.MessageID}
		ops = append(ops, stateOp{kind: opCooldown, key: key, token: ec.token, at: ev.OccurredAt, window: v.window, limit: 1})
	}
	key := Key{Kind: "vel", Guild: ec.set.GuildID, Rule: ec.rule.ID, A: ev.UserID, B: ev.TargetID}
	return append(ops, stateOp{kind: opVelocity, key: key, token: ec.token, at: ev.OccurredAt, window: v.window, limit: v.limit})
}

func (v reactionVelocity) Eval(ec *evalCtx) (bool, error) {
	var buf [2]stateOp
	for _, op := range v.ops(ec, buf[:0]) {
		if ok, err := op.run(ec); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

func (v reactionVelocity) appendOps(ec *evalCtx, ops []stateOp) []stateOp { return v.ops(ec, ops) }

// --- cap

// capCondition limits what a rule credits of one currency per recipient per
// day or week. As a condition it stops the rule once the cap is reached;
// credits of the currency are then clipped to what is left.
type capCondition struct {
	Currency string
	Limit    int64
	Period   string
	Scope    string
	path     string
	scope    string   // Key.Scope: currency and period
	tos      []string // recipients ("actor", "target") of this rule's credits in Currency
}

func compileCap(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Currency string `json:"currency"`
		Limit    int64  `json:"limit"`
		Period   string `json:"period"`
		Scope    string `json:"scope"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if !validCurrency(p.Currency) {
		return nil, apperr.Invalid(path+".currency", "must be a currency code")
	}
	if p.Limit < 1 {
		return nil, apperr.Invalid(path+".limit", "must be at least 1")
	}
	if p.Period == "" {
		p.Period = periodDay
	}
	if p.Period != periodDay && p.Period != periodWeek {
		return nil, apperr.Invalid(path+".period", "must be day or week")
	}
	if p.Scope == "" {
		p.Scope = scopeRule
	}
	if p.Scope != scopeRule && p.Scope != scopeAll {
		return nil, apperr.Invalid(path+".scope", "must be rule or currency")
	}
	for _, other := range cc.caps {
		if other.Currency == p.Currency {
			return nil, apperr.Invalid(path+".currency", "is already capped by another condition of this rule")
		}
	}
	c := &capCondition{Currency: p.Currency, Limit: p.Limit, Period: p.Period, Scope: p.Scope, path: path, scope: p.Currency + ":" + p.Period}
	cc.caps = append(cc.caps, c)
	return c, nil
}

// appendOps checks every recipient's headroom, as Eval does.
func (c *capCondition) appendOps(ec *evalCtx, ops []stateOp) []stateOp {
	for _, to := range c.tos {
		key, _ := c.key(ec, ec.recipient(to))
		ops = append(ops, stateOp{kind: opCapUsed, key: key, token: c.token(ec), limit: c.Limit})
	}
	return ops
}

func (c *capCondition) key(ec *evalCtx, user int64) (Key, time.Time) {
	start, end := ec.periodOf(c.Period)
	k := Key{Kind: "cap", Guild: ec.set.GuildID, Scope: c.scope, A: user, B: start.Unix()}
	if c.Scope == scopeRule {
		k.Rule = ec.rule.ID
	}
	return k, end
}

// token is the event and rule whose own grants the headroom check ignores
// (a retried task is not refused by what its first run consumed).
func (c *capCondition) token(ec *evalCtx) Token {
	t := ec.token
	t.Rule = ec.rule.ID
	return t.eventRule()
}

// Eval passes while every recipient of the capped credits has headroom.
func (c *capCondition) Eval(ec *evalCtx) (bool, error) {
	for _, to := range c.tos {
		key, _ := c.key(ec, ec.recipient(to))
		token := c.token(ec)
		used, err := ec.capUsed(&key, &token)
		if err != nil {
			return false, infra(err)
		}
		if used >= c.Limit {
			return false, nil
		}
	}
	return true, nil
}

// clip consumes the cap for one credit and returns what may be credited.
// An event evaluated in one round trip (ec.batching) queues the
// consumption instead and credits amount until the grant comes back.
func (c *capCondition) clip(ec *evalCtx, user int64, amount int64, effectIndex int) (int64, error) {
	key, end := c.key(ec, user)
	token := ec.token
	token.Rule, token.Effect = ec.rule.ID, effectIndex
	if ec.batching {
		ec.ops = append(ec.ops, stateOp{kind: opCapConsume, key: key, token: token, amount: amount, limit: c.Limit, at: end, effect: -1})
		return amount, nil
	}
	g, err := ec.capConsume(&key, &token, amount, c.Limit, end)
	return g, infra(err)
}
