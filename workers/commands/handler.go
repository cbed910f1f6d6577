package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Handler answers slash commands.
type Handler struct {
	ledger     *ledger.Service
	milestones *milestones.Service
	tenants    *tenants.Store
	rest       rest.Rest
	log        *slog.Logger
	answers    *prometheus.CounterVec
}

// New builds a handler replying through r.
func New(l *ledger.Service, m *milestones.Service, t *tenants.Store, r rest.Rest, log *slog.Logger, reg prometheus.Registerer) *Handler {
	h := &Handler{ledger: l, milestones: m, tenants: t, rest: r, log: log, answers: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "synapse_commands_total", Help: "Slash commands answered, by command and outcome."}, []string{"command", "outcome"})}
	reg.MustRegister(h.answers)
	return h
}

// Register overwrites the application's global commands with Definitions.
func (h *Handler) Register(appID int64) error {
	_, err := h.rest.SetGlobalCommands(snowflakeID(appID), Definitions())
	return err
}

// reply is what a command answers.
type reply struct {
	content   string
	ephemeral bool
}

func private(format string, args ...any) reply {
	return reply{content: fmt.Sprintf(format, args...), ephemeral: true}
}

// Handle answers one interaction; it runs off the gateway's read loop.
func (h *Handler) Handle(ctx context.Context, i discord.ApplicationCommandInteraction) {
	data, ok := i.Data.(discord.SlashCommandInteractionData)
	if !ok {
		return
	}
	name := data.CommandName()
	r, outcome := h.run(ctx, i, data)
	h.answers.WithLabelValues(name, outcome).Inc()
	resp := discord.MessageCreate{Content: r.content}
	if r.ephemeral {
		resp.Flags = discord.MessageFlagEphemeral
	}
	err := h.rest.CreateInteractionResponse(i.ID(), i.Token(), discord.InteractionResponse{Type: discord.InteractionResponseTypeCreateMessage, Data: resp})
	if err != nil {
		h.log.Warn("interaction response failed", slog.String("command", name), slog.Any("err", err))
	}
}

func (h *Handler) run(ctx context.Context, i discord.ApplicationCommandInteraction, data discord.SlashCommandInteractionData) (reply, string) {
	if i.GuildID() == nil {
		return private("Synapse commands work inside a server."), "refused"
	}
	guildID, userID := int64(*i.GuildID()), int64(i.User().ID)
	tenantID, err := h.tenants.TenantOfGuild(ctx, guildID)
	if errors.Is(err, apperr.ErrNotFound) {
		return private("This server is not set up with Synapse yet."), "refused"
	}
	if err != nil {
		return h.failure(err), "error"
	}
	c := call{h: h, l: h.ledger.ForTenant(tenantID), m: h.milestones.ForTenant(tenantID), tenant: tenantID, guild: guildID, user: userID,
		key: "ix:" + i.ID().String(), data: data}
	var r reply
	switch data.CommandName() {
	case "balance":
		r, err = c.balance(ctx)
	case "profile":
		r, err = c.profile(ctx)
	case "leaderboard":
		r, err = c.leaderboard(ctx)
	case "give":
		r, err = c.give(ctx)
	case "shop":
		r, err = c.shop(ctx)
	case "buy":
		r, err = c.buy(ctx)
	case "achievements":
		r, err = c.achievements(ctx)
	case "settings":
		r, err = c.settings(ctx, tenantID)
	case "award", "deduct", "grant-achievement", "revoke-achievement":
		if m := i.Member(); m == nil || !m.Permissions.Has(discord.PermissionManageGuild) && !m.Permissions.Has(discord.PermissionAdministrator) {
			return private("You need the Manage Server permission for /%s.", data.CommandName()), "refused"
		}
		switch data.CommandName() {
		case "grant-achievement", "revoke-achievement":
			r, err = c.grantAchievement(ctx, data.CommandName() == "grant-achievement")
		default:
			r, err = c.adjust(ctx, data.CommandName() == "award")
		}
	default:
		return private("Unknown command /%s.", data.CommandName()), "refused"
	}
	if err != nil {
		return h.failure(err), "refused"
	}
	return r, "ok"
}

// failure turns a domain error into a clear ephemeral reply; unexpected
// errors are logged and answered without internals.
func (h *Handler) failure(err error) reply {
	var ve *apperr.ValidationError
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return private("Insufficient funds: you do not have that much.")
	case errors.Is(err, ledger.ErrNotTransferable):
		return private("That currency cannot be given to other members.")
	case errors.Is(err, ledger.ErrNotSpendable):
		return private("That currency cannot be spent.")
	case errors.Is(err, ledger.ErrUnknownItem):
		return private("There is no such item in the shop. Try /shop.")
	case errors.Is(err, ledger.ErrUnknownCurrency):
		return private("There is no such currency here.")
	case errors.As(err, &ve):
		return private("Invalid %s: %s.", ve.Field, ve.Message)
	case errors.Is(err, apperr.ErrNotFound):
		return private("Not found (%s).", err)
	default:
		h.log.Error("command failed", slog.Any("err", err))
		return private("Something went wrong on our side; please try again.")
	}
}

func snowflakeID(v int64) snowflake.ID { return snowflake.ID(v) }

// mention formats a user mention.
func mention(id int64) string { return "<@" + strconv.FormatInt(id, 10) + ">" }

// bar draws a progress bar of width cells for f in [0, 1].
func bar(f float64, width int) string {
	n := int(f*float64(width) + 0.5)
	n = min(max(n, 0), width)
	return strings.Repeat("█", n) + strings.Repeat("░", width-n)
}
