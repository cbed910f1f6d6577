package ledger

import (
	"context"
	"fmt"

	"github.com/synapsehq/synapse/engine/ledger/levels"
)

// Holding is a member's position in one currency, ready to display.
type Holding struct {
	Currency Currency         `json:"currency"`
	Wallet   Wallet           `json:"wallet"`
	Display  string           `json:"display"` // balance with the currency's decimals
	Rank     int64            `json:"rank"`    // live competition rank in the guild
	Level    *levels.Progress `json:"level,omitempty"`
}

// Profile is what /profile and /balance show: every currency of the guild,
// the primary one first, with balance, rank and level.
type Profile struct {
	GuildID  int64     `json:"guild_id,string"`
	UserID   int64     `json:"user_id,string"`
	Holdings []Holding `json:"holdings"`
}

// Primary is the guild's primary currency holding, if it has one.
func (p Profile) Primary() (Holding, bool) {
	for _, h := range p.Holdings {
		if h.Currency.Primary {
			return h, true
		}
	}
	return Holding{}, false
}

// Profile reads one member's holdings in every currency of the guild.
func (l *Ledger) Profile(ctx context.Context, guildID, userID int64) (Profile, error) {
	cs, err := l.Currencies(ctx, guildID)
	if err != nil {
		return Profile{}, err
	}
	ws, err := l.Wallets(ctx, guildID, userID)
	if err != nil {
		return Profile{}, err
	}
	byCurrency := make(map[int64]Wallet, len(ws))
	for _, w := range ws {
		byCurrency[w.CurrencyID] = w
	}
	p := Profile{GuildID: guildID, UserID: userID}
	for _, c := range cs {
		w := byCurrency[c.ID]
		rank, _, err := l.liveRank(ctx, guildID, c.ID, userID)
		if err != nil {
			return Profile{}, fmt.Errorf("profile: %w", err)
		}
		p.Holdings = append(p.Holdings, Holding{Currency: c, Wallet: w, Display: c.Format(w.Balance), Rank: rank, Level: c.Level(w.Balance)})
	}
	return p, nil
}
