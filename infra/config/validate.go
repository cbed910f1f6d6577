package config

import (
	"errors"
	"net"
	"net/url"
	"strconv"
)

// Checker gathers validation problems so that one start reports all of them.
type Checker struct{ errs []error }

// Err returns every problem found, or nil.
func (c *Checker) Err() error { return errors.Join(c.errs...) }

func (c *Checker) fail(flag, value, expected string) {
	c.errs = append(c.errs, &Error{Var: EnvName(flag), Value: value, Expected: expected})
}

// URL requires a URL with one of the schemes and a host.
func (c *Checker) URL(flag, value string, schemes ...string) {
	expected := "a URL with scheme " + schemes[0]
	for _, s := range schemes[1:] {
		expected += " or " + s
	}
	if value == "" {
		c.fail(flag, "", expected)
		return
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		c.fail(flag, redact(value), expected)
		return
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return
		}
	}
	c.fail(flag, redact(value), expected)
}

// Addr requires host:port with a valid port (host may be empty).
func (c *Checker) Addr(flag, value string) {
	_, port, err := net.SplitHostPort(value)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr == nil && n >= 0 && n <= 65535 {
			return
		}
	}
	c.fail(flag, value, "a listen address host:port such as :8080 or 127.0.0.1:8080")
}

// Positive requires n > 0.
func (c *Checker) Positive(flag string, n int64) {
	if n <= 0 {
		c.fail(flag, strconv.FormatInt(n, 10), "a number greater than zero")
	}
}

// OneOf requires value to be one of the allowed words.
func (c *Checker) OneOf(flag, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	exp := "one of"
	for i, a := range allowed {
		if i > 0 {
			exp += ","
		}
		exp += " " + a
	}
	c.fail(flag, value, exp)
}

// NonEmpty requires a value; secret values are never echoed.
func (c *Checker) NonEmpty(flag, value, expected string) {
	if value == "" {
		c.fail(flag, "", expected)
	}
}

// redact hides a password inside a URL before it reaches an error message.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// MinLength reports a value (a secret: never echoed) shorter than n bytes.
func (c *Checker) MinLength(flag string, n int) {
	c.fail(flag, "(hidden)", "at least "+strconv.Itoa(n)+" bytes")
}
