package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/tenants"
)

// guildEntry is a guild's tenant and its capture settings, shared by the
// shard that captures it and the refresher that keeps settings current.
type guildEntry struct {
	tenantID int64
	capture  atomic.Pointer[lake.CaptureSettings]
	// botJoinedAt is when the bot joined the guild (Discord's time; zero
	// when unknown): a member who joined before it was there before
	// capture, and an add for them is no join.
	botJoinedAt time.Time
	// captureSince is when capture of the guild began (Discord's time;
	// zero when unknown): the bot may have been in the guild long before
	// Synapse first saw it, and a member who joined by then was there
	// before capture too.
	captureSince time.Time
}

// setTimes fills the entry's join and capture times from a guild row.
func (e *guildEntry) setTimes(botJoined, captureSince *time.Time) {
	if botJoined != nil {
		e.botJoinedAt = botJoined.UTC()
	}
	if captureSince != nil {
		e.captureSince = captureSince.UTC()
	}
}

func (e *guildEntry) settings() lake.CaptureSettings { return *e.capture.Load() }

// Directory knows which tenant each captured guild belongs to, and gives a
// tenant of its own to a guild the bot joins that no tenant has claimed.
type Directory struct {
	db   *bun.DB
	pool *pgxpool.Pool

	mu     sync.RWMutex
	guilds map[int64]*guildEntry
}

// NewDirectory reads and writes tenants through db.
func NewDirectory(db *postgres.DB) *Directory {
	return &Directory{db: db.Bun, pool: db.Pool, guilds: map[int64]*guildEntry{}}
}

// Join records that the bot is in a guild (GUILD_CREATE) and returns its
// entry, creating an unclaimed tenant for a guild nobody owns yet. at is
// when the bot joined the guild (GUILD_CREATE's joined_at) and since when
// capture began (see captureSince); the first ones are kept while the bot
// remains.
func (d *Directory) Join(ctx context.Context, guildID int64, name string, afkChannel int64, at, since time.Time) (*guildEntry, error) {
	store := tenants.NewStore(d.db)
	tenantID, err := store.TenantOfGuild(ctx, guildID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		// A tenant's operator invited the bot: the guild is theirs.
		var invited bool
		tenantID, invited, err = store.RegisterInvited(ctx, guildID, name, at, since, time.Now())
		if errors.Is(err, apperr.ErrConflict) { // the inviter's callback registered it meanwhile
			tenantID, invited, err = 0, false, nil
		}
		if err != nil {
			return nil, err
		}
		if !invited {
			if tenantID, err = d.adopt(ctx, guildID, name, at, since); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, err
	default:
		if _, err := store.ForTenant(tenantID).Guilds().Upsert(ctx, guildID, name, at, since); err != nil {
			return nil, err
		}
	}
	if _, err := d.db.NewUpdate().Table("guilds").Set("afk_channel_id = ?", afkChannel).
		Where("tenant_id = ? AND id = ?", tenantID, guildID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record afk channel: %w", err)
	}
	g, err := tenants.NewStore(d.db).ForTenant(tenantID).Guilds().Get(ctx, guildID)
	if err != nil {
		return nil, err
	}
	settings := lake.ParseCaptureSettings(g.Settings)
	e := &guildEntry{tenantID: tenantID}
	e.setTimes(g.BotJoinedAt, g.CaptureSince)
	e.capture.Store(&settings)
	d.mu.Lock()
	d.guilds[guildID] = e
	d.mu.Unlock()
	return e, nil
}

// adopt creates an unclaimed tenant and the guild in one transaction. If
// another worker adopted the guild meanwhile, its tenant wins.
func (d *Directory) adopt(ctx context.Context, guildID int64, name string, at, since time.Time) (int64, error) {
	var tenantID int64
	err := d.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		label := name
		if label == "" || len(label) > 100 {
			label = fmt.Sprintf("guild %d", guildID)
		}
		t, err := tenants.NewStore(tx).Create(ctx, tenants.Tenant{Name: label, Status: tenants.StatusUnclaimed})
		if err != nil {
			return err
		}
		if _, err := tenants.NewStore(tx).ForTenant(t.ID).Guilds().Upsert(ctx, guildID, name, at, since); err != nil {
			return err
		}
		tenantID = t.ID
		return tenants.NewStore(tx).ForTenant(t.ID).Audit().Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: "system", Action: "tenant.adopted_guild", Target: fmt.Sprintf("guild:%d", guildID)})
	})
	if errors.Is(err, apperr.ErrConflict) {
		return tenants.NewStore(d.db).TenantOfGuild(ctx, guildID)
	}
	return tenantID, err
}

