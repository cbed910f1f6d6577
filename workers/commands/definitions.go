// Package commands answers the slash commands: the economy (/balance,
// /profile, /leaderboard, /give, /shop, /buy, /award, /deduct) from the
// ledger, achievements (/achievements, /grant-achievement,
// /revoke-achievement) from the milestone engine, and members' own
// preferences (/settings: announcements and DMs).
// Interactions arrive on the gateway and are answered through REST; every
// failure gets a clear ephemeral reply.
package commands

import (
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/omit"
)

func ptr[T any](v T) *T { return &v }

func currencyOpt(required bool) discord.ApplicationCommandOption {
	return discord.ApplicationCommandOptionString{Name: "currency", Description: "currency code, e.g. xp or gold", Required: required}
}

func memberOpt(desc string, required bool) discord.ApplicationCommandOption {
	return discord.ApplicationCommandOptionUser{Name: "member", Description: desc, Required: required}
}

func amountOpt() discord.ApplicationCommandOption {
	return discord.ApplicationCommandOptionString{Name: "amount", Description: "amount, e.g. 10 or 2.5", Required: true}
}

// Definitions are the commands registered with Discord (a bulk overwrite).
func Definitions() []discord.ApplicationCommandCreate {
	manage := ptr(discord.PermissionManageGuild)
	return []discord.ApplicationCommandCreate{
		discord.SlashCommandCreate{Name: "balance", Description: "Your balances", Options: []discord.ApplicationCommandOption{memberOpt("whose balances", false)}},
		discord.SlashCommandCreate{Name: "profile", Description: "Level, progress, balances and rank", Options: []discord.ApplicationCommandOption{memberOpt("whose profile", false)}},
		discord.SlashCommandCreate{Name: "leaderboard", Description: "The top members", Options: []discord.ApplicationCommandOption{currencyOpt(false)}},
		discord.SlashCommandCreate{Name: "give", Description: "Give currency to another member",
			Options: []discord.ApplicationCommandOption{memberOpt("who receives it", true), currencyOpt(true), amountOpt()}},
		discord.SlashCommandCreate{Name: "shop", Description: "What you can buy"},
		discord.SlashCommandCreate{Name: "buy", Description: "Buy an item from the shop",
			Options: []discord.ApplicationCommandOption{discord.ApplicationCommandOptionString{Name: "item", Description: "item code, e.g. coffee", Required: true}}},
		discord.SlashCommandCreate{Name: "award", Description: "Award currency to a member (Manage Server)", DefaultMemberPermissions: omit.New(manage),
			Options: []discord.ApplicationCommandOption{memberOpt("who receives it", true), currencyOpt(true), amountOpt(),
				discord.ApplicationCommandOptionString{Name: "reason", Description: "why (audited)"}}},
		discord.SlashCommandCreate{Name: "achievements", Description: "Achievements earned and in progress", Options: []discord.ApplicationCommandOption{memberOpt("whose achievements", false)}},
		discord.SlashCommandCreate{Name: "settings", Description: "Your preferences: achievement announcements and DMs",
			Options: []discord.ApplicationCommandOption{
				discord.ApplicationCommandOptionBool{Name: "announce", Description: "announce my achievements in the server"},
				discord.ApplicationCommandOptionBool{Name: "dm", Description: "let Synapse send me DMs"}}},
		discord.SlashCommandCreate{Name: "grant-achievement", Description: "Grant an achievement (Manage Server)", DefaultMemberPermissions: omit.New(manage),
			Options: []discord.ApplicationCommandOption{memberOpt("who earns it", true), discord.ApplicationCommandOptionString{Name: "achievement", Description: "achievement key, e.g. first_message", Required: true}}},
		discord.SlashCommandCreate{Name: "revoke-achievement", Description: "Revoke an achievement (Manage Server)", DefaultMemberPermissions: omit.New(manage),
			Options: []discord.ApplicationCommandOption{memberOpt("whose", true), discord.ApplicationCommandOptionString{Name: "achievement", Description: "achievement key", Required: true}}},
		discord.SlashCommandCreate{Name: "deduct", Description: "Deduct currency from a member (Manage Server)", DefaultMemberPermissions: omit.New(manage),
			Options: []discord.ApplicationCommandOption{memberOpt("who pays", true), currencyOpt(true), amountOpt(),
				discord.ApplicationCommandOptionString{Name: "reason", Description: "why (audited)"}}},
	}
}
