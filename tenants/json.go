package tenants

import (
	"encoding/json"
	"strconv"
)

// mustJSON marshals values built here from plain maps, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Snowflakes are Discord ids, written to JSON as strings (JavaScript
// numbers cannot hold them) and read from strings or numbers.
type Snowflakes []int64

func (s Snowflakes) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, id := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

func (s *Snowflakes) UnmarshalJSON(data []byte) error {
	var raw []json.Number
	if err := json.Unmarshal(data, &raw); err != nil {
		var strs []string
		if err := json.Unmarshal(data, &strs); err != nil {
			return err
		}
		raw = make([]json.Number, len(strs))
		for i, v := range strs {
			raw[i] = json.Number(v)
		}
	}
	out := make(Snowflakes, len(raw))
	for i, v := range raw {
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil {
			return err
		}
		out[i] = n
	}
	*s = out
	return nil
}
