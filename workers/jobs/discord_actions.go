package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/rules"
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
}

// ActionQueue is the Discord action queue: rule effects become asynq tasks
// keyed by their idempotency key, executed by ActionHandler through
// disgo's REST client, which follows Discord's rate-limit buckets and
// Retry-After.
type ActionQueue struct {
	client *asynq.Client
}

// NewActionQueue enqueues through client.
func NewActionQueue(client *asynq.Client) *ActionQueue { return &ActionQueue{client: client} }

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
		if err := q.enqueue(ctx, tenantID, a, key); err != nil {
			return err
		}
		if g, ok := a.(rules.GrantRole); ok && g.ExpiresAt != nil {
			expire := rules.RemoveRole{Origin: g.Origin, UserID: g.UserID, RoleID: g.RoleID}
			if err := q.enqueue(ctx, tenantID, expire, key+".expire", asynq.ProcessAt(*g.ExpiresAt)); err != nil {
				return err
			}
		}
	}
	return errors.Join(refused...)
}

func (q *ActionQueue) enqueue(ctx context.Context, tenantID int64, a rules.DiscordAction, key string, opts ...asynq.Option) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(actionPayload{TenantID: tenantID, Kind: a.Kind(), Action: body})
	if err != nil {
		return err
	}
	opts = append(opts, asynq.Queue(QueueDiscord), asynq.TaskID("discord:"+key), asynq.Retention(actionRetention), asynq.MaxRetry(10))
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(TypeDiscordAction, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // already queued or done
	}
	return err
}

// ActionHandler performs queued actions against Discord's REST API.
type ActionHandler struct {
	rest    rest.Rest
	log     *slog.Logger
	results *prometheus.CounterVec
}

// NewActionHandler calls Discord (or discordsim) through r.
func NewActionHandler(r rest.Rest, log *slog.Logger, reg prometheus.Registerer) *ActionHandler {
	h := &ActionHandler{rest: r, log: log, results: prometheus.NewCounterVec(prometheus.CounterOpts{
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
	err := h.do(p)
	var rerr *rest.Error
	switch {
	case err == nil:
		h.results.WithLabelValues(p.Kind, "ok").Inc()
		return nil
	case errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode >= 400 && rerr.Response.StatusCode < 500 &&
		rerr.Response.StatusCode != http.StatusTooManyRequests:
		// Missing permission, unknown member or channel: retrying will not help.
		h.results.WithLabelValues(p.Kind, "refused").Inc()
		h.log.Warn("discord refused an action", slog.String("kind", p.Kind), slog.Int64("tenant_id", p.TenantID),
			slog.Int("status", rerr.Response.StatusCode), slog.String("message", rerr.Message))
		return fmt.Errorf("%s: %w: %w", p.Kind, err, asynq.SkipRetry)
	default:
		h.results.WithLabelValues(p.Kind, "retry").Inc()
		return err
	}
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
