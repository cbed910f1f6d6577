package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// TypeDiscordAction is one REST call a rule asked for.
const (
	TypeDiscordAction = "discord:action"
	QueueDiscord      = "discord"
)

// actionRetention keeps finished action tasks so that a rule effect
// enqueued again within a day (a retried rules task) is recognised by its
// task id and not applied twice.
const actionRetention = 24 * time.Hour

// actionPayload is a queued action.
type actionPayload struct {
	TenantID int64           `json:"tenant_id,string"`
	Kind     string          `json:"kind"`
	Action   json.RawMessage `json:"action"`
	// Expires is set on the removal a timed grant scheduled: the grant's
	// expiry, which the removal compares with the member's grant record.
	Expires *time.Time `json:"expires,omitempty"`
}

// ActionQueue is the Discord action queue: rule effects become asynq tasks
// keyed by their idempotency key, executed by ActionHandler through
// disgo's REST client, which follows Discord's rate-limit buckets and
// Retry-After. Role grants are also recorded in Redis (see roleGrants).
type ActionQueue struct {
	client *asynq.Client
	grants roleGrants
}

// NewActionQueue enqueues through client and records role grants in rdb
// (the Redis asynq uses, or any other the ActionHandler reads too).
func NewActionQueue(client *asynq.Client, rdb redis.UniversalClient) *ActionQueue {
	return &ActionQueue{client: client, grants: roleGrants{rdb: rdb}}
}

var _ rules.DiscordActions = (*ActionQueue)(nil)

// ErrNoIdempotencyKey refuses an action whose Origin names neither a rule
// effect nor a fixed key: its task id would be "discord:" for every such
// action, and all but the first would be dropped as duplicates.
var ErrNoIdempotencyKey = errors.New("discord action has no idempotency key")

// Enqueue implements rules.DiscordActions. An action without an
// idempotency key is refused (ErrNoIdempotencyKey) after the others are
// queued, so one bad action does not hold back the rest.
func (q *ActionQueue) Enqueue(ctx context.Context, tenantID int64, actions []rules.DiscordAction) error {
	var refused []error
	for _, a := range actions {
		key := a.Meta().IdempotencyKey()
		if key == "" {
			refused = append(refused, fmt.Errorf("%s in guild %d (tenant %d): %w", a.Kind(), a.Meta().GuildID, tenantID, ErrNoIdempotencyKey))
			continue
		}
		switch a := a.(type) {
		case rules.GrantRole:
			// Recorded before anything is queued: a grant whose record failed
			// is retried whole, so no earlier removal can outrun it.
			if err := q.grants.record(ctx, tenantID, a); err != nil {
				return err
			}
			if _, err := q.enqueue(ctx, tenantID, a, key, nil); err != nil {
				return err
			}
			if a.ExpiresAt != nil {
				expire := rules.RemoveRole{Origin: a.Origin, UserID: a.UserID, RoleID: a.RoleID}
				if _, err := q.enqueue(ctx, tenantID, expire, key+".expire", a.ExpiresAt, asynq.ProcessAt(*a.ExpiresAt)); err != nil {
					return err
				}
			}
		case rules.RemoveRole:
			added, err := q.enqueue(ctx, tenantID, a, key, nil)
			if err != nil {
				return err
			}
			if added { // not a replay, which could forget a grant made since
				if err := q.grants.forget(ctx, tenantID, a.GuildID, a.UserID, a.RoleID); err != nil {
					return err
				}
			}
		default:
			if _, err := q.enqueue(ctx, tenantID, a, key, nil); err != nil {
				return err
			}
		}
	}
	return errors.Join(refused...)
}

// enqueue queues a as task "discord:<key>" and reports whether it is new
// (false: a task of that id is queued or was done within actionRetention).
// expires marks the removal of a timed grant.
func (q *ActionQueue) enqueue(ctx context.Context, tenantID int64, a rules.DiscordAction, key string, expires *time.Time, opts ...asynq.Option) (bool, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	payload, err := json.Marshal(actionPayload{TenantID: tenantID, Kind: a.Kind(), Action: body, Expires: expires})
	if err != nil {
		return false, err
	}
	opts = append(opts, asynq.Queue(QueueDiscord), asynq.TaskID("discord:"+key), asynq.Retention(actionRetention), asynq.MaxRetry(10))
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(TypeDiscordAction, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil // already queued or done
	}
	return err == nil, err
}

