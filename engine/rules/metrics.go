package rules

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts evaluations; labels are bounded (no guild or tenant ids).
type Metrics struct {
	events   prometheus.Counter
	fired    prometheus.Counter
	effects  *prometheus.CounterVec
	failures prometheus.Counter
	disabled prometheus.Counter
}

// NewMetrics registers the engine's metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		events:   prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_rules_events_total", Help: "Events evaluated by the rules engine (chained events included)."}),
		fired:    prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_rules_fired_total", Help: "Rules that fired."}),
		effects:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_rules_effects_total", Help: "Effects planned, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_rules_failures_total", Help: "Rule evaluations that failed at run time."}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_rules_auto_disabled_total", Help: "Rules disabled after consecutive failures."}),
	}
	for _, c := range []prometheus.Collector{m.events, m.fired, m.effects, m.failures, m.disabled} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(r *Result) {
	m.events.Inc()
	m.fired.Add(float64(len(r.Fired)))
	for _, e := range r.Effects {
		m.effects.WithLabelValues(e.Kind()).Inc()
	}
}
