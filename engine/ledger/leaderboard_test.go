package ledger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
)

func TestLeaderboard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	balances := map[int64]int64{101: 500, 102: 300, 103: 300, 104: 100, 105: 1000, 106: 50}
	for u, amt := range balances {
		b.credit(t, b.xp, u, amt)
	}
	t.Run("top with ties and levels", func(t *testing.T) {
		top, err := b.led.Leaderboard(b.ctx, g, b.xp.ID, ledger.LeaderboardQuery{Limit: 4})
		require.NoError(t, err)
		require.Len(t, top, 4)
		got := [][3]int64{}
		for _, s := range top {
			got = append(got, [3]int64{s.Rank, s.UserID, s.Balance})
			require.NotNil(t, s.Level)
		}
		require.Equal(t, [][3]int64{{1, 105, 1000}, {2, 101, 500}, {3, 102, 300}, {3, 103, 300}}, got)
		require.Equal(t, int64(4), top[0].Level.Level) // MEE6: level 4 at 770 XP, 5 at 1100
	})
	t.Run("a later page keeps true ranks", func(t *testing.T) {
		page, err := b.led.Leaderboard(b.ctx, g, b.xp.ID, ledger.LeaderboardQuery{Limit: 2, Offset: 3})
		require.NoError(t, err)
		require.Len(t, page, 2)
		require.Equal(t, int64(3), page[0].Rank)
		require.Equal(t, int64(103), page[0].UserID)
		require.Equal(t, int64(5), page[1].Rank)
	})
	cases := []struct {
		name    string
		user    int64
		rank    int64
		balance int64
	}{
		{"leader", 105, 1, 1000},
		{"tied", 103, 3, 300},
		{"last", 106, 6, 50},
		{"no wallet yet", 999, 7, 0},
	}
	for _, tc := range cases {
		t.Run("rank "+tc.name, func(t *testing.T) {
			s, err := b.led.Rank(b.ctx, g, b.xp.ID, tc.user, 0)
			require.NoError(t, err)
			require.Equal(t, tc.rank, s.Rank)
			require.Equal(t, tc.balance, s.Balance)
		})
	}
	t.Run("profile", func(t *testing.T) {
		b.credit(t, b.gold, 101, 7)
		p, err := b.led.Profile(b.ctx, g, 101)
		require.NoError(t, err)
		require.Len(t, p.Holdings, 3)
		h, ok := p.Primary()
		require.True(t, ok)
		require.Equal(t, "xp", h.Currency.Code)
		require.Equal(t, int64(2), h.Rank)
		require.Equal(t, int64(500), h.Wallet.Balance)
		require.Equal(t, int64(3), h.Level.Level) // 475 ≤ 500 < 770
		require.Equal(t, int64(25), h.Level.Into)
		require.Equal(t, "gold", p.Holdings[1].Currency.Code)
		require.Equal(t, "7", p.Holdings[1].Display)
		require.Equal(t, "0.00", p.Holdings[2].Display)
	})
}

func TestAmounts(t *testing.T) {
	t.Parallel()
	hours := ledger.Currency{Decimals: 2}
	whole := ledger.Currency{}
	format := []struct {
		name string
		c    ledger.Currency
		in   int64
		want string
	}{
		{"whole", whole, 1250, "1250"},
		{"two decimals", hours, 1250, "12.50"},
		{"below one", hours, 5, "0.05"},
		{"negative", hours, -150, "-1.50"},
		{"zero", hours, 0, "0.00"},
	}
	for _, tc := range format {
		t.Run("format "+tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.c.Format(tc.in))
		})
	}
	parse := []struct {
		name string
		c    ledger.Currency
		in   string
		want int64 // 0: must be refused
	}{
		{"whole", whole, "42", 42},
		{"hours", hours, "2.5", 250},
		{"hours whole", hours, "3", 300},
		{"leading dot", hours, ".75", 75},
		{"too many decimals", hours, "1.234", 0},
		{"decimals on whole currency", whole, "1.5", 0},
		{"negative", whole, "-3", 0},
		{"zero", hours, "0.00", 0},
		{"garbage", whole, "ten", 0},
		{"empty", whole, "", 0},
	}
	for _, tc := range parse {
		t.Run("parse "+tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.c.ParseAmount(tc.in)
			if tc.want == 0 {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
