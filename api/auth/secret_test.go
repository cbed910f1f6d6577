package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api/auth"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	k, err := auth.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	now := time.Now()

	signed := k.SignValue("state-1", time.Minute, now)
	v, ok := k.VerifyValue(signed, now)
	require.True(t, ok)
	require.Equal(t, "state-1", v)
	_, ok = k.VerifyValue(signed, now.Add(2*time.Minute))
	require.False(t, ok, "expired")
	_, ok = k.VerifyValue(strings.Replace(signed, "state-1", "state-2", 1), now)
	require.False(t, ok, "tampered")
	other, _ := auth.NewKeys([]byte("another secret of at least 32 bytes!"))
	_, ok = other.VerifyValue(signed, now)
	require.False(t, ok, "signed with another secret")

	sealed := k.Seal("discord-access-token")
	require.NotContains(t, string(sealed), "discord-access-token")
	opened, err := k.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "discord-access-token", opened)
	_, err = other.Open(sealed)
	require.Error(t, err)
}
