package discordsim

import (
	"math/rand/v2"
	"strconv"
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
	mentionUser ID
	mentionRole ID
	customEmoji *Emoji
	suffix      string // appended last, as " (edited)"
}

// synthContent returns a message body; quality is 0 (noise), 1 (chat) or 2 (substantive).
// It is built on the stack and copied out at its size (the history keeps
// every message); a bare one-word message is the list's own string.
func synthContent(rng *rand.Rand, quality int, c contentCtx) string {
	var buf [256]byte
	b := buf[:0]
	switch quality {
	case 0:
		w := lowContent[rng.IntN(len(lowContent))]
		if c.mentionUser == 0 && c.mentionRole == 0 && c.suffix == "" {
			return w
		}
		b = append(b, w...)
	case 1:
		open, topic, end := chatOpen[rng.IntN(len(chatOpen))], chatTopics[rng.IntN(len(chatTopics))], chatClose[rng.IntN(len(chatClose))]
		b = append(b, open...)
		b = append(b, ' ')
		b = append(b, topic...)
		b = append(b, end...)
		if rng.IntN(4) == 0 {
			b = append(b, ' ')
			b = append(b, unicodeEmoji[rng.IntN(len(unicodeEmoji))]...)
		}
	default:
		b = append(b, "Here's how I solved "...)
		b = append(b, chatTopics[rng.IntN(len(chatTopics))]...)
		b = append(b, ":\n"...)
		b = append(b, codeSnippets[rng.IntN(len(codeSnippets))]...)
		b = append(b, "\nMore details: "...)
		b = append(b, links[rng.IntN(len(links))]...)
		if c.customEmoji != nil {
			b = append(b, " <:"...)
			b = append(b, c.customEmoji.Name...)
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(c.customEmoji.ID), 10)
			b = append(b, '>')
		}
	}
	if c.mentionUser != 0 {
		b = append(b, " <@"...)
		b = strconv.AppendUint(b, uint64(c.mentionUser), 10)
		b = append(b, '>')
	}
	if c.mentionRole != 0 {
		b = append(b, " <@&"...)
		b = strconv.AppendUint(b, uint64(c.mentionRole), 10)
		b = append(b, '>')
	}
	return string(append(b, c.suffix...))
}