// roleGrants keeps, per member and role, what the grants made so far give
// while a timed grant's removal is pending: the latest expiry, or
// "permanent". The removal a timed grant schedules checks it when it runs
// and does nothing if a grant since gave the role for longer.
//
// Why a record checked when the removal runs, not the scheduled removal
// replaced through asynq's Inspector: the record only ever grows (the
// latest expiry wins, permanent beats any), so the outcome does not depend
// on the order grants arrive in. A guild's batches are evaluated by several
// workers at once and a retried rules task enqueues its grants again;
// deleting and re-scheduling a removal would race with another worker
// doing the same, or with the removal already running, and a replayed
// older grant would bring the earlier expiry back.
//
// A record lives only while a removal may still need it (its expiry plus
// roleGrantMargin), so a permanent grant is recorded only over a pending
// timed one: a member given a role permanently, with no timed grant of it
// pending, keeps no key, and a timed grant made later expires as granted.
type roleGrants struct {
	rdb redis.UniversalClient
}

// roleGrantMargin is how late a removal may run (asynq retries, workers
// down) and still find its grant's record.
const roleGrantMargin = 7 * 24 * time.Hour

// rolePermanent is the record of a permanent grant.
const rolePermanent = "p"

func roleGrantKey(tenantID, guildID, userID, roleID int64) string {
	return fmt.Sprintf("synapse:rolegrant:%d:%d:%d:%d", tenantID, guildID, userID, roleID)
}

// recordGrantScript merges a grant (ARGV[1]: expiry in Unix ms, or "p")
// into the record, which must outlive ARGV[2] ms: a permanent grant
// overwrites a pending record, keeping its lifetime; a timed one raises
// the expiry, or only the lifetime when the record already gives more.
var recordGrantScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == 'p' then
	if cur then redis.call('SET', KEYS[1], 'p', 'KEEPTTL') end
	return 0
