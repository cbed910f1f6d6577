package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

func TestProgressForAchievementsCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 7, 0)
	b.template(t, g, Template{Key: "secret", Name: "Secret", Description: "shh", Emoji: "🤫", Hidden: true,
		Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 10}})
	b.template(t, g, Template{Key: "ten", Name: "Ten", Rarity: Rare, Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 10}})
	b.template(t, g, Template{Key: "five", Name: "Five", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 5}})
	_, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)

	ps, err := b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	cases := []struct {
		name string
		key  string
		want Progress
		bar  string
	}{
		{name: "in progress", key: "ten", bar: "▰▰▰▰▰▰▰▱▱▱",
			want: Progress{Name: "Ten", Rarity: Rare, Current: 7, Target: 10, Label: "7/10 messages", Percent: 70}},
		{name: "earned", key: "five", bar: "▰▰▰▰▰▰▰▰▰▰",
			want: Progress{Name: "Five", Rarity: Common, Current: 7, Target: 5, Label: "5/5 messages", Percent: 100, Earned: true, Times: 1}},
		{name: "hidden and not earned keeps its secret", key: "secret", bar: "▰▰▰▰▰▰▰▱▱▱",
			want: Progress{Name: "???", Emoji: "❔", Rarity: Common, Hidden: true, Current: 7, Target: 10, Label: "hidden", Percent: 70}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := progressOf(t, ps, tc.key)
			tc.want.TemplateID, tc.want.Key = p.TemplateID, tc.key
			require.Equal(t, tc.want, p)
			require.Equal(t, tc.bar, ProgressBar(p.Percent, 10))
		})
	}
}
