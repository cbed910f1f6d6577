package rules

import (
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Zone is a named group of channels with per-currency multipliers (the v3
// zone system): rules test "channel in zone" and amounts read
// zone.multiplier for the currency being credited.
type Zone struct {
	ID       int64       `json:"id,string"`
	GuildID  int64       `json:"guild_id,string"`
	Name     string      `json:"name"`
	Channels []Snowflake `json:"channels"`
	// Multipliers maps currency to multiplier; "*" applies to currencies
	// not listed; absent means 1.
	Multipliers map[string]float64 `json:"multipliers"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

// Multiplier is the zone's multiplier for a currency.
func (z *Zone) Multiplier(currency string) float64 {
	if z == nil {
		return 1
	}
	if m, ok := z.Multipliers[currency]; ok {
		return m
	}
	if m, ok := z.Multipliers["*"]; ok {
		return m
	}
	return 1
}

// zoneIndex finds an event's zone and caches the CEL value of each
// (zone, currency) pair so amounts build nothing per evaluation.
type zoneIndex struct {
	byChannel map[int64]*Zone
	byName    map[string]*Zone
	vals      map[zoneCurrency]ref.Val
}

type zoneCurrency struct {
	zone     *Zone
	currency string
}

func newZoneIndex(zones []Zone) *zoneIndex {
	zi := &zoneIndex{byChannel: map[int64]*Zone{}, byName: map[string]*Zone{}, vals: map[zoneCurrency]ref.Val{}}
	for i := range zones {
		z := &zones[i]
		zi.byName[z.Name] = z
		for _, c := range z.Channels {
			if _, taken := zi.byChannel[int64(c)]; !taken {
				zi.byChannel[int64(c)] = z
			}
		}
	}
	return zi
}

// of returns the zone of an event's channel (for thread_create the lake
// puts the parent channel there). An event in a thread is in its parent's
// zone unless the thread is in a zone itself. A voice_move's zone is the
// channel it moved from, where the stretch it closes (its duration) was
// spent. Nil means the channel is in no zone.
func (zi *zoneIndex) of(ev *Event) *Zone {
	if ev.Name == "voice_move" {
		return zi.byChannel[ev.TargetID]
	}
	if z := zi.byChannel[ev.ChannelID]; z != nil || ev.ParentID == 0 {
		return z
	}
	return zi.byChannel[ev.ParentID]
}

// celValue is the zone variable for an amount in currency: {name,
// multiplier}; outside any zone the name is "" and the multiplier 1. It is
// computed on first use (after compilation; reads are then lock-free
// because warm fills every pair up front).
func (zi *zoneIndex) celValue(z *Zone, currency string) ref.Val {
	if v, ok := zi.vals[zoneCurrency{z, currency}]; ok {
		return v
	}
	return zoneVal(z, currency)
}

func (zi *zoneIndex) warm(currencies []string) {
	currencies = append([]string{""}, currencies...) // "": conditions, emit data
	zs := []*Zone{nil}
	for _, z := range zi.byName {
		zs = append(zs, z)
	}
	for _, z := range zs {
		for _, c := range currencies {
			zi.vals[zoneCurrency{z, c}] = zoneVal(z, c)
		}
	}
}

func zoneVal(z *Zone, currency string) ref.Val {
	name := ""
	if z != nil {
		name = z.Name
	}
	return newStaticMap([]string{"name", "multiplier"}, []ref.Val{types.String(name), types.Double(z.Multiplier(currency))})
}
