package billing

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what billing refuses and applies.
type Metrics struct {
	webhook *prometheus.CounterVec // type, outcome
	refused *prometheus.CounterVec // resource
}

// NewMetrics registers billing's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		webhook: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_billing_webhook_events_total",
			Help: "Stripe webhook deliveries by event type and outcome: applied, duplicate, ignored (not an event billing acts on, or no known tenant), refused (bad signature or payload), failed (database)."},
			[]string{"type", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_plan_limit_refusals_total",
			Help: "Creations refused because the tenant's plan allows no more, by resource."}, []string{"resource"}),
	}
	reg.MustRegister(m.webhook, m.refused)
	return m
}

func (m *Metrics) delivered(typ, outcome string) {
	if m != nil {
		m.webhook.WithLabelValues(typ, outcome).Inc()
	}
}

func (m *Metrics) limited(r Resource) {
	if m != nil {
		m.refused.WithLabelValues(string(r)).Inc()
	}
}
