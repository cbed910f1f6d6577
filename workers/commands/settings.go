package commands

import (
	"context"

	"github.com/synapsehq/synapse/tenants"
)

// settings shows or changes a member's own preferences: whether their
// achievements are announced in the server, and whether Synapse may DM
// them. Options left out keep their value.
func (c call) settings(ctx context.Context, tenantID int64) (reply, error) {
	var set, clear int32
	toggle := func(opt string, optOutFlag int32) {
		if on, ok := c.data.OptBool(opt); ok {
			if on {
				clear |= optOutFlag
			} else {
				set |= optOutFlag
			}
		}
	}
	toggle("announce", tenants.MemberAnnounceOptOut)
	toggle("dm", tenants.MemberDMOptOut)
	flags, err := c.h.tenants.ForTenant(tenantID).Members().SetFlags(ctx, c.guild, c.user, set, clear)
	if err != nil {
		return reply{}, err
	}
	onOff := func(optOut int32) string {
		if flags&optOut != 0 {
			return "off"
		}
		return "on"
	}
	return private("Your settings here: achievement announcements **%s**, DMs from Synapse **%s**.%s",
		onOff(tenants.MemberAnnounceOptOut), onOff(tenants.MemberDMOptOut), hint(set|clear == 0)), nil
}

func hint(show bool) string {
	if !show {
		return ""
	}
	return "\nChange them with `/settings announce:False` or `/settings dm:False`."
}
