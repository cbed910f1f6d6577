package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"

	"github.com/synapsehq/synapse/infra/apperr"
)

// decodeParams decodes a type's params strictly (unknown fields refused)
// and reports problems at their JSON path under path ("conditions[1].params").
func decodeParams(raw []byte, dst any, path string) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return apperr.Invalid(path, "must be a single JSON object")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// decodeStrict walks the params to name the exact value
		// ("roles[1]"): encoding/json names only the field, and under
		// GOEXPERIMENT=jsonv2 not even that when a Snowflake refused it.
		if err := decodeStrict(raw, reflect.New(reflect.TypeOf(dst).Elem()).Elem(), path); err != nil {
			return err
		}
		if te.Field == "" {
			return apperr.Invalid(path, "must be a JSON object")
		}
		if te.Type == reflect.TypeFor[Snowflake]() {
			return apperr.Invalid(path+"."+te.Field, "must be a Discord id (a string of digits)")
		}
		return apperr.Invalid(path+"."+te.Field, "must be %s", jsonKind(te.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apperr.Invalid(path+"."+strings.Trim(name, `"`), "is not a known parameter")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return apperr.Invalid(path, "is not valid JSON")
	}
	// Custom unmarshalers (Snowflake, durations) report without a field.
	return apperr.Invalid(path, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// idx renders "name[i]".
func idx(name string, i int) string {
	return name + "[" + itoa(i) + "]"
}

func itoa(i int) string {
	if i >= 0 && i < 10 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}
