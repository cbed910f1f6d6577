package rules

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// rulesScript runs an event's rules' stateful work in one call. ARGV[1]
// is the number of rules; each rule then gives its numbers of condition
// calls and cap consumptions, and every call its arguments ('f' fire:
// token, at, window, limit, ttl, retention; 'u' cap used: limit;
// consumption: token, amount, limit, ttl), KEYS holding the calls' keys in
// order. fire and consume are fireScript and capScript. It returns, per
// rule, 1 when every condition passed followed by the grants, or 0.
var rulesScript = redis.NewScript(`
local function fire(key, tok, at, win, limit, ttl, ret)
  if redis.call('ZSCORE', key, tok) then return 1 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (at - win - ret + 1))
  local n = redis.call('ZCOUNT', key, at - win + 1, at + win - 1)
  if n >= limit then return 0 end
  redis.call('ZADD', key, at, tok)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  return 1
end
local function consume(key, tok, amount, limit, ttl, evtok)
  local g = redis.call('HGET', key, 't:' .. tok)
  if g then return tonumber(g) end
  local used = tonumber(redis.call('HGET', key, '_used') or '0')
  local grant = math.min(amount, limit - used)
  if grant < 0 then grant = 0 end
  redis.call('HINCRBY', key, '_used', grant)
  redis.call('HSET', key, 't:' .. tok, grant)
  redis.call('HINCRBY', key, 'e:' .. evtok, grant)
  redis.call('PEXPIRE', key, ttl)
  return grant
end
local function used(key, evtok)
  local v = redis.call('HMGET', key, '_used', 'e:' .. evtok)
  return tonumber(v[1] or '0') - tonumber(v[2] or '0')
end
local out, ki, ai = {}, 0, 2
for r = 1, tonumber(ARGV[1]) do
  local nc = tonumber(ARGV[ai])
  local nk = tonumber(ARGV[ai + 1])
  ai = ai + 2
  local ok = 1
  for c = 1, nc do
    ki = ki + 1
    if ARGV[ai] == 'f' then
      if ok == 1 then
        ok = fire(KEYS[ki], ARGV[ai + 1], tonumber(ARGV[ai + 2]), tonumber(ARGV[ai + 3]), tonumber(ARGV[ai + 4]), tonumber(ARGV[ai + 5]), tonumber(ARGV[ai + 6]))
      end
      ai = ai + 7
    else
      if ok == 1 and used(KEYS[ki], ARGV[ai + 2]) >= tonumber(ARGV[ai + 1]) then ok = 0 end
      ai = ai + 3
    end
  end
  out[#out + 1] = ok
  for k = 1, nk do
    ki = ki + 1
    if ok == 1 then
      out[#out + 1] = consume(KEYS[ki], ARGV[ai], tonumber(ARGV[ai + 1]), tonumber(ARGV[ai + 2]), tonumber(ARGV[ai + 3]), ARGV[ai + 4])
    end
    ai = ai + 5
  end
end
return out
`)

var _ pipelineState = (*RedisState)(nil)

// runRules implements batchState: one script call for an event's rules.
func (s *RedisState) runRules(ctx context.Context, rules []batchRule, ops []stateOp) error {
	keys, args := s.rulesArgs(rules, ops)
	out, err := rulesScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return fmt.Errorf("state of %d rules: %w", len(rules), err)
	}
	return rulesReply(rules, ops, out)
}

// runEvents implements pipelineState: the events' script calls in one
// pipeline, run by Redis in order. EVAL, not EVALSHA: a script missing
// from Redis's cache would fail some calls of the pipeline and not others,
// and calls cannot be sent again out of order.
func (s *RedisState) runEvents(ctx context.Context, events []eventCalls) error {
	cmds := make([]*redis.Cmd, len(events))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, ev := range events {
			keys, args := s.rulesArgs(ev.rules, ev.ops)
			cmds[i] = rulesScript.Eval(ctx, p, keys, args...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state of %d events: %w", len(events), err)
	}
	for i, ev := range events {
		out, err := cmds[i].Int64Slice()
		if err != nil {
			return fmt.Errorf("state of %d events: %w", len(events), err)
		}
		if err := rulesReply(ev.rules, ev.ops, out); err != nil {
			return err
		}
	}
	return nil
}

// rulesArgs encodes rules' calls for rulesScript.
func (s *RedisState) rulesArgs(rules []batchRule, ops []stateOp) ([]string, []any) {
	keys := make([]string, 0, len(ops))
	args := make([]any, 0, 1+2*len(rules)+7*len(ops))
	args = append(args, len(rules))
	for _, r := range rules {
		args = append(args, r.condHi-r.condLo, r.hi-r.condHi)
		for _, op := range ops[r.condLo:r.hi] {
			keys = append(keys, op.key.String())
			switch op.kind {
			case opCooldown, opVelocity:
				args = append(args, "f", op.token.String(), op.at.UnixMilli(), op.window.Milliseconds(), op.limit,
					s.ttl(op.at.Add(op.window+Retention), op.window+Retention), Retention.Milliseconds())
			case opCapUsed:
				args = append(args, "u", op.limit, op.token.eventRule().String())
			case opCapConsume:
				args = append(args, op.token.String(), op.amount, op.limit, s.ttl(op.at.Add(24*time.Hour), time.Hour), op.token.eventRule().String())
			}
		}
	}
	return keys, args
}

// rulesReply writes rulesScript's answer into rules and ops.
func rulesReply(rules []batchRule, ops []stateOp, out []int64) error {
	short := fmt.Errorf("state of %d rules: short reply", len(rules))
	for i := range rules {
		r := &rules[i]
		if len(out) == 0 {
			return short
		}
		r.passed, out = out[0] == 1, out[1:]
		if !r.passed {
			continue
		}
		n := r.hi - r.condHi
		if len(out) < n {
			return short
		}
		for j := range n {
			ops[r.condHi+j].grant = out[j]
		}
		out = out[n:]
	}
	if len(out) != 0 {
		return fmt.Errorf("state of %d rules: %s values too many", len(rules), strconv.Itoa(len(out)))
	}
	return nil
}
