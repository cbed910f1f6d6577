// Package monitoring holds the Prometheus alerting rules of a deployment
// (alerts.yml) and the test that keeps them in step with the metrics the
// code exports.
package monitoring
