package lake

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Quality is what the reward rules need to know about a message's text.
// It is computed in memory as the message arrives; the text is then dropped.
type Quality struct {
	Length     int // characters (runes), not bytes
	CodeBlocks int // fenced ``` blocks
	Links      int // http(s) URLs
	Emoji      int // unicode emoji (a ZWJ sequence counts once) and custom <:name:id>
}

var customEmoji = regexp.MustCompile(`<a?:[A-Za-z0-9_~]{1,32}:[0-9]{15,21}>`)

// MeasureText extracts Quality from message content.
func MeasureText(content string) Quality {
	q := Quality{Length: utf8.RuneCountInString(content)}
	q.CodeBlocks = strings.Count(content, "```") / 2
	q.Links = strings.Count(content, "https://") + strings.Count(content, "http://")
	// Both scans only where they can find something: custom emoji open
	// with "<:" or "<a:", and every unicode emoji is beyond ASCII (one
	// character a byte). Most messages skip both.
	if strings.Contains(content, "<:") || strings.Contains(content, "<a:") {
		q.Emoji = len(customEmoji.FindAllStringIndex(content, -1))
	}
	if q.Length < len(content) {
		q.Emoji += countUnicodeEmoji(content)
	}
	return q
}

func countUnicodeEmoji(s string) int {
	n := 0
	joined := false   // previous rune was a zero-width joiner: the next pictograph extends the same emoji
	regional := false // first half of a flag (two regional indicators make one)
	for _, r := range s {
		switch {
		case r == 0x200D:
			joined = true
			continue
		case r >= 0x1F1E6 && r <= 0x1F1FF:
			if !regional {
				n++
			}
			regional = !regional
			continue
		case isPictograph(r):
			if !joined {
				n++
			}
		}
		joined = false
		regional = false
	}
	return n
}

func isPictograph(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || // symbols, pictographs, emoticons, transport, supplemental
		(r >= 0x2600 && r <= 0x27BF) || // misc symbols, dingbats
		(r >= 0x2B00 && r <= 0x2BFF) || // arrows, stars (⭐)
		r == 0x00A9 || r == 0x00AE || r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 ||
		(r >= 0x2194 && r <= 0x21AA) || r == 0x231A || r == 0x231B || r == 0x2328 || r == 0x23CF ||
		(r >= 0x23E9 && r <= 0x23FA) || r == 0x24C2 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299
}
