package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/tenants"
)

func notice(id int64, user int64, rarity string, ch int64, flags int32, dm bool) Notice {
	return Notice{
		Award:       Award{ID: id, GuildID: 9, UserID: user, AwardNo: 1},
		Template:    Template{Name: "M" + rarity, Emoji: "⭐", Rarity: rarity, Rewards: []Reward{{Type: RewardAnnounce, DM: dm}}},
		MemberFlags: flags, ChannelID: ch,
	}
}

func TestPlanAnnouncements(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	silent := notice(99, 1, Common, 100, 0, false)
	silent.Template.Rewards = nil
	cases := []struct {
		name     string
		notices  []Notice
		throttle Throttle
		want     []string // per message: key, title
		dms      []int64
		deferred int
	}{
		{name: "one embed per award, styled by rarity, rarest first",
			notices:  []Notice{notice(1, 11, Common, 100, 0, false), notice(2, 12, Legendary, 100, 0, false)},
			throttle: Throttle{PerChannel: 5, Window: time.Minute},
			want:     []string{"ms.a2.announce ⭐ Achievement unlocked: Mlegendary #F1C40F", "ms.a1.announce ⭐ Achievement unlocked: Mcommon #9E9E9E"}},
		{name: "excess folds into one digest",
			notices: []Notice{notice(1, 11, Common, 100, 0, false), notice(2, 12, Rare, 100, 0, false),
				notice(3, 13, Common, 100, 0, false), notice(4, 14, Epic, 100, 0, false)},
			throttle: Throttle{PerChannel: 2, Window: time.Minute},
			want:     []string{"ms.a4.announce ⭐ Achievement unlocked: Mepic #9B59B6", "ms.digest.100.1-3.n3 🏅 3 more achievements unlocked #3498DB"}},
		{name: "recent sends use up the window",
			notices:  []Notice{notice(1, 11, Common, 100, 0, false), notice(2, 12, Common, 100, 0, false)},
			throttle: Throttle{PerChannel: 3, Window: time.Minute, Recent: map[int64][]time.Time{100: {now.Add(-10 * time.Second), now.Add(-20 * time.Second), now.Add(-2 * time.Minute)}}},
			want:     []string{"ms.digest.100.1-2.n2 🏅 2 more achievements unlocked #9E9E9E"}},
		{name: "a full channel defers, another channel is independent",
			notices:  []Notice{notice(1, 11, Common, 100, 0, false), notice(2, 12, Rare, 200, 0, false)},
			throttle: Throttle{PerChannel: 1, Window: time.Minute, Recent: map[int64][]time.Time{100: {now.Add(-time.Second)}}},
			want:     []string{"ms.a2.announce ⭐ Achievement unlocked: Mrare #3498DB"}, deferred: 1},
		{name: "opt-outs and DMs",
			notices: []Notice{
				notice(1, 11, Legendary, 100, tenants.MemberAnnounceOptOut, true), // DM only
				notice(2, 12, Legendary, 100, tenants.MemberDMOptOut, true),       // channel only
				notice(3, 13, Rare, 0, 0, false),                                  // no announcement channel
				silent,                                                            // template without announce
			},
			throttle: Throttle{PerChannel: 5, Window: time.Minute},
			want:     []string{"ms.a2.announce ⭐ Achievement unlocked: Mlegendary #F1C40F"},
			dms:      []int64{11}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plan := PlanAnnouncements(tc.notices, tc.throttle, now)
			var got []string
			for _, m := range plan.Messages {
				got = append(got, m.IdempotencyKey()+" "+m.Embed.Title+" "+hexColor(m.Embed.Color))
			}
			require.Equal(t, tc.want, got)
			var dms []int64
			for _, d := range plan.DMs {
				dms = append(dms, d.UserID)
				require.Contains(t, d.Embed.Description, "You earned")
			}
			require.Equal(t, tc.dms, dms)
			require.Len(t, plan.Deferred, tc.deferred)
		})
	}
}

func TestDigestListsEveryFoldedAward(t *testing.T) {
	t.Parallel()
	plan := PlanAnnouncements([]Notice{notice(5, 51, Common, 7, 0, false), notice(6, 52, Uncommon, 7, 0, false), notice(7, 53, Common, 7, 0, false)},
		Throttle{PerChannel: 1, Window: time.Minute}, time.Now())
	require.Len(t, plan.Messages, 1)
	d := plan.Messages[0].Embed.Description
	require.Equal(t, "🟢 <@52> — ⭐ Muncommon\n⚪ <@51> — ⭐ Mcommon\n⚪ <@53> — ⭐ Mcommon", d)
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		percent int
		want    string
	}{
		{name: "empty", percent: 0, want: "▱▱▱▱▱▱▱▱▱▱"},
		{name: "seventy", percent: 70, want: "▰▰▰▰▰▰▰▱▱▱"},
		{name: "clamped", percent: 150, want: "▰▰▰▰▰▰▰▰▰▰"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, ProgressBar(tc.percent, 10)) })
	}
}

func hexColor(c int) string {
	const digits = "0123456789ABCDEF"
	b := []byte("#000000")
	for i := 6; i >= 1; i-- {
		b[i] = digits[c&0xF]
		c >>= 4
	}
	return string(b)
}
