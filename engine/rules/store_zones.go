package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

type zoneRow struct {
	bun.BaseModel `bun:"table:rule_zones,alias:z"`

	TenantID    int64           `bun:"tenant_id,pk"`
	ID          int64           `bun:"id,pk,autoincrement"`
	GuildID     int64           `bun:"guild_id"`
	Name        string          `bun:"name"`
	Channels    []int64         `bun:"channels,array"`
	Multipliers json.RawMessage `bun:"multipliers,type:jsonb"`
	CreatedAt   time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt   time.Time       `bun:"updated_at,nullzero,default:now()"`
}

func (r *zoneRow) zone() (Zone, error) {
	z := Zone{ID: r.ID, GuildID: r.GuildID, Name: r.Name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Channels: make([]Snowflake, len(r.Channels)), Multipliers: map[string]float64{}}
	for i, c := range r.Channels {
		z.Channels[i] = Snowflake(c)
	}
	if err := json.Unmarshal(r.Multipliers, &z.Multipliers); err != nil {
		return Zone{}, fmt.Errorf("zone %d: stored multipliers: %w", r.ID, err)
	}
	return z, nil
}

// validateZone checks a zone on its own; overlaps are checked against the
// guild's other zones in the write transaction.
func validateZone(z Zone) error {
	if n := strings.TrimSpace(z.Name); n == "" || len(z.Name) > 64 {
		return apperr.Invalid("name", "must be 1 to 64 characters")
	}
	if len(z.Channels) > 500 {
		return apperr.Invalid("channels", "must hold at most 500 channels")
	}
	seen := map[Snowflake]bool{}
	for i, c := range z.Channels {
		if c <= 0 {
			return apperr.Invalid(idx("channels", i), "must be a channel id")
		}
		if seen[c] {
			return apperr.Invalid(idx("channels", i), "is listed twice")
		}
		seen[c] = true
	}
	for _, cur := range sortedKeys(z.Multipliers) {
		if cur != "*" && !validCurrency(cur) {
			return apperr.Invalid("multipliers."+cur, "is not a currency code (or *)")
		}
		if m := z.Multipliers[cur]; m < 0 || m > 100 || math.IsNaN(m) {
			return apperr.Invalid("multipliers."+cur, "must be between 0 and 100")
		}
	}
	return nil
}

func (s *TenantStore) checkOverlap(ctx context.Context, tx bun.IDB, z Zone, exceptID int64) error {
	others, err := s.listZones(ctx, tx, z.GuildID)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == exceptID {
			continue
		}
		if o.Name == z.Name {
			return apperr.Invalid("name", "a zone named %q already exists", z.Name)
		}
		for i, c := range z.Channels {
			for _, oc := range o.Channels {
				if c == oc {
					return apperr.Invalid(idx("channels", i), "is already in zone %q", o.Name)
				}
			}
		}
	}
	return nil
}

func rowFromZone(tenantID int64, z Zone) (*zoneRow, error) {
	if z.Multipliers == nil {
		z.Multipliers = map[string]float64{}
	}
	m, err := json.Marshal(z.Multipliers)
	if err != nil {
		return nil, err
	}
	row := &zoneRow{TenantID: tenantID, ID: z.ID, GuildID: z.GuildID, Name: z.Name, Channels: make([]int64, len(z.Channels)), Multipliers: m}
	for i, c := range z.Channels {
		row.Channels[i] = int64(c)
	}
	return row, nil
}

// CreateZone adds a zone to a guild (z.GuildID).
func (s *TenantStore) CreateZone(ctx context.Context, actor tenants.Actor, z Zone) (Zone, error) {
	if err := validateZone(z); err != nil {
		return Zone{}, err
	}
	var out Zone
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		if err := s.checkOverlap(ctx, tx, z, 0); err != nil {
			return err
		}
		row, err := rowFromZone(s.tenantID, z)
		if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).ExcludeColumn("id").Returning("*").Exec(ctx); err != nil {
			return dbError(err, "zone")
		}
		if out, err = row.zone(); err != nil {
			return err
		}
		return s.changed(ctx, tx, actor, z.GuildID, "rules.zone.create", "zone:"+strconv.FormatInt(row.ID, 10), nil, out)
	})
	return out, err
}

