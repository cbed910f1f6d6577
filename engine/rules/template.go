package rules

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/synapsehq/synapse/infra/apperr"
)

// template is message text with {placeholders}; no expressions, loops or
// method calls, so rendering is cheap and cannot reach anything else.
//
//	{user} mention of the acting user   {user_id} its id
//	{target} mention of the target      {channel} mention of the channel
//	{event} event name  {rule} rule name  {zone} zone name
//	{data.NAME} a field of an internal event's data
//	{{ and }} are literal braces
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit string
	ph  string // placeholder name; empty for a literal
}

var placeholders = map[string]bool{"user": true, "user_id": true, "target": true, "channel": true, "event": true, "rule": true, "zone": true}

func compileTemplate(src, path string, maxLen int) (*template, error) {
	if utf8.RuneCountInString(src) > maxLen {
		return nil, apperr.Invalid(path, "must be at most %d characters", maxLen)
	}
	t := &template{}
	var lit strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '{' && i+1 < len(src) && src[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(src) && src[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(src[i:], '}')
			if end < 0 {
				return nil, apperr.Invalid(path, "has an unclosed { at offset %d", i)
			}
			name := src[i+1 : i+end]
			data, isData := strings.CutPrefix(name, "data.")
			if !placeholders[name] && !(isData && validIdent(data)) {
				return nil, apperr.Invalid(path, "unknown placeholder {%s}", name)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tmplPart{ph: name})
			i += end
		case c == '}':
			return nil, apperr.Invalid(path, "has an unopened } at offset %d (write }} for a brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tmplPart{lit: lit.String()})
	}
	return t, nil
}

func (t *template) render(ec *evalCtx) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ph == "" {
			b.WriteString(p.lit)
			continue
		}
		switch p.ph {
		case "user":
			b.WriteString("<@" + strconv.FormatInt(ec.ev.UserID, 10) + ">")
		case "user_id":
			b.WriteString(strconv.FormatInt(ec.ev.UserID, 10))
		case "target":
			b.WriteString("<@" + strconv.FormatInt(ec.ev.TargetID, 10) + ">")
		case "channel":
			b.WriteString("<#" + strconv.FormatInt(ec.ev.ChannelID, 10) + ">")
		case "event":
			b.WriteString(ec.ev.Name)
		case "rule":
			b.WriteString(ec.rule.Name)
		case "zone":
			if ec.zone != nil {
				b.WriteString(ec.zone.Name)
			}
		default:
			if v, ok := ec.ev.Data[strings.TrimPrefix(p.ph, "data.")]; ok {
				b.WriteString(formatData(v))
			}
		}
	}
	return b.String()
}

func formatData(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
