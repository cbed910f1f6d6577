package milestones

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Progress is where a member stands on one milestone (/achievements).
type Progress struct {
	TemplateID  int64   `json:"template_id,string"`
	Key         string  `json:"key"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Emoji       string  `json:"emoji,omitempty"`
	Rarity      string  `json:"rarity"`
	Hidden      bool    `json:"hidden"`
	Repeatable  bool    `json:"repeatable"`
	Current     float64 `json:"current"`
	Target      float64 `json:"target"`
	// Label reads like "7/10 days", "3/3 requirements" or "rank #12 of top 10".
	Label   string `json:"label"`
	Percent int    `json:"percent"` // 0..100
	Earned  bool   `json:"earned"`
	// Times is how many active awards the member holds in the current scope.
	Times int `json:"times"`
}

// Progress evaluates every enabled template for a member without awarding
// anything. A hidden milestone not yet earned keeps its name secret.
func (m *Milestones) Progress(ctx context.Context, guildID, userID int64) ([]Progress, error) {
	return m.progress(ctx, guildID, userID, time.Now())
}

func (m *Milestones) progress(ctx context.Context, guildID, userID int64, now time.Time) ([]Progress, error) {
	st, set, err := m.load(ctx, guildID, userID, now)
	if err != nil {
		return nil, err
	}
	out := make([]Progress, 0, len(set.templates))
	for _, c := range set.templates {
		r, err := st.eval(c, c.root)
		if err != nil {
			return nil, fmt.Errorf("milestone %s: %w", c.t.Key, err)
		}
		slots := st.slots[c.t.ID]
		p := Progress{TemplateID: c.t.ID, Key: c.t.Key, Name: c.t.Name, Description: c.t.Description, Emoji: c.t.Emoji,
			Rarity: c.t.Rarity, Hidden: c.t.Hidden, Repeatable: c.t.Repeatable, Current: r.current, Target: r.target,
			Earned: slots.active > 0, Times: slots.active}
		if c.t.Scope == ScopeSeasonal && st.seasonID == 0 {
			p.Current = 0
		}
		p.Label = label(r, p.Current)
		if c.t.Repeatable && r.target > 0 && r.unit != "rank" {
			// progress toward the next award
			next := float64(slots.taken+1) * r.target
			p.Target = next
			p.Label = label(result{target: next, unit: r.unit}, p.Current)
		}
		p.Percent = percent(p.Current, p.Target, r.unit == "rank", r.met)
		if p.Earned && !c.t.Repeatable {
			p.Percent = 100
		}
		if p.Hidden && !p.Earned {
			p.Name, p.Description, p.Emoji, p.Label = "???", "", "❔", "hidden"
		}
		out = append(out, p)
	}
	return out, nil
}

func label(r result, cur float64) string {
	if r.unit == "rank" {
		if cur == 0 {
			return fmt.Sprintf("unranked (top %d)", int64(r.target))
		}
		if cur < 0 {
			return fmt.Sprintf("outside the top %d", int64(r.target))
		}
		return fmt.Sprintf("rank #%d (top %d)", int64(cur), int64(r.target))
	}
	return fmt.Sprintf("%d/%d %s", int64(min(cur, r.target)), int64(r.target), r.unit)
}

func percent(cur, target float64, rank, met bool) int {
	if rank {
		if met {
			return 100
		}
		return 0
	}
	if target <= 0 {
		return 0
	}
	p := int(cur * 100 / target)
	return max(0, min(p, 100))
}

// ProgressBar draws percent as a bar of width cells: "▰▰▰▱▱▱▱▱▱▱".
func ProgressBar(percent, width int) string {
	if width <= 0 {
		return ""
	}
	percent = max(0, min(percent, 100))
	full := percent * width / 100
	return strings.Repeat("▰", full) + strings.Repeat("▱", width-full)
}