// UpdateZone replaces a zone's name, channels and multipliers.
func (s *TenantStore) UpdateZone(ctx context.Context, actor tenants.Actor, z Zone) (Zone, error) {
	if err := validateZone(z); err != nil {
		return Zone{}, err
	}
	var out Zone
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var cur zoneRow
		if err := tx.NewSelect().Model(&cur).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, z.GuildID, z.ID).
			For("UPDATE").Scan(ctx); err != nil {
			return dbError(err, "zone")
		}
		before, err := cur.zone()
		if err != nil {
			return err
		}
		if err := s.checkOverlap(ctx, tx, z, z.ID); err != nil {
			return err
		}
		if z.Name != before.Name {
			if err := s.refuseIfNamed(ctx, tx, z.GuildID, before.Name, "rename"); err != nil {
				return err
			}
		}
		row, err := rowFromZone(s.tenantID, z)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(row).Column("name", "channels", "multipliers").Set("updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, z.GuildID, z.ID).Returning("*").Exec(ctx); err != nil {
			return dbError(err, "zone")
		}
		if out, err = row.zone(); err != nil {
			return err
		}
		return s.changed(ctx, tx, actor, z.GuildID, "rules.zone.update", "zone:"+strconv.FormatInt(z.ID, 10), before, out)
	})
	return out, err
}

// DeleteZone removes a zone no rule names (ZoneInUseError otherwise).
func (s *TenantStore) DeleteZone(ctx context.Context, actor tenants.Actor, guildID, zoneID int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var cur zoneRow
		if err := tx.NewSelect().Model(&cur).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, zoneID).
			For("UPDATE").Scan(ctx); err != nil {
			return dbError(err, "zone")
		}
		before, err := cur.zone()
		if err != nil {
			return err
		}
		if err := s.refuseIfNamed(ctx, tx, guildID, before.Name, "delete"); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*zoneRow)(nil)).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, zoneID).Exec(ctx); err != nil {
			return dbError(err, "zone")
		}
		return s.changed(ctx, tx, actor, guildID, "rules.zone.delete", "zone:"+strconv.FormatInt(zoneID, 10), before, nil)
	})
}

// ListZones returns a guild's zones by name.
func (s *TenantStore) ListZones(ctx context.Context, guildID int64) ([]Zone, error) {
	return s.listZones(ctx, s.db, guildID)
}

func (s *TenantStore) listZones(ctx context.Context, db bun.IDB, guildID int64) ([]Zone, error) {
	var rows []zoneRow
	if err := db.NewSelect().Model(&rows).Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list zones: %w", err)
	}
	out := make([]Zone, 0, len(rows))
	for i := range rows {
		z, err := rows[i].zone()
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, nil
}

// ZoneInUseError refuses to delete or rename a zone that rules name: a
// channel_in_zone condition naming a zone that is gone never matches, and
// nothing would say so. It is a conflict (409).
type ZoneInUseError struct {
	Zone   string
	Action string    // "delete" or "rename"
	Rules  []RuleRef // the guild's rules naming the zone, enabled or not
}

// RuleRef names a rule in an error.
type RuleRef struct {
	ID   int64  `json:"id,string"`
	Name string `json:"name"`
}

func (e *ZoneInUseError) Error() string {
	refs := make([]string, len(e.Rules))
	for i, r := range e.Rules {
		refs[i] = fmt.Sprintf("%d (%q)", r.ID, r.Name)
	}
	return fmt.Sprintf("cannot %s zone %q: rules name it: %s; change or delete them first", e.Action, e.Zone, strings.Join(refs, ", "))
}

func (e *ZoneInUseError) Unwrap() error { return apperr.ErrConflict }

// refuseIfNamed returns a ZoneInUseError if a rule of the guild names the
// zone. The caller holds the zone's row lock, and rule writes read zones
// FOR SHARE (validateIn), so no rule can start naming it meanwhile.
func (s *TenantStore) refuseIfNamed(ctx context.Context, tx bun.IDB, guildID int64, zone, action string) error {
	rs, err := (&TenantStore{db: tx, tenantID: s.tenantID, compiler: s.compiler}).ListRules(ctx, guildID)
	if err != nil {
		return err
	}
	var users []RuleRef
	for _, r := range rs {
		if contains(s.compiler.zonesNamed(r.Document), zone) {
			users = append(users, RuleRef{ID: r.ID, Name: r.Name})
		}
	}
	if len(users) == 0 {
		return nil
	}
	return &ZoneInUseError{Zone: zone, Action: action, Rules: users}
}

// zonesNamed lists the zones a document's channel_in_zone conditions name.
// It reads the stored params directly rather than compiling, so a rule
// that no longer compiles still counts.
func (c *Compiler) zonesNamed(doc Document) []string {
	var out []string
	for _, cs := range doc.Conditions {
		ct, ok := c.reg.condition(cs.Type)
		if !ok || ct.ID != CondChannelInZone || len(cs.Params) == 0 {
			continue
		}
		var p struct {
			Zones []string `json:"zones"`
		}
		if json.Unmarshal(cs.Params, &p) == nil {
			out = append(out, p.Zones...)
		}
	}
	return out
}

// ValidateZone checks a zone's fields as CreateZone would, without the
// database (an import checks everything before writing).
func ValidateZone(z Zone) error { return validateZone(z) }
