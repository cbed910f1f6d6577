package cli

import (
	disgojson "github.com/disgoorg/json/v2"
	gojson "github.com/goccy/go-json"
)

// useFastJSON swaps the JSON codec disgo decodes gateway payloads with.
// Decoding is most of a gateway worker's CPU (encoding/json was 40% of a
// max-profile load test); disgo exposes its codec as package variables for
// exactly this, and goccy/go-json honours the same struct tags and
// (Un)Marshaler interfaces. Process-wide, so it is set once, here.
func useFastJSON() {
	disgojson.Unmarshal = gojson.Unmarshal
	disgojson.Marshal = gojson.Marshal
}
