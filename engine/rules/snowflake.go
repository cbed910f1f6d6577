package rules

import (
	"encoding/json"
	"reflect"
	"strconv"
)

// Snowflake is a Discord id in JSON documents: written as a string (ids
// exceed 2^53, which JavaScript numbers cannot hold), read from a string or
// a number.
type Snowflake int64

// MarshalJSON writes the id as a decimal string.
func (s Snowflake) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(s), 10) + `"`), nil
}

// UnmarshalJSON accepts "123" or 123.
func (s *Snowflake) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		v, err := strconv.ParseInt(str, 10, 64)
		if err != nil || v < 0 {
			return notSnowflake(string(b))
		}
		*s = Snowflake(v)
		return nil
	}
	var v int64
	if err := json.Unmarshal(b, &v); err != nil || v < 0 {
		return notSnowflake(string(b))
	}
	*s = Snowflake(v)
	return nil
}

// notSnowflake is a type error, so encoding/json adds the field's path.
func notSnowflake(v string) error {
	return &json.UnmarshalTypeError{Value: v, Type: reflect.TypeFor[Snowflake]()}
}
