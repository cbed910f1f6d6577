// Package monitoring holds what a deployment's Prometheus and Grafana need
// to watch Synapse, and the tests that keep it in step with the metrics the
// code exports:
//
//   - alerts.yml: Prometheus alerting rules (alerts_test.go);
//   - grafana/dashboards/*.json: one Grafana dashboard per concern (capture
//     on the gateway, rules and economy on the worker, the API, storage and
//     maintenance), reading the ${datasource} variable;
//   - grafana/provisioning: a file provider loading those dashboards and a
//     Prometheus datasource at ${PROMETHEUS_URL}, to mount at
//     /etc/grafana/provisioning.
//
// dashboards_test.go reads every metric declaration in the Go sources (its
// kind and labels, from the prometheus constructor) and checks each
// dashboard query and alert against them: metric names the code exports,
// labels those metrics have in by (...), matchers and legends, counters
// inside rate or increase and gauges not, histogram_quantile over _bucket by
// le. Edit the JSON (or export it from Grafana with "id": null) and run
// go test ./infra/monitoring/.
package monitoring
