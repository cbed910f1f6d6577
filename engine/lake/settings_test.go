package lake_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// One malformed field no longer throws the whole capture object away: the
// others still apply, the bad one is its default and is reported.
func TestParseCaptureSettingsIsTolerantPerField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		settings  string
		disabled  []lake.Type
		afk       []int64
		retention int
		ignored   []string
	}{
		{name: "empty", settings: ``, retention: 90},
		{name: "no capture", settings: `{"timezone":"Europe/Berlin"}`, retention: 90},
		{name: "capture null", settings: `{"capture":null}`, retention: 90},
		{name: "valid", settings: `{"capture":{"disabled":["voice_join"],"afk_channels":["903"],"retention_days":30}}`,
			disabled: []lake.Type{lake.VoiceJoin}, afk: []int64{903}, retention: 30},
		{name: "retention as a string of digits is honoured", settings: `{"capture":{"disabled":["message_create"],"retention_days":"30"}}`,
			disabled: []lake.Type{lake.MessageCreate}, retention: 30, ignored: []string{"capture.retention_days"}},
		{name: "fractional retention rounds up", settings: `{"capture":{"disabled":["message_create"],"retention_days":30.5}}`,
			disabled: []lake.Type{lake.MessageCreate}, retention: 31, ignored: []string{"capture.retention_days"}},
		{name: "whole number written as a decimal", settings: `{"capture":{"retention_days":30.0}}`, retention: 30},
		{name: "retention not a number", settings: `{"capture":{"disabled":["message_create"],"retention_days":"a month"}}`,
			disabled: []lake.Type{lake.MessageCreate}, retention: 90, ignored: []string{"capture.retention_days"}},
		{name: "retention an object", settings: `{"capture":{"retention_days":{"days":3}}}`, retention: 90, ignored: []string{"capture.retention_days"}},
		{name: "retention zero", settings: `{"capture":{"retention_days":0}}`, retention: 90, ignored: []string{"capture.retention_days"}},
		{name: "retention negative", settings: `{"capture":{"retention_days":-5}}`, retention: 90, ignored: []string{"capture.retention_days"}},
		{name: "retention too long", settings: `{"capture":{"retention_days":1e9}}`, retention: lake.MaxRetentionDays, ignored: []string{"capture.retention_days"}},
		{name: "disabled not a list", settings: `{"capture":{"disabled":"voice_join","retention_days":7}}`,
			retention: 7, ignored: []string{"capture.disabled"}},
		{name: "bad list elements skipped", settings: `{"capture":{"disabled":["voice_join",3,"nope"],"afk_channels":["903",904,"x",-1]}}`,
			disabled: []lake.Type{lake.VoiceJoin}, afk: []int64{903, 904}, retention: 90,
			ignored: []string{"capture.disabled[1]", "capture.disabled[2]", "capture.afk_channels[2]", "capture.afk_channels[3]"}},
		{name: "capture not an object", settings: `{"capture":[1]}`, retention: 90, ignored: []string{"capture"}},
		{name: "not json", settings: `{`, retention: 90, ignored: []string{"settings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := lake.ParseCaptureSettings([]byte(tc.settings))
			disabled := map[lake.Type]bool{}
			for _, d := range tc.disabled {
				disabled[d] = true
			}
			afk := map[int64]bool{}
			for _, a := range tc.afk {
				afk[a] = true
			}
			require.Equal(t, disabled, cs.Disabled)
			require.Equal(t, afk, cs.AFKChannels)
			require.Equal(t, tc.retention, cs.RetentionDays)
			require.Equal(t, tc.ignored, cs.Ignored)
		})
	}
}

func TestValidateCaptureSettingsNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		settings string
		field    string // "" when valid
	}{
		{name: "valid", settings: `{"capture":{"disabled":["voice_join"],"afk_channels":["903"],"retention_days":30}}`},
		{name: "no capture", settings: `{"announcements":{"channel_id":"1"}}`},
		{name: "whole decimal", settings: `{"capture":{"retention_days":30.0}}`},
		{name: "longest", settings: `{"capture":{"retention_days":400}}`},
		{name: "not an object", settings: `[1]`, field: "settings"},
		{name: "capture not an object", settings: `{"capture":"yes"}`, field: "settings.capture"},
		{name: "fractional retention", settings: `{"capture":{"retention_days":30.5}}`, field: "settings.capture.retention_days"},
		{name: "retention as a string", settings: `{"capture":{"retention_days":"30"}}`, field: "settings.capture.retention_days"},
		{name: "retention zero", settings: `{"capture":{"retention_days":0}}`, field: "settings.capture.retention_days"},
		{name: "retention too long", settings: `{"capture":{"retention_days":401}}`, field: "settings.capture.retention_days"},
		{name: "retention null", settings: `{"capture":{"retention_days":null}}`, field: "settings.capture.retention_days"},
		{name: "unknown type", settings: `{"capture":{"disabled":["voice_join","message_delete"]}}`, field: "settings.capture.disabled[1]"},
		{name: "derived type", settings: `{"capture":{"disabled":["voice_active"]}}`, field: "settings.capture.disabled[0]"},
		{name: "disabled not a list", settings: `{"capture":{"disabled":"voice_join"}}`, field: "settings.capture.disabled"},
		{name: "numeric channel id", settings: `{"capture":{"afk_channels":[903]}}`, field: "settings.capture.afk_channels[0]"},
		{name: "typo", settings: `{"capture":{"retention_day":30}}`, field: "settings.capture.retention_day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := lake.ValidateCaptureSettings(json.RawMessage(tc.settings))
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *apperr.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			require.Equal(t, tc.field, ve.Field)
		})
	}
	err := lake.ValidateCaptureSettings(json.RawMessage(`{"capture":{"retention_days":30.5}}`))
	require.EqualError(t, err, "invalid settings.capture.retention_days: must be a whole number of days between 1 and 400")
}

// RetentionDaysSQL reads every document as ParseCaptureSettings does, and
// never fails on one.
func TestRetentionDaysSQLAgreesWithTheGoParser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tenant := tenanttest.Tenant(ctx, t, db.Bun, nil)
	docs := []string{
		`{}`, `{"capture":null}`, `{"capture":[1]}`, `{"capture":"x"}`, `{"capture":{}}`,
		`{"capture":{"retention_days":30}}`, `{"capture":{"retention_days":30.5}}`, `{"capture":{"retention_days":30.0}}`,
		`{"capture":{"retention_days":30.0000000000000001}}`, `{"capture":{"retention_days":"30"}}`,
		`{"capture":{"retention_days":"30.5"}}`, `{"capture":{"retention_days":" 30"}}`, `{"capture":{"retention_days":"a month"}}`,
		`{"capture":{"retention_days":true}}`, `{"capture":{"retention_days":null}}`, `{"capture":{"retention_days":[30]}}`,
		`{"capture":{"retention_days":0}}`, `{"capture":{"retention_days":0.2}}`, `{"capture":{"retention_days":-3}}`,
		`{"capture":{"retention_days":400}}`, `{"capture":{"retention_days":401}}`, `{"capture":{"retention_days":1e400}}`,
		`{"capture":{"retention_days":"99999999999999999999999"}}`, `{"capture":{"retention_days":2e1}}`,
	}
	for _, doc := range docs {
		g := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
		_, err := db.Pool.Exec(ctx, `UPDATE guilds SET settings = $3::jsonb WHERE tenant_id = $1 AND id = $2`, tenant.ID, g.ID, doc)
		require.NoError(t, err)
		var days int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT `+lake.RetentionDaysSQL("g.settings")+` FROM guilds g WHERE tenant_id = $1 AND id = $2`,
			tenant.ID, g.ID).Scan(&days), doc)
		require.Equal(t, lake.ParseCaptureSettings([]byte(doc)).RetentionDays, days, doc)
	}
}
