package rules

import (
	"fmt"
	"strconv"
	"time"
)

// LevelUpEvent is the level.up event for a credit that took its member
// from oldLevel to newLevel of its currency. Like CreditedEvent it takes
// the credit's derived source id (the event name keeps their effect keys
// apart) and chain: a retried task derives the same event, and the rule
// that paid the credit does not fire on it.
func LevelUpEvent(c Credit, tenantID int64, at time.Time, oldLevel, newLevel int64) Event {
	return Event{
		Name: EventLevelUp, TenantID: tenantID, GuildID: c.GuildID,
		SourceID: derivedID(c.IdempotencyKey()), OccurredAt: at, UserID: c.UserID,
		Data:  map[string]any{"currency": c.Currency, "old_level": oldLevel, "new_level": newLevel},
		Chain: append(append([]int64(nil), c.Chain...), c.RuleID),
	}
}

// SchedulePeriod is the start of the period of a schedule trigger that t
// falls in: its UTC day for schedule.daily, the Monday of its UTC week
// for schedule.weekly.
func SchedulePeriod(name string, t time.Time) (time.Time, error) {
	day := t.UTC().Truncate(24 * time.Hour)
	switch name {
	case EventScheduleDaily:
		return day, nil
	case EventScheduleWeekly:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a schedule trigger", name)
}

// ScheduleEvent is a guild's schedule.daily or schedule.weekly event for
// the period starting at start (see SchedulePeriod). It has no actor and
// no channel. Its source id derives from (trigger, guild, period), so
// every run for one period is the same event and pays once.
func ScheduleEvent(name string, tenantID, guildID int64, start time.Time) Event {
	period := start.UTC().Format(time.DateOnly)
	return Event{
		Name: name, TenantID: tenantID, GuildID: guildID,
		SourceID:   derivedID(name + "." + strconv.FormatInt(guildID, 10) + "." + period),
		OccurredAt: start.UTC(), Data: map[string]any{"period": period},
	}
}
