package billing

// Plan is one tier of the service and what it allows.
type Plan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PriceMonthlyCents (in Currency) is the list price shown to
	// operators; Stripe's price (Config.Prices) is what is charged.
	PriceMonthlyCents int    `json:"price_monthly_cents"`
	Currency          string `json:"currency"` // ISO 4217, lower case as Stripe writes it
	Limits            Limits `json:"limits"`
	// SelfServe plans are bought through Checkout; enterprise is agreed
	// with the platform operator.
	SelfServe bool `json:"self_serve"`
}

// Limits are a plan's allowances; 0 is unlimited.
type Limits struct {
	Guilds        int `json:"guilds"`         // per tenant
	Currencies    int `json:"currencies"`     // per guild
	Rules         int `json:"rules"`          // per guild
	Milestones    int `json:"milestones"`     // per guild
	RetentionDays int `json:"retention_days"` // the longest lake retention a guild may set
}

// Plan identifiers, as tenants.plan stores them.
const (
	PlanFree       = "free"
	PlanPro        = "pro"
	PlanBusiness   = "business"
	PlanEnterprise = "enterprise"
)

// Plans is the catalog, cheapest first. The free plan fits a community
// trying the Classic preset (3 currencies, 12 rules, 16 milestones).
var plans = []Plan{
	{ID: PlanFree, Name: "Free", Currency: "usd", Limits: Limits{Guilds: 1, Currencies: 3, Rules: 25, Milestones: 25, RetentionDays: 90}},
	{ID: PlanPro, Name: "Pro", PriceMonthlyCents: 1900, Currency: "usd", SelfServe: true,
		Limits: Limits{Guilds: 3, Currencies: 10, Rules: 200, Milestones: 200, RetentionDays: 180}},
	{ID: PlanBusiness, Name: "Business", PriceMonthlyCents: 9900, Currency: "usd", SelfServe: true,
		Limits: Limits{Guilds: 25, Currencies: 50, Rules: 1000, Milestones: 1000, RetentionDays: 400}},
	{ID: PlanEnterprise, Name: "Enterprise", Currency: "usd", Limits: Limits{RetentionDays: 400}},
}

// Plans returns the catalog, cheapest first.
func Plans() []Plan { return append([]Plan(nil), plans...) }

// PlanByID returns a plan of the catalog.
func PlanByID(id string) (Plan, bool) {
	for _, p := range plans {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

// paidStatuses are the subscription statuses that keep a paid plan in
// force. past_due is Stripe retrying a failed payment: the plan stays
// while it does (Stripe's dunning ends it as unpaid or canceled).
var paidStatuses = map[string]bool{"active": true, "trialing": true, "past_due": true}

// planInForce is the plan a subscription of status gives.
func planInForce(plan, status string) string {
	if paidStatuses[status] {
		return plan
	}
	return PlanFree
}