end
local ttl = tonumber(ARGV[2])
if cur == 'p' or (cur and tonumber(cur) >= tonumber(ARGV[1])) then
	if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
	return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`)

func (r roleGrants) record(ctx context.Context, tenantID int64, g rules.GrantRole) error {
	val, ttl := rolePermanent, int64(0)
	if g.ExpiresAt != nil {
		val = strconv.FormatInt(g.ExpiresAt.UnixMilli(), 10)
		ttl = max(time.Until(*g.ExpiresAt), 0).Milliseconds() + roleGrantMargin.Milliseconds()
	}
	key := roleGrantKey(tenantID, g.GuildID, g.UserID, g.RoleID)
	if err := recordGrantScript.Run(ctx, r.rdb, []string{key}, val, ttl).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("record role grant: %w", err)
	}
	return nil
}

// forget drops the record when a rule removes the role outright: a timed
// grant made after it starts afresh instead of being outlasted by a
// permanent grant made before.
func (r roleGrants) forget(ctx context.Context, tenantID, guildID, userID, roleID int64) error {
	if err := r.rdb.Del(ctx, roleGrantKey(tenantID, guildID, userID, roleID)).Err(); err != nil {
		return fmt.Errorf("forget role grant: %w", err)
	}
	return nil
}

// superseded reports whether a grant made after the one expiring at
// expires gave the role for longer (or for good). No record means none
// did, or the role was removed since: the removal goes ahead.
func (r roleGrants) superseded(ctx context.Context, tenantID, guildID, userID, roleID int64, expires time.Time) (bool, error) {
	cur, err := r.rdb.Get(ctx, roleGrantKey(tenantID, guildID, userID, roleID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read role grant: %w", err)
	case cur == rolePermanent:
		return true, nil
	}
	ms, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return false, nil // unreadable: remove as granted
	}
	return ms > expires.UnixMilli(), nil
}

// ActionHandler performs queued actions against Discord's REST API.
type ActionHandler struct {
	rest    rest.Rest
	grants  roleGrants
	members *tenants.Store
	log     *slog.Logger
	results *prometheus.CounterVec
	// outcomes, when set, hears how each rule's action fared (see
	// ruleFault); nil: refusals are only logged.
	outcomes rules.EffectReporter
}

// NewActionHandler calls Discord (or discordsim) through r, reads the
// role grants the ActionQueue records in rdb, and reads members' flags
// from members before a DM.
func NewActionHandler(r rest.Rest, rdb redis.UniversalClient, members *tenants.Store, log *slog.Logger, reg prometheus.Registerer) *ActionHandler {
	h := &ActionHandler{rest: r, grants: roleGrants{rdb: rdb}, members: members, log: log, results: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "synapse_discord_actions_total", Help: "Discord actions performed, by kind and result."}, []string{"kind", "result"})}
	reg.MustRegister(h.results)
	return h
}

// Register mounts the handler on mux.
func (h *ActionHandler) Register(mux *asynq.ServeMux) { mux.HandleFunc(TypeDiscordAction, h.handle) }

func (h *ActionHandler) handle(ctx context.Context, t *asynq.Task) error {
	var p actionPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("action payload: %w: %w", err, asynq.SkipRetry)
	}
	if p.Expires != nil {
		skip, err := h.expirySuperseded(ctx, p)
		if err != nil {
			h.results.WithLabelValues(p.Kind, "retry").Inc()
			return err
		}
		if skip {
			h.results.WithLabelValues(p.Kind, "superseded").Inc()
			return nil
		}
	}
	if p.Kind == rules.EffectDM {
		unwanted, err := h.dmUnwanted(ctx, p)
		if err != nil {
			h.results.WithLabelValues(p.Kind, "retry").Inc()
			return err
		}
		if unwanted != nil {
			// Neither performed nor the rule's failure: not reported.
			h.results.WithLabelValues(p.Kind, "skipped").Inc()
			h.log.Info("dm skipped: the member opted out of DMs or is a bot", slog.Int64("tenant_id", p.TenantID),
				slog.Int64("guild_id", unwanted.GuildID), slog.Int64("user_id", unwanted.UserID), slog.Int64("rule_id", unwanted.RuleID))
			return nil
		}
	}
	err := h.do(p)
	var rerr *rest.Error
	switch {
	case err == nil:
		h.results.WithLabelValues(p.Kind, "ok").Inc()
		h.report(ctx, p, nil)
		return nil
	case errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode >= 400 && rerr.Response.StatusCode < 500 &&
		rerr.Response.StatusCode != http.StatusTooManyRequests:
		// Missing permission, unknown member or channel: retrying will not help.
		h.results.WithLabelValues(p.Kind, "refused").Inc()
		if memberRefusal(rerr.Code) {
			// The member's doing (left, closed their DMs), as routine as a
			// delivered action: done, not archived as a failed task, where
			// it would crowd out the failures an operator has to look at.
			h.log.Info("discord refused an action for the member's own reasons", slog.String("kind", p.Kind),
				slog.Int64("tenant_id", p.TenantID), slog.Int("code", int(rerr.Code)), slog.String("message", rerr.Message))
			return nil
		}
		h.log.Warn("discord refused an action", slog.String("kind", p.Kind), slog.Int64("tenant_id", p.TenantID),
			slog.Int("status", rerr.Response.StatusCode), slog.String("message", rerr.Message))
		if ruleFault(rerr.Code) {
			h.report(ctx, p, fmt.Errorf("%s: %s (code %d)", p.Kind, rerr.Message, rerr.Code))
		}
		return fmt.Errorf("%s: %w: %w", p.Kind, err, asynq.SkipRetry)
	default:
		h.results.WithLabelValues(p.Kind, "retry").Inc()
		return err
	}
}

// memberRefusal reports whether a refusal is the member's doing: gone
// from the guild or from Discord, or not taking DMs from the bot.
func memberRefusal(code rest.JSONErrorCode) bool {
	switch code {
	case rest.JSONErrorCodeUnknownMember, rest.JSONErrorCodeUnknownUser, rest.JSONErrorCodeCannotSendMessagesToThisUser:
		return true
	}
	return false
}

// ruleFault reports whether a refusal is the rule's (or its guild's
// configuration's) doing, the same for every member: a channel or role
// that no longer exists, or the bot lacking access or permission. Those
// count as the rule's failure. A member who left or closed their DMs is
// not: the rule is fine for the others.
func ruleFault(code rest.JSONErrorCode) bool {
	switch code {
	case rest.JSONErrorCodeUnknownChannel, rest.JSONErrorCodeUnknownRole,
		rest.JSONErrorCodeMissingAccess, rest.JSONErrorCodeLackPermissionsToPerformAction:
		return true
	}
	return false
}

// report tells h.outcomes how a rule's action fared (err nil: performed).
// Actions no rule planned (announcements: a fixed key) are not reported.
func (h *ActionHandler) report(ctx context.Context, p actionPayload, err error) {
	if h.outcomes == nil {
		return
	}
	var o rules.Origin
	if json.Unmarshal(p.Action, &o) != nil || o.RuleID == 0 || o.FixedKey != "" {
		return
	}
	h.outcomes.ReportEffects(ctx, p.TenantID, rules.SinkDiscord,
		[]rules.EffectOutcome{{GuildID: o.GuildID, RuleID: o.RuleID, Version: o.RuleVersion, Err: err}})
}

// expirySuperseded reports whether the removal p, scheduled by a timed
// grant, is to be skipped because the role was granted again since.
func (h *ActionHandler) expirySuperseded(ctx context.Context, p actionPayload) (bool, error) {
	var a rules.RemoveRole
	if p.Kind != rules.EffectRemoveRole || json.Unmarshal(p.Action, &a) != nil {
		return false, nil // do reports it
	}
	return h.grants.superseded(ctx, p.TenantID, a.GuildID, a.UserID, a.RoleID, *p.Expires)
}

// dmUnwanted returns the DM p when its recipient may not be sent it now:
// they opted out of DMs, or are a bot. The DM was planned only if neither
// held then, but the queue sends it later (behind Discord's rate limits,
// retries, workers down), and an opt-out made meanwhile is honoured too.
// A member Synapse has no row for is sent the DM, as planning did.
func (h *ActionHandler) dmUnwanted(ctx context.Context, p actionPayload) (*rules.DM, error) {
	var a rules.DM
	if json.Unmarshal(p.Action, &a) != nil {
		return nil, nil // do reports it
	}
	m, err := h.members.ForTenant(p.TenantID).Members().Get(ctx, a.GuildID, a.UserID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("dm recipient: %w", err)
	case m.Flags&(tenants.MemberDMOptOut|tenants.MemberBot) != 0:
		return &a, nil
	}
	return nil, nil
}

func (h *ActionHandler) do(p actionPayload) error {
	id := func(v int64) snowflake.ID { return snowflake.ID(v) }
	switch p.Kind {
	case rules.EffectGrantRole:
		var a rules.GrantRole
		if err := json.Unmarshal(p.Action, &a); err != nil {
			return asynq.SkipRetry
		}
		return h.rest.AddMemberRole(id(a.GuildID), id(a.UserID), id(a.RoleID))
	case rules.EffectRemoveRole:
		var a rules.RemoveRole
		if err := json.Unmarshal(p.Action, &a); err != nil {
			return asynq.SkipRetry
		}
		return h.rest.RemoveMemberRole(id(a.GuildID), id(a.UserID), id(a.RoleID))
	case rules.EffectSendMessage:
		var a rules.SendMessage
		if err := json.Unmarshal(p.Action, &a); err != nil {
			return asynq.SkipRetry
		}
		_, err := h.rest.CreateMessage(id(a.ChannelID), message(a.Content, a.Embed))
		return err
	case rules.EffectDM:
		var a rules.DM
		if err := json.Unmarshal(p.Action, &a); err != nil {
			return asynq.SkipRetry
		}
		ch, err := h.rest.CreateDMChannel(id(a.UserID))
		if err != nil {
			return err
		}
		_, err = h.rest.CreateMessage(ch.ID(), message(a.Content, a.Embed))
		return err
	default:
		return fmt.Errorf("unknown action kind %q: %w", p.Kind, asynq.SkipRetry)
	}
}

func message(content string, e *rules.Embed) discord.MessageCreate {
	m := discord.MessageCreate{Content: content}
	if e != nil {
		m.Embeds = []discord.Embed{{Title: e.Title, Description: e.Description, Color: e.Color}}
	}
	return m
}
