package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Loader reads a guild's rules and zones; Store implements it.
type Loader interface {
	LoadGuild(ctx context.Context, tenantID, guildID int64) ([]Rule, []Zone, error)
}

// Cache holds each guild's compiled rule set in memory. Rule versions are
// compiled once and reused across reloads; a change announced on
// NotifyChannel reloads the guild (Listen), so every worker sees it within
// the time a NOTIFY takes to arrive.
type Cache struct {
	loader   Loader
	compiler *Compiler
	logger   *slog.Logger

	mu       sync.Mutex
	guilds   map[int64]*cachedGuild
	onReload []func(tenantID, guildID int64)
}

type cachedGuild struct {
	tenantID int64
	set      *RuleSet
	compiled map[compiledKey]*CompiledRule
	gen      uint64 // bumped by every invalidation; a load started before one is discarded
}

type compiledKey struct {
	id      int64
	version int
	enabled bool
}

// NewCache returns an empty cache.
func NewCache(loader Loader, compiler *Compiler, logger *slog.Logger) *Cache {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{loader: loader, compiler: compiler, logger: logger, guilds: map[int64]*cachedGuild{}}
}

// OnReload registers fn to run after a guild's set was reloaded because of
// a change (tests wait on it; workers may log it).
func (c *Cache) OnReload(fn func(tenantID, guildID int64)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onReload = append(c.onReload, fn)
}

// Get returns the guild's rule set, loading and compiling it on first use.
func (c *Cache) Get(ctx context.Context, tenantID, guildID int64) (*RuleSet, error) {
	c.mu.Lock()
	g, ok := c.guilds[guildID]
	if ok && g.set != nil && g.tenantID == tenantID {
		set := g.set
		c.mu.Unlock()
		return set, nil
	}
	c.mu.Unlock()
	return c.load(ctx, tenantID, guildID)
}

// load reads and compiles a guild, reusing compiled versions it already has.
func (c *Cache) load(ctx context.Context, tenantID, guildID int64) (*RuleSet, error) {
	c.mu.Lock()
	g, ok := c.guilds[guildID]
	if !ok || g.tenantID != tenantID {
		g = &cachedGuild{tenantID: tenantID, compiled: map[compiledKey]*CompiledRule{}}
		c.guilds[guildID] = g
	}
	gen, prev := g.gen, g.compiled
	c.mu.Unlock()

	rules, zones, err := c.loader.LoadGuild(ctx, tenantID, guildID)
	if err != nil {
		return nil, fmt.Errorf("load rules of guild %d: %w", guildID, err)
	}
	compiled := make(map[compiledKey]*CompiledRule, len(rules))
	list := make([]*CompiledRule, 0, len(rules))
	for _, r := range rules {
		k := compiledKey{r.ID, r.Version, r.Enabled}
		cr, ok := prev[k]
		if !ok {
			if cr, err = c.compiler.Compile(r); err != nil {
				// A stored rule that no longer compiles (a type was removed
				// from the registry) is left out; the others run.
				c.logger.ErrorContext(ctx, "stored rule does not compile", "tenant_id", tenantID, "guild_id", guildID,
					"rule_id", r.ID, "rule_version", r.Version, "error", err)
				continue
			}
		}
		compiled[k] = cr
		list = append(list, cr)
	}
	set := NewRuleSet(tenantID, guildID, list, zones)

	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.guilds[guildID]; ok && cur == g && g.gen == gen {
		g.set, g.compiled = set, compiled
	}
	return set, nil
}

// Invalidate forgets a guild's set; the next Get reloads it.
func (c *Cache) Invalidate(guildID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.guilds[guildID]; ok {
		g.gen++
		g.set = nil
	}
}

// invalidateAll forgets every set (after the listener lost its connection
// and may have missed notifications).
func (c *Cache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.guilds {
		g.gen++
		g.set = nil
	}
}

// changed handles one notification: a cached guild is reloaded at once so
// the next event finds the new rules compiled.
func (c *Cache) changed(ctx context.Context, tenantID, guildID int64) {
	c.mu.Lock()
	g, cached := c.guilds[guildID]
	if cached {
		g.gen++
		g.set = nil
	}
	hooks := append([]func(int64, int64){}, c.onReload...)
	c.mu.Unlock()
	if !cached {
		return
	}
	if _, err := c.load(ctx, tenantID, guildID); err != nil {
		c.logger.ErrorContext(ctx, "reload rules", "tenant_id", tenantID, "guild_id", guildID, "error", err)
		return // left invalidated: the next Get retries
	}
	for _, h := range hooks {
		h(tenantID, guildID)
	}
}

// ListenOptions tune Listen.
type ListenOptions struct {
	// Ready runs each time LISTEN is in place (at start and after a
	// reconnect), once the cache has dropped what it may have missed.
	Ready func()
	// RetryDelay is the pause before reconnecting; default 1s.
	RetryDelay time.Duration
}

// Listen holds one pool connection LISTENing on NotifyChannel and reloads
// changed guilds until ctx ends; it reconnects on connection loss.
func (c *Cache) Listen(ctx context.Context, pool *pgxpool.Pool, o ListenOptions) error {
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	for {
		err := c.listenOnce(ctx, pool, o)
		if ctx.Err() != nil {
			return nil
		}
		c.logger.WarnContext(ctx, "rules listener lost its connection; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.RetryDelay):
		}
	}
}

func (c *Cache) listenOnce(ctx context.Context, pool *pgxpool.Pool, o ListenOptions) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection left LISTENing must not go back to the pool: take it out.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	c.invalidateAll()
	if o.Ready != nil {
		o.Ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		tenantID, guildID, err := parsePayload(n.Payload)
		if err != nil {
			c.logger.WarnContext(ctx, "bad rules notification", "payload", n.Payload, "error", err)
			continue
		}
		c.changed(ctx, tenantID, guildID)
	}
}

func parsePayload(p string) (int64, int64, error) {
	t, g, ok := strings.Cut(p, ":")
	if !ok {
		return 0, 0, errors.New("want tenant:guild")
	}
	tenantID, err1 := strconv.ParseInt(t, 10, 64)
	guildID, err2 := strconv.ParseInt(g, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("want tenant:guild")
	}
	return tenantID, guildID, nil
}
