package discordsim

import (
	"fmt"
	"math/rand/v2"
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
	switch quality {
	case 0:
		b.WriteString(lowContent[rng.IntN(len(lowContent))])
	case 1:
		fmt.Fprintf(&b, "%s %s%s", chatOpen[rng.IntN(len(chatOpen))], chatTopics[rng.IntN(len(chatTopics))], chatClose[rng.IntN(len(chatClose))])
		if rng.IntN(4) == 0 {
			b.WriteString(" " + unicodeEmoji[rng.IntN(len(unicodeEmoji))])
		}
	default:
		fmt.Fprintf(&b, "Here's how I solved %s:\n", chatTopics[rng.IntN(len(chatTopics))])
		b.WriteString(codeSnippets[rng.IntN(len(codeSnippets))])
		fmt.Fprintf(&b, "\nMore details: %s", links[rng.IntN(len(links))])
		if c.customEmoji != nil {
			fmt.Fprintf(&b, " <:%s:%s>", c.customEmoji.Name, c.customEmoji.ID)
		}
	}
	if c.mentionUser != 0 {
		fmt.Fprintf(&b, " <@%s>", c.mentionUser)
	}
	if c.mentionRole != 0 {
		fmt.Fprintf(&b, " <@&%s>", c.mentionRole)
	}
	return b.String()
}
