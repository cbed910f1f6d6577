package milestones

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Rarity tiers, in ascending order.
const (
	Common    = "common"
	Uncommon  = "uncommon"
	Rare      = "rare"
	Epic      = "epic"
	Legendary = "legendary"
)

// Rarities lists the tiers from most to least common.
var Rarities = []string{Common, Uncommon, Rare, Epic, Legendary}

// Scopes: a lifetime milestone is earned once (or N times) ever; a
// seasonal one again in every season, its event counts starting with the
// season.
const (
	ScopeLifetime = "lifetime"
	ScopeSeasonal = "seasonal"
)

// Template is one achievement a guild offers.
type Template struct {
	ID          int64  `json:"id,string"`
	GuildID     int64  `json:"guild_id,string"`
	Key         string `json:"key"`
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Emoji       string `json:"emoji,omitempty"`
	IconURL     string `json:"icon_url,omitempty"`
	Rarity      string `json:"rarity"`
	Hidden      bool   `json:"hidden"`
	Repeatable  bool   `json:"repeatable"`
	// MaxAwards bounds a repeatable milestone (0: unbounded).
	MaxAwards int    `json:"max_awards,omitempty"`
	Scope     string `json:"scope"`
	// Disabled templates are kept (with their awards) but not checked.
	Disabled bool `json:"disabled,omitempty"`
	// Requirement is the tree a member must satisfy.
	Requirement Requirement `json:"requirement"`
	Rewards     []Reward    `json:"rewards"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Reward kinds.
const (
	RewardCurrency = "currency"
	RewardRole     = "role"
	RewardAnnounce = "announce"
)

// Reward is an effect of earning a milestone.
type Reward struct {
	Type     string `json:"type"`
	Currency string `json:"currency,omitempty"` // currency: code
	Amount   int64  `json:"amount,omitempty"`   // currency: minor units
	RoleID   int64  `json:"role_id,string,omitempty"`
	DM       bool   `json:"dm,omitempty"` // announce: also DM the member
}

var keyRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// validate checks everything but the requirement tree (see compile).
func (t *Template) validate() error {
	if !keyRE.MatchString(t.Key) {
		return apperr.Invalid("key", "must be 1 to 64 of a-z, 0-9, '_', '.', '-'")
	}
	if t.Name == "" || len([]rune(t.Name)) > 100 {
		return apperr.Invalid("name", "must be 1 to 100 characters")
	}
	if len([]rune(t.Description)) > 1000 {
		return apperr.Invalid("description", "must be at most 1000 characters")
	}
	if len(t.Emoji) > 64 {
		return apperr.Invalid("emoji", "must be at most 64 bytes")
	}
	if len(t.IconURL) > 500 {
		return apperr.Invalid("icon_url", "must be at most 500 bytes")
	}
	if t.Rarity == "" {
		t.Rarity = Common
	}
	if rarityRank(t.Rarity) < 0 {
		return apperr.Invalid("rarity", "must be one of common, uncommon, rare, epic, legendary")
	}
	if t.Scope == "" {
		t.Scope = ScopeLifetime
	}
	if t.Scope != ScopeLifetime && t.Scope != ScopeSeasonal {
		return apperr.Invalid("scope", "must be lifetime or seasonal")
	}
	if t.MaxAwards < 0 || (!t.Repeatable && t.MaxAwards > 1) {
		return apperr.Invalid("max_awards", "must be 0 or more, and only set on repeatable milestones")
	}
	if len(t.Rewards) > 10 {
		return apperr.Invalid("rewards", "at most 10 rewards")
	}
	for i, r := range t.Rewards {
		p := "rewards[" + strconv.Itoa(i) + "]"
		switch r.Type {
		case RewardCurrency:
			if r.Currency == "" {
				return apperr.Invalid(p+".currency", "a currency code is required")
			}
			if r.Amount <= 0 || r.Amount > 1<<40 {
				return apperr.Invalid(p+".amount", "must be a positive amount")
			}
		case RewardRole:
			if r.RoleID <= 0 {
				return apperr.Invalid(p+".role_id", "a role id is required")
			}
		case RewardAnnounce:
		default:
			return apperr.Invalid(p+".type", "must be currency, role or announce")
		}
	}
	return nil
}

func rarityRank(r string) int {
	for i, x := range Rarities {
		if x == r {
			return i
		}
	}
	return -1
}

// Award is one milestone earned by one member.
type Award struct {
	ID          int64      `json:"id,string"`
	GuildID     int64      `json:"guild_id,string"`
	TemplateID  int64      `json:"template_id,string"`
	TemplateKey string     `json:"template_key"`
	UserID      int64      `json:"user_id,string"`
	AwardNo     int        `json:"award_no"`
	SeasonID    *int64     `json:"season_id,string,omitempty"`
	Source      string     `json:"source"`
	AwardedAt   time.Time  `json:"awarded_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// Rewards are the template's rewards at award time, to be applied by
	// the caller (or the Adapter); Replayed marks an award an earlier run
	// of the same check key already made.
	Rewards  []Reward `json:"rewards"`
	Replayed bool     `json:"replayed,omitempty"`
}

// RewardKey is the idempotency key of the award's i-th reward: the same
// award always pays under the same key.
func (a Award) RewardKey(i int) string {
	return fmt.Sprintf("ms.a%d.r%d", a.ID, i)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("milestones: marshal %T: %v", v, err))
	}
	return b
}

// ValidateTemplate checks a template's own fields (not its requirement
// tree or rewards against a guild), for an import that checks everything
// before writing.
func ValidateTemplate(t Template) error { return t.validate() }
