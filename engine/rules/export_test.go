package rules

// OneCallEach makes e call State once per stateful condition and capped
// credit even when State could take an event's calls together, so tests
// can compare both ways.
func OneCallEach(e *Engine) { e.oneCallEach = true }
