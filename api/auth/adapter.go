package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Adapter stores casbin rules in the casbin_rules table over the pgx pool.
// casbin's persist.Adapter has no context parameter, so each call is
// bounded by Timeout instead.
type Adapter struct {
	pool    *pgxpool.Pool
	Timeout time.Duration
}

var _ persist.Adapter = (*Adapter)(nil)

// NewAdapter binds an adapter to a pool.
func NewAdapter(pool *pgxpool.Pool) *Adapter { return &Adapter{pool: pool, Timeout: 5 * time.Second} }

func (a *Adapter) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.Timeout)
}

// LoadPolicy reads every rule into the model.
func (a *Adapter) LoadPolicy(m model.Model) error {
	ctx, cancel := a.ctx()
	defer cancel()
	rows, err := a.pool.Query(ctx, `SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rules ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load casbin rules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v [7]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
			return fmt.Errorf("scan casbin rule: %w", err)
		}
		rule := v[:]
		for len(rule) > 1 && rule[len(rule)-1] == "" {
			rule = rule[:len(rule)-1]
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("load casbin rule: %w", err)
		}
	}
	return rows.Err()
}

// SavePolicy replaces every stored rule with the model's.
func (a *Adapter) SavePolicy(m model.Model) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM casbin_rules`); err != nil {
			return fmt.Errorf("clear casbin rules: %w", err)
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				for _, rule := range ast.Policy {
					if err := insertRule(ctx, tx, ptype, rule); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// AddPolicy stores one rule (a rule already stored is no error).
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return insertRule(ctx, a.pool, ptype, rule)
}

// RemovePolicy deletes one rule.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	v := padRule(rule)
	_, err := a.pool.Exec(ctx, `DELETE FROM casbin_rules WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5 AND v4 = $6 AND v5 = $7`,
		ptype, v[0], v[1], v[2], v[3], v[4], v[5])
	if err != nil {
		return fmt.Errorf("remove casbin rule: %w", err)
	}
	return nil
}

// RemoveFilteredPolicy deletes the rules whose fields from fieldIndex on
// equal fieldValues (an empty value matches anything).
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	where, args := []string{"ptype = $1"}, []any{ptype}
	for i, val := range fieldValues {
		col := fieldIndex + i
		if val == "" || col > 5 {
			continue
		}
		args = append(args, val)
		where = append(where, fmt.Sprintf("v%d = $%d", col, len(args)))
	}
	if _, err := a.pool.Exec(ctx, `DELETE FROM casbin_rules WHERE `+strings.Join(where, " AND "), args...); err != nil {
		return fmt.Errorf("remove casbin rules: %w", err)
	}
	return nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func padRule(rule []string) [6]string {
	var v [6]string
	copy(v[:], rule)
	return v
}

// insertRule stores a rule with the tenant of its domain: "tenant:T" is T,
// "guild:G" is the tenant that owns G.
func insertRule(ctx context.Context, db execer, ptype string, rule []string) error {
	v := padRule(rule)
	dom := v[1] // p: sub, dom, obj, act
	if ptype == "g" {
		dom = v[2] // g: sub, role, dom
	}
	var tenantID, guildID *int64
	if id, ok := domainID(dom, "tenant:"); ok {
		tenantID = &id
	} else if id, ok := domainID(dom, "guild:"); ok {
		guildID = &id
	}
	_, err := db.Exec(ctx, `
		INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3, v4, v5)
		VALUES (coalesce($1::bigint, (SELECT tenant_id FROM guilds WHERE id = $2::bigint)), $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (ptype, v0, v1, v2, v3, v4, v5) DO NOTHING`,
		tenantID, guildID, ptype, v[0], v[1], v[2], v[3], v[4], v[5])
	if err != nil {
		return fmt.Errorf("add casbin rule: %w", err)
	}
	return nil
}

func domainID(dom, prefix string) (int64, bool) {
	s, ok := strings.CutPrefix(dom, prefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}
