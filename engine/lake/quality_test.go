package lake

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMeasureText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		content string
		want    Quality
	}{
		{name: "empty", content: "", want: Quality{}},
		{name: "plain ascii", content: "hello world", want: Quality{Length: 11}},
		{name: "runes not bytes", content: "héllo", want: Quality{Length: 5}},
		{name: "one code block", content: "try\n```go\nfmt.Println()\n```", want: Quality{Length: 27, CodeBlocks: 1}},
		{name: "unclosed fence is not a block", content: "```oops", want: Quality{Length: 7}},
		{name: "links", content: "see https://go.dev and http://x.org/a", want: Quality{Length: 37, Links: 2}},
		{name: "custom emoji", content: "gg <:pepe:123456789012345678> <a:dance:123456789012345679>", want: Quality{Length: 58, Emoji: 2}},
		{name: "unicode emoji", content: "nice 🎉🔥", want: Quality{Length: 7, Emoji: 2}},
		{name: "zwj family is one emoji", content: "👨‍👩‍👧", want: Quality{Length: 5, Emoji: 1}},
		{name: "flag is one emoji", content: "🇫🇷", want: Quality{Length: 2, Emoji: 1}},
		{name: "star and heart", content: "⭐❤", want: Quality{Length: 2, Emoji: 2}},
		{name: "custom and unicode emoji", content: "<:pepe:123456789012345678>🎉", want: Quality{Length: 27, Emoji: 2}},
		{name: "angle brackets are not emoji", content: "a <b> <:c:1>", want: Quality{Length: 12}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, MeasureText(tc.content))
		})
	}
}

func TestCountsSaturateAndRoundTrip(t *testing.T) {
	t.Parallel()
	c := PackCounts(3, 7, 2, 1, 5)
	require.Equal(t, []int{3, 7, 2, 1, 5}, []int{c.CodeBlocks(), c.Links(), c.Emoji(), c.Attachments(), c.Mentions()})
	big := PackCounts(100, 100, 100, 100, 100)
	require.Equal(t, []int{15, 63, 63, 15, 63}, []int{big.CodeBlocks(), big.Links(), big.Emoji(), big.Attachments(), big.Mentions()})
	require.Equal(t, Counts(0), PackCounts(-1, -1, -1, -1, -1))
}
