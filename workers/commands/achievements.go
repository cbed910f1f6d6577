package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/tenants"
)

// achievements lists what a member earned and what is in progress, with
// progress bars; hidden achievements show only once earned.
func (c call) achievements(ctx context.Context) (reply, error) {
	ps, err := c.m.Progress(ctx, c.guild, c.target())
	if err != nil {
		return reply{}, err
	}
	var earned, progress strings.Builder
	for _, p := range ps {
		switch {
		case p.Earned:
			fmt.Fprintf(&earned, "%s **%s** (%s)\n", p.Emoji, p.Name, p.Rarity)
		case !p.Hidden:
			fmt.Fprintf(&progress, "%s %s  %s %s\n", p.Emoji, p.Name, milestones.ProgressBar(p.Percent, 10), p.Label)
		}
	}
	label := c.term(ctx, "achievement", true)
	if earned.Len() == 0 && progress.Len() == 0 {
		return private("This server has no %s yet.", strings.ToLower(label)), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s of %s**\n", label, mention(c.target()))
	if earned.Len() > 0 {
		b.WriteString("Earned:\n" + earned.String())
	}
	if progress.Len() > 0 {
		b.WriteString("In progress:\n" + progress.String())
	}
	return reply{content: b.String(), ephemeral: true}, nil
}

// grantAchievement grants or revokes one achievement, audited.
func (c call) grantAchievement(ctx context.Context, grant bool) (reply, error) {
	key, _ := c.data.OptString("achievement")
	key = strings.ToLower(strings.TrimSpace(key))
	actor := tenants.Actor{ID: fmt.Sprint(c.user), RequestID: c.key}
	verb := "granted"
	var err error
	if grant {
		_, err = c.m.Grant(ctx, actor, c.guild, c.target(), key)
	} else {
		verb = "revoked"
		_, err = c.m.Revoke(ctx, actor, c.guild, c.target(), key)
	}
	if err != nil {
		return reply{}, err
	}
	return reply{content: fmt.Sprintf("%s %s `%s` for %s.", mention(c.user), verb, key, mention(c.target()))}, nil
}
