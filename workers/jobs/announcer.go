package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/tenants"
)

// AnnounceSettings is the "announcements" object of a guild's settings:
//
//	{"announcements": {"channel_id": "123", "per_minute": 5}}
type AnnounceSettings struct {
	ChannelID int64
	PerMinute int
}

func parseAnnounceSettings(raw []byte) AnnounceSettings {
	var doc struct {
		Announcements struct {
			ChannelID string `json:"channel_id"`
			PerMinute int    `json:"per_minute"`
		} `json:"announcements"`
	}
	s := AnnounceSettings{PerMinute: 5}
	if json.Unmarshal(raw, &doc) != nil {
		return s
	}
	s.ChannelID, _ = strconv.ParseInt(doc.Announcements.ChannelID, 10, 64)
	if doc.Announcements.PerMinute > 0 {
		s.PerMinute = doc.Announcements.PerMinute
	}
	return s
}

// Announcer posts milestone awards to each guild's announcement channel
// (and DMs where a template asks), throttled per channel with the send
// times kept in Redis; what exceeds the throttle is folded into a digest.
// Messages go through the Discord action queue, keyed by award, so a
// replayed award is not announced twice.
type Announcer struct {
	milestones *milestones.Service
	tenants    *tenants.Store
	actions    *ActionQueue
	rdb        *redis.Client
	log        *slog.Logger
	now        func() time.Time
	deferred   prometheus.Counter
}

// NewAnnouncer registers its metrics on reg.
func NewAnnouncer(ms *milestones.Service, t *tenants.Store, q *ActionQueue, rdb *redis.Client, log *slog.Logger, reg prometheus.Registerer) *Announcer {
	a := &Announcer{milestones: ms, tenants: t, actions: q, rdb: rdb, log: log, now: time.Now,
		deferred: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_milestone_announcements_deferred_total",
			Help: "Award announcements not posted because their channel was at its limit."})}
	reg.MustRegister(a.deferred)
	return a
}

const announceWindow = time.Minute

// OnAwards implements the milestones Adapter hook: the Discord side of
// awards, role rewards granted and awards announced, each through the
// action queue keyed by award (a replayed award does nothing twice).
func (a *Announcer) OnAwards(ctx context.Context, tenantID int64, awards []milestones.Award) error {
	if grants := milestones.RoleRewards(awards); len(grants) > 0 {
		if err := a.actions.Enqueue(ctx, tenantID, grants); err != nil {
			return err
		}
	}
	byGuild := map[int64][]milestones.Award{}
	for _, aw := range awards {
		if aw.RevokedAt == nil {
			byGuild[aw.GuildID] = append(byGuild[aw.GuildID], aw)
		}
	}
	for guildID, aws := range byGuild {
		if err := a.announce(ctx, tenantID, guildID, aws); err != nil {
			return err
		}
	}
	return nil
}

func (a *Announcer) announce(ctx context.Context, tenantID, guildID int64, awards []milestones.Award) error {
	scope := a.tenants.ForTenant(tenantID)
	g, err := scope.Guilds().Get(ctx, guildID)
	if err != nil {
		return err
	}
	settings := parseAnnounceSettings(g.Settings)
	templateIDs := make([]int64, 0, len(awards))
	userIDs := make([]int64, 0, len(awards))
	for _, aw := range awards {
		templateIDs, userIDs = append(templateIDs, aw.TemplateID), append(userIDs, aw.UserID)
	}
	templates, err := a.milestones.ForTenant(tenantID).GetMany(ctx, guildID, templateIDs)
	if err != nil {
		return err
	}
	members, err := scope.Members().GetMany(ctx, guildID, userIDs)
	if err != nil {
		return err
	}
	notices := make([]milestones.Notice, 0, len(awards))
	for _, aw := range awards {
		tpl, ok := templates[aw.TemplateID]
		if !ok { // deleted since it was awarded: nothing to announce it with
			continue
		}
		notices = append(notices, milestones.Notice{Award: aw, Template: tpl, MemberFlags: members[aw.UserID].Flags, ChannelID: settings.ChannelID})
	}
	now := a.now()
	key := fmt.Sprintf("synapse:announce:%d", settings.ChannelID)
	th := milestones.Throttle{PerChannel: settings.PerMinute, Window: announceWindow, Recent: map[int64][]time.Time{}}
	if settings.ChannelID != 0 {
		recent, err := a.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, ByScore: true,
			Start: strconv.FormatInt(now.Add(-announceWindow).UnixMilli(), 10), Stop: "+inf"}).Result()
		if err != nil {
			return fmt.Errorf("announce throttle: %w", err)
		}
		for _, r := range recent {
			if ms, err := strconv.ParseInt(r, 10, 64); err == nil {
				th.Recent[settings.ChannelID] = append(th.Recent[settings.ChannelID], time.UnixMilli(ms))
			}
		}
	}
	plan := milestones.PlanAnnouncements(notices, th, now)
	actions := make([]rules.DiscordAction, 0, len(plan.Messages)+len(plan.DMs))
	for _, m := range plan.Messages {
		actions = append(actions, m)
	}
	for _, d := range plan.DMs {
		actions = append(actions, d)
	}
	if err := a.actions.Enqueue(ctx, tenantID, actions); err != nil {
		return err
	}
	if n := len(plan.Messages); n > 0 && settings.ChannelID != 0 {
		pipe := a.rdb.TxPipeline()
		for i := 0; i < n; i++ {
			ts := now.UnixMilli() + int64(i)
			pipe.ZAdd(ctx, key, redis.Z{Score: float64(ts), Member: strconv.FormatInt(ts, 10)})
		}
		pipe.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now.Add(-announceWindow).UnixMilli(), 10))
		pipe.Expire(ctx, key, 2*announceWindow)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("announce throttle: %w", err)
		}
	}
	if len(plan.Deferred) > 0 {
		a.deferred.Add(float64(len(plan.Deferred)))
		a.log.Info("announcements deferred: channel at its limit", slog.Int64("guild_id", guildID), slog.Int("awards", len(plan.Deferred)))
	}
	return nil
}
