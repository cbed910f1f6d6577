package discordsim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

func TestGenerateServerDayProfile(t *testing.T) {
	t.Parallel()
	run := func() (*Server, GenerateResult) {
		s := setup(t, func(c *Config) { c.Guilds = 1; c.MembersPerGuild = 500; c.PendingGuilds = 0; c.Seed = 42 })
		res, err := s.Generate(context.Background(), GenerateOptions{Profile: ProfileServerDay})
		require.NoError(t, err)
		return s, res
	}
	a, resA := run()
	b, resB := run()

	// ~22,000 events for a 500-member server over one simulated day.
	require.InDelta(t, 22000, resA.Dispatches, 1500)
	require.Greater(t, resA.Simulated, 23*time.Hour)
	gtA, gtB := a.GroundTruth(), b.GroundTruth()
	require.Equal(t, len(gtA), resA.Dispatches)
	require.Equal(t, len(gtA), len(gtB))
	require.Equal(t, resA, resB, "same seed, same run")
	for i := range gtA {
		require.Equal(t, gtA[i].Type, gtB[i].Type)
		require.Equal(t, gtA[i].Key, gtB[i].Key)
	}

	byType := map[string]int{}
	byHour := [24]int{}
	for _, r := range gtA {
		byType[r.Type]++
		byHour[r.Time.Hour()]++
	}
	for _, typ := range []string{"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_REACTION_ADD",
		"MESSAGE_REACTION_REMOVE", "THREAD_CREATE", "VOICE_STATE_UPDATE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE"} {
		require.Positive(t, byType[typ], typ)
	}
	require.Greater(t, byType["MESSAGE_CREATE"], byType["VOICE_STATE_UPDATE"])
	require.Greater(t, byHour[20], 3*byHour[4], "evenings are busier than nights")

	// Voice includes idlers (self mute / deaf) and members parked in AFK.
	afk := a.Guilds()[0].AFKChannel.String()
	var muted, deafened, parked, repeats int
	for _, r := range gtA {
		switch {
		case r.Type == "VOICE_STATE_UPDATE":
			parts := strings.Split(r.Key, ":")
			if parts[2] == "true" {
				muted++
			}
			if parts[3] == "true" {
				deafened++
			}
			if parts[1] == afk {
				parked++
			}
		case r.Type == "GUILD_MEMBER_ADD" && r.Repeat:
			repeats++
		}
	}
	require.Positive(t, muted)
	require.Positive(t, deafened)
	require.Positive(t, parked)
	require.Positive(t, repeats)
}

func TestGenerateSteadyDeliversEverythingToClient(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.Shards = 1; c.Guilds = 3 })
	rec := newRecorder()
	openGateway(t, s, 0, 1, rec)
	from := uint64(len(s.GroundTruth()))
	res, err := s.Generate(context.Background(), GenerateOptions{Profile: ProfileSteady, Rate: 2000, MaxEvents: 400})
	require.NoError(t, err)
	require.Equal(t, 400, res.Events)
	assertExactDelivery(t, s, rec, from)
	// Spot-check payloads decode as disgo types (no EventUnknown / dropped events).
	require.Len(t, rec.ofType(gateway.EventTypeMessageCreate), int(s.Stats().Dispatches["MESSAGE_CREATE"]))
}

func TestScenarioFileAndAdminAPI(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := guildOnShard(t, s, 0)
	rec := newRecorder()
	openGateway(t, s, 0, 2, rec)

	body := `{"name":"admin","guild":"` + g.ID.String() + `","steps":[
		{"at":"0s","do":"message","channel":"general","member":1,"content":"hello","ref":"m"},
		{"at":"2s","do":"react","message":"m","member":2,"emoji":"🎉"},
		{"at":"5s","do":"fault","fault":{"kind":"drop_connection","shard":0}},
		{"at":"6s","do":"message","channel":"random","member":3,"content":"while away"},
		{"at":"7s","do":"await_ready","shard":0},
		{"at":"8s","do":"voice_join","member":4,"channel":"General","mute":true}
	]}`
	from := uint64(len(s.GroundTruth()))
	res := postJSON(t, s.URL()+"/_sim/scenario", body)
	var sr ScenarioResult
	require.NoError(t, json.Unmarshal(res, &sr))
	require.NotZero(t, sr.Refs["m"])
	require.Equal(t, from+4, sr.LastIndex)

	// Simulated clock followed the scenario offsets.
	gt := s.GroundTruthSince(from, 0)
	require.Equal(t, 6*time.Second, gt[2].Time.Sub(gt[0].Time))
	assertExactDelivery(t, s, rec, from)

	var recs []Record
	require.NoError(t, json.Unmarshal(getJSON(t, s.URL()+"/_sim/groundtruth?after="+itoa(from)), &recs))
	require.Len(t, recs, 4)
	require.Equal(t, "MESSAGE_CREATE", recs[0].Type)
	require.Equal(t, sr.Refs["m"].String(), recs[0].Key)

	var st Stats
	require.NoError(t, json.Unmarshal(getJSON(t, s.URL()+"/_sim/stats"), &st))
	require.EqualValues(t, 2, st.Dispatches["MESSAGE_CREATE"])
	require.EqualValues(t, 1, st.Resumes)

	var info Info
	require.NoError(t, json.Unmarshal(getJSON(t, s.URL()+"/_sim/info"), &info))
	require.Equal(t, s.Token(), info.Token)
	require.Equal(t, s.RESTURL(), info.RESTURL)
	require.Len(t, info.Guilds, 8)

	steps := postJSON(t, s.URL()+"/_sim/steps", `[{"do":"member_join","guild":"`+g.ID.String()+`","ref":"u"}]`)
	require.Contains(t, string(steps), `"u"`)

	before := s.GroundTruthLastIndex()
	_ = postJSON(t, s.URL()+"/_sim/generate", `{"profile":"steady","rate":1000,"max_events":20}`)
	require.Eventually(t, func() bool { return s.GroundTruthLastIndex() >= before+20 }, 5*time.Second, 10*time.Millisecond)

	_ = postJSON(t, s.URL()+"/_sim/faults", `{"kind":"rest_5xx","path_prefix":"/users/@me","count":1,"status":502}`)
	_, err := restClient(t, s).GetCurrentUser("")
	require.Error(t, err)

	_, err = ParseScenario([]byte("steps:\n  - {do: message, at: 2s}\n  - {do: message, at: 1s}\n"))
	require.ErrorIs(t, err, ErrInvalid, "time must not go backwards")
	_, err = ParseScenario([]byte("steps:\n  - {do: message, bogus: 1}\n"))
	require.Error(t, err, "unknown fields are rejected")
}

func TestDemoScenarioFile(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	sc, err := LoadScenario("testdata/demo.yaml")
	require.NoError(t, err)
	res, err := s.RunScenario(context.Background(), sc)
	require.NoError(t, err)
	require.Equal(t, uint64(len(sc.Steps)-1), res.LastIndex-res.FirstIndex+1, "every step but the fault dispatches once")
	recs := s.GroundTruthSince(res.FirstIndex-1, 0)
	require.Equal(t, "MESSAGE_CREATE", recs[0].Type)
	require.True(t, recs[len(recs)-5].Repeat, "repeated GUILD_MEMBER_ADD is flagged")
	require.Equal(t, 122*time.Second, recs[len(recs)-1].Time.Sub(recs[0].Time))
}
