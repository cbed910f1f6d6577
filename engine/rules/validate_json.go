package rules

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/synapsehq/synapse/infra/apperr"
)

// DecodeStrict decodes what an operator sent (a rule document, or a
// request carrying one) into dst, a pointer. Unlike encoding/json it
// refuses a field dst does not have, at any depth, and matches names
// exactly: a misspelt "condtions" would otherwise be dropped and save a
// rule without its conditions. The first problem is a
// *apperr.ValidationError at its JSON path ("document.condtions",
// "document.trigger.events[1]"); "" is the body as a whole.
//
// Stored documents are read with encoding/json: what was valid when saved
// must keep loading.
func DecodeStrict(raw []byte, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return errors.New("rules: DecodeStrict needs a non-nil pointer")
	}
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		var probe any
		err := json.Unmarshal(raw, &probe)
		return apperr.Invalid("", "request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return decodeStrict(raw, v.Elem(), "")
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func decodeStrict(raw []byte, v reflect.Value, path string) error {
	if string(raw) == "null" || reflect.PointerTo(v.Type()).Implements(jsonUnmarshaler) ||
		reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		return decodeLeaf(raw, v, path) // types that read themselves (ConditionSpec, Snowflake, time.Time)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeStrict(raw, v.Elem(), path)
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
			return apperr.Invalid(path, "must be an object")
		}
		fields := jsonFields(v.Type())
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			if !ok {
				return apperr.Invalid(joinPath(path, k), "unknown field%s", suggest(k, fields))
			}
			val, fv := []byte(obj[k]), v.FieldByIndex(f.index)
			if f.quoted && string(val) != "null" && fv.Kind() != reflect.String {
				var s string
				if err := json.Unmarshal(val, &s); err != nil {
					return apperr.Invalid(joinPath(path, k), "must be a string")
				}
				if val = []byte(s); !json.Valid(val) {
					return apperr.Invalid(joinPath(path, k), "must be a string holding %s", jsonKind(fv.Kind().String()))
				}
			}
			if err := decodeStrict(val, fv, joinPath(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return decodeLeaf(raw, v, path) // []byte is base64
		}
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			return apperr.Invalid(path, "must be a list")
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			if err := decodeStrict(it, s.Index(i), idx(path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return decodeLeaf(raw, v, path)
		}
		var obj map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
			return apperr.Invalid(path, "must be an object")
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(v.Type(), len(obj)))
		}
		for _, k := range sortedKeys(obj) {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeStrict(obj[k], elem, joinPath(path, k)); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), elem)
		}
		return nil
	}
	return decodeLeaf(raw, v, path)
}

// decodeLeaf decodes a value encoding/json can take whole, reporting a
// wrong type at path.
func decodeLeaf(raw []byte, v reflect.Value, path string) error {
	err := json.Unmarshal(raw, v.Addr().Interface())
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		at := path
		if te.Field != "" { // inside a map[string]any or a type that decodes itself
			at = joinPath(path, te.Field)
		}
		if te.Type == reflect.TypeFor[Snowflake]() {
			return apperr.Invalid(at, "must be a Discord id (a string of digits)")
		}
		return apperr.Invalid(at, "must be %s", jsonKind(te.Type.Kind().String()))
	}
	var ve *apperr.ValidationError
	if errors.As(err, &ve) {
		return apperr.Invalid(joinPath(path, ve.Field), "%s", ve.Message)
	}
	return apperr.Invalid(path, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

type jsonField struct {
	index  []int
	quoted bool // the ",string" option
}

// jsonFields maps a struct's JSON names to its fields as encoding/json
// names them: the tag's name or the Go name, "-" skipped, the fields of
// untagged embedded structs promoted.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			at := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, at)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, taken := out[name]; !taken { // the shallower field wins
				out[name] = jsonField{index: at, quoted: strings.Contains(","+opts+",", ",string,")}
			}
		}
	}
	walk(t, nil)
	return out
}

func joinPath(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

// suggest names the known field closest to a misspelt one, if any is close.
func suggest(k string, fields map[string]jsonField) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if d := editDistance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return ` (did you mean "` + best + `"?)`
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
