package tenants

import "encoding/json"

// mustJSON marshals values built here from plain maps, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
