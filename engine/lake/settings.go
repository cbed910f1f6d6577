package lake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/synapsehq/synapse/infra/apperr"
)

// DefaultRetentionDays is how long a tenant's lake rows are kept unless
// its settings say otherwise.
const DefaultRetentionDays = 90

// MaxRetentionDays bounds capture.retention_days: every day kept is a
// partition (the longest retention any guild keeps decides which
// partitions stay), and the dashboard's ranges span at most 400 days.
const MaxRetentionDays = 400

// CaptureSettings are the Data Sources choices an operator makes per guild,
// read from the "capture" object of the guild's settings:
//
//	{"capture": {"disabled": ["voice_join"], "afk_channels": ["123"], "retention_days": 30}}
//
// Everything is captured unless disabled.
type CaptureSettings struct {
	Disabled      map[Type]bool
	AFKChannels   map[int64]bool // counted as AFK like the guild's own AFK channel
	RetentionDays int
	// Ignored lists, as JSON paths, what was malformed and read as its
	// default instead (or adjusted, for retention_days), for the caller to
	// log. Empty for settings the API accepts (ValidateCaptureSettings).
	Ignored []string
}

// ParseCaptureSettings reads a guild's settings document, field by field:
// a malformed field (or list element) falls back to its default and is
// listed in Ignored, the others still apply. Unknown event types and
// malformed ids are skipped rather than stopping capture.
//
// retention_days is read as RetentionDaysSQL reads it: a JSON number
// (rounded up to whole days, so never less than asked) or a string of
// digits; below 1 or anything else is the default, above MaxRetentionDays
// is MaxRetentionDays.
func ParseCaptureSettings(settings []byte) CaptureSettings {
	cs := CaptureSettings{Disabled: map[Type]bool{}, AFKChannels: map[int64]bool{}, RetentionDays: DefaultRetentionDays}
	if len(bytes.TrimSpace(settings)) == 0 {
		return cs
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(settings, &doc); err != nil {
		cs.Ignored = append(cs.Ignored, "settings")
		return cs
	}
	raw, ok := doc["capture"]
	if !ok || isNull(raw) {
		return cs
	}
	var capture map[string]json.RawMessage
	if err := json.Unmarshal(raw, &capture); err != nil {
		cs.Ignored = append(cs.Ignored, "capture")
		return cs
	}
	if raw, ok := capture["disabled"]; ok && !isNull(raw) {
		cs.Ignored = eachElement(raw, "capture.disabled", cs.Ignored, func(el json.RawMessage) bool {
			var name string
			if json.Unmarshal(el, &name) != nil {
				return false
			}
			t, err := ParseType(name)
			if err == nil {
				cs.Disabled[t] = true
			}
			return err == nil
		})
	}
	if raw, ok := capture["afk_channels"]; ok && !isNull(raw) {
		cs.Ignored = eachElement(raw, "capture.afk_channels", cs.Ignored, func(el json.RawMessage) bool {
			// Ids as strings or numbers, as the milestones read them.
			var id json.Number
			if json.Unmarshal(el, &id) != nil {
				return false
			}
			n, err := strconv.ParseInt(id.String(), 10, 64)
			if err == nil && n > 0 {
				cs.AFKChannels[n] = true
			}
			return err == nil && n > 0
		})
	}
	if raw, ok := capture["retention_days"]; ok && !isNull(raw) {
		days, exact := parseRetentionDays(raw)
		cs.RetentionDays = days
		if !exact {
			cs.Ignored = append(cs.Ignored, "capture.retention_days")
		}
	}
	return cs
}

// eachElement calls use on each element of the JSON array raw, adding to
// ignored the path of each element use refuses, or path itself when raw
// is not an array.
func eachElement(raw json.RawMessage, path string, ignored []string, use func(json.RawMessage) bool) []string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return append(ignored, path)
	}
	for i, el := range list {
		if !use(el) {
			ignored = append(ignored, fmt.Sprintf("%s[%d]", path, i))
		}
	}
	return ignored
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// parseRetentionDays reads a present, non-null retention_days; exact is
// false when the value was not a whole number of days in range as such.
func parseRetentionDays(raw json.RawMessage) (days int, exact bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return DefaultRetentionDays, false
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		if !digits.MatchString(x) {
			return DefaultRetentionDays, false
		}
		text = x // honoured, though the API accepts numbers only
	default:
		return DefaultRetentionDays, false
	}
	// Exact decimal arithmetic, as Postgres' numeric: 30.0000000000000001
	// is 31 days in both.
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return DefaultRetentionDays, false
	}
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	whole := rem.Sign() == 0
	if rem.Sign() > 0 {
		q.Add(q, big.NewInt(1)) // rounded up: keep at least what was asked
	}
	switch {
	case q.Sign() <= 0:
		return DefaultRetentionDays, false
	case q.Cmp(big.NewInt(MaxRetentionDays)) > 0:
		return MaxRetentionDays, false
	}
	_, isNumber := v.(json.Number)
	return int(q.Int64()), whole && isNumber
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// RetentionDaysSQL is ParseCaptureSettings' RetentionDays as a SQL
// expression over a guild's settings (a jsonb expression such as
// "g.settings"), for queries that need every guild's retention. It never
// fails, whatever the document holds.
func RetentionDaysSQL(settings string) string {
	// Each branch is reached only for its jsonb type, so no cast can fail.
	return fmt.Sprintf(`(SELECT CASE WHEN d IS NULL OR d < 1 THEN %[2]d WHEN d > %[3]d THEN %[3]d ELSE d::int END FROM (
		SELECT CASE jsonb_typeof(v)
			WHEN 'number' THEN ceil(v::numeric)
			WHEN 'string' THEN CASE WHEN (v #>> '{}') ~ '^[0-9]+$' THEN (v #>> '{}')::numeric END
		END AS d FROM (SELECT (%[1]s)->'capture'->'retention_days' AS v) rv) rd)`,
		settings, DefaultRetentionDays, MaxRetentionDays)
}

