// Package tenanttest makes tenants, guilds and members for tests, with only
// the fields a test cares about set and the rest filled with unique values.
package tenanttest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/tenants"
)

var seq atomic.Int64

// next returns a process-unique number; Discord-like ids are derived from it
// so parallel tests never collide on the global guild id index.
func next() int64 { return seq.Add(1) }

// snowflake makes a plausible Discord id: a real timestamp in the high bits
// keeps ids unique across test processes, the counter within one.
func snowflake() int64 {
	ms := time.Now().UnixMilli() - 1420070400000
	return ms<<22 | (next() & 0x3fffff)
}

// TenantOpts are the fields a test may set; zero means "any".
type TenantOpts struct {
	Name   string
	Plan   string
	Status string
}

// Tenant creates a tenant.
func Tenant(ctx context.Context, t testing.TB, db bun.IDB, o *TenantOpts) tenants.Tenant {
	t.Helper()
	if o == nil {
		o = &TenantOpts{}
	}
	tn := tenants.Tenant{Name: o.Name, Plan: o.Plan, Status: o.Status}
	if tn.Name == "" {
		tn.Name = fmt.Sprintf("tenant-%d", next())
	}
	out, err := tenants.NewStore(db).Create(ctx, tn)
	if err != nil {
		t.Fatalf("tenanttest.Tenant: %v", err)
	}
	return out
}

// GuildOpts are the fields a test may set.
type GuildOpts struct {
	ID   int64
	Name string
}

// Guild creates a guild owned by tenantID.
func Guild(ctx context.Context, t testing.TB, db bun.IDB, tenantID int64, o *GuildOpts) tenants.Guild {
	t.Helper()
	if o == nil {
		o = &GuildOpts{}
	}
	if o.ID == 0 {
		o.ID = snowflake()
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("guild-%d", o.ID)
	}
	g, err := tenants.NewStore(db).ForTenant(tenantID).Guilds().Upsert(ctx, o.ID, o.Name, time.Now(), time.Time{})
	if err != nil {
		t.Fatalf("tenanttest.Guild: %v", err)
	}
	return g
}

// MemberOpts are the fields a test may set.
type MemberOpts struct {
	UserID      int64
	DisplayName string
	JoinedAt    time.Time
	Flags       int32
	Roles       []int64 // role ids held
}

// Member creates a member of a guild.
func Member(ctx context.Context, t testing.TB, db bun.IDB, g tenants.Guild, o *MemberOpts) tenants.Member {
	t.Helper()
	if o == nil {
		o = &MemberOpts{}
	}
	m := tenants.Member{GuildID: g.ID, UserID: o.UserID, DisplayName: o.DisplayName, Flags: o.Flags, Roles: o.Roles}
	if m.UserID == 0 {
		m.UserID = snowflake()
	}
	if m.DisplayName == "" {
		m.DisplayName = fmt.Sprintf("member-%d", m.UserID)
	}
	if !o.JoinedAt.IsZero() {
		m.JoinedAt = &o.JoinedAt
	}
	out, err := tenants.NewStore(db).ForTenant(g.TenantID).Members().Upsert(ctx, m)
	if err != nil {
		t.Fatalf("tenanttest.Member: %v", err)
	}
	return out
}
