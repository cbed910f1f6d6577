package rules_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

func TestMetricsCountEvaluations(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := rules.NewMetrics(reg)
	require.NoError(t, err)
	c := compiler(t)
	set := ruleSet(t, c, nil,
		doc(t, `{"name":"ok","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"1"},{"type":"milestone_check"}]}`),
		doc(t, `{"name":"broken","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"1.0 / wallet['none']"}]}`))
	e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.Metrics = m })
	eval(t, e, set, msg(1, t0, 50))
	eval(t, e, set, msg(2, t0, 50))

	got := map[string]float64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range mt.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			got[name] = mt.GetCounter().GetValue()
		}
	}
	require.Equal(t, map[string]float64{
		"synapse_rules_events_total":                        2,
		"synapse_rules_fired_total":                         2,
		"synapse_rules_failures_total":                      2,
		"synapse_rules_auto_disabled_total":                 0,
		"synapse_rules_effects_total{kind=credit}":          2,
		"synapse_rules_effects_total{kind=milestone_check}": 2,
	}, got)

	_, err = rules.NewMetrics(reg)
	require.Error(t, err, "registering twice on one registry is refused")
}
