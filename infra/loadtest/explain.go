package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/workers/gateway"
)

// maxDetails bounds LostEvents and DuplicateEvents.
const maxDetails = 200

// explain names the lost and duplicated rows: messages one by one (they
// have ids), other events per (type, guild, user), where the lake cannot
// say which of a member's events is the missing one.
func explain(ctx context.Context, sc *scratch, exp gateway.Expected, records []discordsim.Record, sessions []discordsim.SessionEvent, rep *Report) error {
	if dir := os.Getenv("SYNAPSE_CAPTURE_TRACE_DIR"); dir != "" {
		// With the workers' traces of received and committed dispatches,
		// the ground truth tells where each event went missing.
		if err := writeNDJSON(filepath.Join(dir, "groundtruth.ndjson"), records); err != nil {
			return err
		}
		if err := writeNDJSON(filepath.Join(dir, "sessions.ndjson"), sessions); err != nil {
			return err
		}
	}
	if rep.Lost == 0 && rep.Duplicates == 0 {
		return nil
	}
	// Messages: by id.
	byKey, deleted := map[string]discordsim.Record{}, map[string]discordsim.Record{}
	for _, r := range records {
		switch r.Type {
		case "MESSAGE_CREATE":
			byKey[r.Key] = r
		case "MESSAGE_DELETE":
			deleted[r.Key] = r
		}
	}
	rows, err := sc.db.Pool.Query(ctx, "SELECT source_id, count(*) FROM event_lake WHERE event_type = $1 GROUP BY 1", int16(lake.MessageCreate))
	if err != nil {
		return err
	}
	stored := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		stored[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var missing []int64
	for id := range exp.Messages {
		if stored[id] == 0 {
			missing = append(missing, id)
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	for _, id := range missing {
		k := strconv.FormatInt(id, 10)
		note := ""
		if d, ok := deleted[k]; ok {
			note = fmt.Sprintf("deleted at index %d (%d events later), delete delivered to %d sessions", d.Index, d.Index-byKey[k].Index, len(d.Deliveries))
		}
		rep.addDetail(&rep.LostEvents, detailOf(lake.MessageCreate, byKey[k], 0, note))
	}
	for id, n := range stored {
		if n > 1 || !exp.Messages[id] {
			d := detailOf(lake.MessageCreate, byKey[strconv.FormatInt(id, 10)], 0, fmt.Sprintf("stored %d times, expected %t", n, exp.Messages[id]))
			d.Key = strconv.FormatInt(id, 10)
			rep.addDetail(&rep.DuplicateEvents, d)
		}
	}

	// Other events: per (type, guild, user).
	type gk struct {
		typ         lake.Type
		guild, user int64
	}
	want := map[gk][]gateway.ExpectedItem{}
	for _, it := range exp.Items {
		k := gk{it.Type, it.GuildID, it.UserID}
		want[k] = append(want[k], it)
	}
	got := map[gk]int{}
	rows, err = sc.db.Pool.Query(ctx, `SELECT event_type, guild_id, CASE WHEN event_type = $2 THEN 0 ELSE user_id END, count(*)
		FROM event_lake WHERE flags & $1 = 0 AND event_type <> $3 GROUP BY 1, 2, 3`,
		int16(lake.FlagSynthetic), int16(lake.ThreadCreate), int16(lake.MessageCreate))
	if err != nil {
		return err
	}
	for rows.Next() {
		var t int16
		var k gk
		var n int
		if err := rows.Scan(&t, &k.guild, &k.user, &n); err != nil {
			return err
		}
		k.typ = lake.Type(t)
		got[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	keys := map[gk]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	ordered := make([]gk, 0, len(keys))
	for k := range keys {
		ordered = append(ordered, k)
	}
	sort.Slice(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		if a.guild != b.guild {
			return a.guild < b.guild
		}
		return a.user < b.user
	})
	for _, k := range ordered {
		w, g := len(want[k]), got[k]
		if w == g {
			continue
		}
		group := fmt.Sprintf("%d of these %d expected stored", g, w)
		dst := &rep.LostEvents
		if g > w {
			dst = &rep.DuplicateEvents
		}
		if w == 0 {
			rep.addDetail(dst, EventDetail{Type: k.typ.String(), GuildID: k.guild, UserID: k.user, Shard: -1, Group: fmt.Sprintf("stored %d, none expected", g)})
			continue
		}
		for _, it := range want[k] {
			rep.addDetail(dst, detailOf(k.typ, it.Record, it.UserID, group))
		}
	}
	// Name the fault that preceded each.
	for _, list := range [][]EventDetail{rep.LostEvents, rep.DuplicateEvents} {
		for i := range list {
			list[i].AfterFault = rep.faultBefore(list[i].Index)
		}
	}
	return nil
}

func detailOf(t lake.Type, r discordsim.Record, user int64, group string) EventDetail {
	return EventDetail{Type: t.String(), GuildID: int64(r.GuildID), UserID: user, Key: r.Key, Shard: r.Shard,
		Index: r.Index, SimTime: r.Time, Deliveries: r.Deliveries, Group: group}
}

func (rep *Report) addDetail(dst *[]EventDetail, d EventDetail) {
	if len(*dst) < maxDetails {
		*dst = append(*dst, d)
	}
}

// faultBefore describes the last fault injected before ground-truth index idx.
func (rep *Report) faultBefore(idx uint64) string {
	if idx == 0 {
		return ""
	}
	var last *FaultEntry
	for i := range rep.FaultLog {
		if f := &rep.FaultLog[i]; f.Index < idx && (last == nil || f.Index >= last.Index) {
			last = f
		}
	}
	if last == nil {
		return "before any fault"
	}
	return fmt.Sprintf("%s shard %d, %d events after it", last.Kind, last.Shard, idx-last.Index)
}

func writeNDJSON[T any](path string, records []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
