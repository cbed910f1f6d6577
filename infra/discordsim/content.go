package discordsim

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Message content of varied quality for the activity generator: one-word
// noise, ordinary chat and long, useful answers with code, links and emoji.
var (
	lowContent = []string{"lol", "ok", "+1", "same", "gm", "😂😂", "nice", "W", "fr", "?", "brb", "gg", "👀", "ty"}
	chatOpen   = []string{"anyone tried", "I just finished", "thinking about", "can't stop playing", "who's up for",
		"just found", "hot take:", "reminder:", "update on", "question about"}
	chatTopics = []string{"the new patch", "that indie game", "the raid tonight", "rust vs go", "my keyboard build",
		"the study group", "lofi playlists", "the weekend event", "speedrun routes", "the book club pick"}
	chatClose = []string{"", " 🙂", " !!", " lmao", " — thoughts?", " 🔥", " :)", "...", " 🎉"}
	links     = []string{"https://go.dev/doc/effective_go", "https://github.com/disgoorg/disgo",
		"https://discord.com/developers/docs/events/gateway", "https://youtu.be/dQw4w9WgXcQ", "https://example.com/guide"}
	unicodeEmoji = []string{"👍", "❤️", "😂", "🔥", "🎉", "👀", "✅", "😭", "🙏", "💯"}
	codeSnippets = []string{
		"```go\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n```",
		"```py\nfor i in range(3):\n    print(i)\n```",
		"```sql\nSELECT guild_id, count(*) FROM messages GROUP BY 1;\n```",
		"`git rebase -i HEAD~3`",
	}
	attachmentNames = []string{"screenshot.png", "clip.mp4", "notes.txt", "build-log.txt", "meme.jpg"}
)

type contentCtx struct {
	mentionUser   ID
	mentionRole   ID
	customEmoji   *Emoji
	hasAttachment bool
}

// synthContent returns a message body; quality is 0 (noise), 1 (chat) or 2 (substantive).
func synthContent(rng *rand.Rand, quality int, c contentCtx) string {
	var b strings.Builder
	b.Grow(192)
	switch quality {
	case 0:
		b.WriteString(lowContent[rng.IntN(len(lowContent))])
	case 1:
		open, topic, end := chatOpen[rng.IntN(len(chatOpen))], chatTopics[rng.IntN(len(chatTopics))], chatClose[rng.IntN(len(chatClose))]
		b.WriteString(open)
		b.WriteByte(' ')
		b.WriteString(topic)
		b.WriteString(end)
		if rng.IntN(4) == 0 {
			b.WriteByte(' ')
			b.WriteString(unicodeEmoji[rng.IntN(len(unicodeEmoji))])
		}
	default:
		b.WriteString("Here's how I solved ")
		b.WriteString(chatTopics[rng.IntN(len(chatTopics))])
		b.WriteString(":\n")
		b.WriteString(codeSnippets[rng.IntN(len(codeSnippets))])
		b.WriteString("\nMore details: ")
		b.WriteString(links[rng.IntN(len(links))])
		if c.customEmoji != nil {
			b.WriteString(" <:")
			b.WriteString(c.customEmoji.Name)
			b.WriteByte(':')
			writeID(&b, c.customEmoji.ID)
			b.WriteByte('>')
		}
	}
	if c.mentionUser != 0 {
		b.WriteString(" <@")
		writeID(&b, c.mentionUser)
		b.WriteByte('>')
	}
	if c.mentionRole != 0 {
		b.WriteString(" <@&")
		writeID(&b, c.mentionRole)
		b.WriteByte('>')
	}
	return b.String()
}

func writeID(b *strings.Builder, id ID) {
	var buf [20]byte
	b.Write(strconv.AppendUint(buf[:0], uint64(id), 10))
}
