package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

// history serves one page of a channel's history.
type history struct {
	rest.Rest
	msgs []discord.Message
}

func (h history) GetMessages(_, _, _, _ snowflake.ID, _ int, _ ...rest.RequestOpt) ([]discord.Message, error) {
	return h.msgs, nil
}

// A gap's backfill honours the guild's capture toggles as they are now,
// like live capture: with message_create disabled (the Data Sources page),
// the messages of a gap are not stored either. Before, backfill stored
// them whatever the settings said.
func TestBackfillHonoursCaptureToggles(t *testing.T) {
	t.Parallel()
	const guild, channel = 1000, 2000
	at := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	msg := discord.Message{ID: snowflake.ID(lake.MintSnowflake(at, 1)), ChannelID: channel, Type: discord.MessageTypeDefault,
		Content: "written in the gap", Author: discord.User{ID: 42}}
	for _, tc := range []struct {
		name     string
		settings string
		want     int
	}{
		{name: "captured", settings: `{}`, want: 1},
		{name: "message_create disabled", settings: `{"capture":{"disabled":["message_create"]}}`, want: 0},
		{name: "another type disabled", settings: `{"capture":{"disabled":["voice_join"]}}`, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &guildEntry{tenantID: 7}
			on := lake.ParseCaptureSettings([]byte(`{}`))
			e.capture.Store(&on)
			dir := &Directory{guilds: map[int64]*guildEntry{guild: e}}
			in := make(chan item, 4)
			pipe := &Pipeline{lanes: []chan item{in}}
			s := &shardRun{w: &Worker{rest: history{msgs: []discord.Message{msg}}, dir: dir, pipe: pipe}, log: testenv.Logger(t)}

			// The settings refresh applies the Data Sources page's change.
			cs := lake.ParseCaptureSettings([]byte(tc.settings))
			e.capture.Store(&cs)
			n, ok := s.backfillChannel(context.Background(), guild, channel, 7, 0)
			require.True(t, ok)
			require.Equal(t, tc.want, n)
			require.Len(t, in, tc.want)
		})
	}
}