// captureFields are the keys a capture object may have.
var captureFields = []string{"afk_channels", "disabled", "retention_days"}

// ValidateCaptureSettings checks the capture object of a settings document
// before it is stored, so that an operator's typo is refused with its JSON
// path instead of being ignored at capture or retention time. A document
// without capture is valid; other sections are not looked at.
func ValidateCaptureSettings(settings json.RawMessage) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(settings, &doc); err != nil || doc == nil {
		return apperr.Invalid("settings", "must be a JSON object")
	}
	raw, ok := doc["capture"]
	if !ok || isNull(raw) {
		return nil
	}
	var capture map[string]json.RawMessage
	if err := json.Unmarshal(raw, &capture); err != nil || capture == nil {
		return apperr.Invalid("settings.capture", "must be an object")
	}
	keys := make([]string, 0, len(capture))
	for k := range capture {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same field first every time
	for _, k := range keys {
		if !slices.Contains(captureFields, k) {
			return apperr.Invalid("settings.capture."+k, "is not a capture setting (known: %s)", strings.Join(captureFields, ", "))
		}
	}
	if raw, ok := capture["disabled"]; ok {
		names := make([]string, len(Types))
		for i, t := range Types {
			names[i] = t.String()
		}
		err := validateList(raw, "settings.capture.disabled", "must be one of "+strings.Join(names, ", "), func(el json.RawMessage) bool {
			var name string
			if json.Unmarshal(el, &name) != nil {
				return false
			}
			t, err := ParseType(name)
			return err == nil && slices.Contains(Types, t)
		})
		if err != nil {
			return err
		}
	}
	if raw, ok := capture["afk_channels"]; ok {
		err := validateList(raw, "settings.capture.afk_channels", "must be a channel id (a string of digits)", func(el json.RawMessage) bool {
			var id string
			if json.Unmarshal(el, &id) != nil || !digits.MatchString(id) {
				return false
			}
			n, err := strconv.ParseInt(id, 10, 64)
			return err == nil && n > 0
		})
		if err != nil {
			return err
		}
	}
	if raw, ok := capture["retention_days"]; ok {
		if _, exact := parseRetentionDays(raw); !exact {
			return apperr.Invalid("settings.capture.retention_days", "must be a whole number of days between 1 and %d", MaxRetentionDays)
		}
	}
	return nil
}

// validateList checks that raw is a JSON array whose elements all pass ok.
func validateList(raw json.RawMessage, path, msg string, ok func(json.RawMessage) bool) error {
	var list []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &list) != nil {
		return apperr.Invalid(path, "must be a list")
	}
	for i, el := range list {
		if !ok(el) {
			return apperr.Invalid(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
		}
	}
	return nil
}

// Captures reports whether events of type t are to be stored.
func (c CaptureSettings) Captures(t Type) bool { return !c.Disabled[t] }
