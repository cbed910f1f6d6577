package ledger

import (
	"strconv"
	"strings"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Format shows an amount in minor units with the currency's decimals:
// 1250 with 2 decimals is "12.50"; -5 with 1 decimal is "-0.5".
func (c *Currency) Format(amount int64) string {
	if c.Decimals == 0 {
		return strconv.FormatInt(amount, 10)
	}
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	d := int(c.Decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	s = s[:len(s)-d] + "." + s[len(s)-d:]
	if neg {
		s = "-" + s
	}
	return s
}

// ParseAmount reads a positive amount typed by a member ("2.5" hours) into
// minor units, refusing more decimals than the currency has.
func (c *Currency) ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasDot := strings.Cut(s, ".")
	d := int(c.Decimals)
	if whole == "" && !hasDot || len(frac) > d || (hasDot && frac == "") {
		return 0, apperr.Invalid("amount", "must be a number with at most %d decimals", d)
	}
	if whole == "" {
		whole = "0"
	}
	digits := whole + frac + strings.Repeat("0", d-len(frac))
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, apperr.Invalid("amount", "must be a positive number")
		}
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v <= 0 || v > MaxAmount {
		return 0, apperr.Invalid("amount", "must be positive and at most %s", c.Format(MaxAmount))
	}
	return v, nil
}