// Leave records that the bot left a guild; capture stops, data stays.
func (d *Directory) Leave(ctx context.Context, guildID int64, at time.Time) error {
	d.mu.Lock()
	e := d.guilds[guildID]
	delete(d.guilds, guildID)
	d.mu.Unlock()
	if e == nil {
		tid, err := tenants.NewStore(d.db).TenantOfGuild(ctx, guildID)
		if err != nil {
			return err
		}
		return tenants.NewStore(d.db).ForTenant(tid).Guilds().MarkLeft(ctx, guildID, at)
	}
	return tenants.NewStore(d.db).ForTenant(e.tenantID).Guilds().MarkLeft(ctx, guildID, at)
}

// Refresh re-reads the settings of every captured guild, so a Data Sources
// change takes effect without a restart.
func (d *Directory) Refresh(ctx context.Context) error {
	d.mu.RLock()
	ids := make([]int64, 0, len(d.guilds))
	for id := range d.guilds {
		ids = append(ids, id)
	}
	d.mu.RUnlock()
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID       int64  `bun:"id"`
		Settings []byte `bun:"settings"`
	}
	// Platform-level read across tenants: the worker captures for all of them.
	if err := d.db.NewSelect().Table("guilds").Column("id", "settings").Where("id IN (?)", bun.List(ids)).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("refresh capture settings: %w", err)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range rows {
		if e := d.guilds[r.ID]; e != nil {
			s := lake.ParseCaptureSettings(r.Settings)
			e.capture.Store(&s)
		}
	}
	return nil
}

// shardGuild is a guild of a shard as last recorded, for a shard resumed
// on this worker (a resumed session sends no GUILD_CREATE).
type shardGuild struct {
	id         int64
	afkChannel int64
	entry      *guildEntry
}

// LoadShard returns the guilds the bot is in on one shard and their open
// voice sessions.
func (d *Directory) LoadShard(ctx context.Context, shardID, shardCount int) ([]shardGuild, []lake.VoiceSession, error) {
	var rows []struct {
		ID        int64      `bun:"id"`
		TenantID  int64      `bun:"tenant_id"`
		AFK       int64      `bun:"afk_channel_id"`
		Settings  []byte     `bun:"settings"`
		BotJoined *time.Time `bun:"bot_joined_at"`
		Since     *time.Time `bun:"capture_since"`
	}
	err := d.db.NewSelect().Table("guilds").Column("id", "tenant_id", "afk_channel_id", "settings", "bot_joined_at", "capture_since").
		Where("bot_left_at IS NULL AND (id >> 22) % ? = ?", shardCount, shardID).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("load shard guilds: %w", err)
	}
	out := make([]shardGuild, 0, len(rows))
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		e := &guildEntry{tenantID: r.TenantID}
		e.setTimes(r.BotJoined, r.Since)
		s := lake.ParseCaptureSettings(r.Settings)
		e.capture.Store(&s)
		out = append(out, shardGuild{id: r.ID, afkChannel: r.AFK, entry: e})
		ids = append(ids, r.ID)
	}
	sessions, err := lake.OpenVoiceSessions(ctx, d.pool, ids)
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	for _, g := range out {
		d.guilds[g.id] = g.entry
	}
	d.mu.Unlock()
	return out, sessions, nil
}
