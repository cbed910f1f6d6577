package api

import "testing"

func TestScopesAllow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		scopes   []string
		obj, act string
		want     bool
	}{
		{"exact", []string{"guild.events:read"}, "guild.events", "read", true},
		{"action differs", []string{"guild.events:read"}, "guild.events", "write", false},
		{"prefix wildcard", []string{"guild.*:read"}, "guild.audit", "read", true},
		{"prefix is not a substring match", []string{"guild.*:read"}, "guilds.audit", "read", false},
		{"other object family", []string{"guild.*:*"}, "tenant.members", "read", false},
		{"everything read", []string{"*:read"}, "platform.shards", "read", true},
		{"any action", []string{"self:*"}, "self", "write", true},
		{"malformed scope ignored", []string{"guild.events"}, "guild.events", "read", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scopesAllow(tc.scopes, tc.obj, tc.act); got != tc.want {
				t.Fatalf("scopesAllow(%v, %s, %s) = %v", tc.scopes, tc.obj, tc.act, got)
			}
		})
	}
	for sc, want := range map[string]bool{"guild.events:read": true, "guild.*:*": true, "*:read": true, "self:write": true,
		"guild.events:delete": false, "guild*x:read": false, ":read": false, "Guild:read": false, "guild.events": false} {
		if validScope(sc) != want {
			t.Errorf("validScope(%q) = %v", sc, !want)
		}
	}
}
