package discordsim

import (
	"sync"
	"time"
)

// IdentifyRejection says why an identify was answered with op 9.
type IdentifyRejection string

const (
	// RejectBucket: another identify in the same bucket inside IdentifyInterval.
	RejectBucket IdentifyRejection = "bucket"
	// RejectBudget: the daily identify budget is exhausted.
	RejectBudget IdentifyRejection = "daily_budget"
)

// IdentifyStats is the observable state of the identify limits.
type IdentifyStats struct {
	MaxConcurrency  int            `json:"max_concurrency"`
	Total           int            `json:"total"`
	Remaining       int            `json:"remaining"`
	ResetAfterMS    int64          `json:"reset_after_ms"`
	AcceptedPerBkt  map[int]int    `json:"accepted_per_bucket"`
	RejectedPerBkt  map[int]int    `json:"rejected_per_bucket"`
	RejectedBudget  int            `json:"rejected_budget"`
	LastPerBucketMS map[int]string `json:"last_identify_per_bucket"`
}

// identifyLimiter enforces Discord's session start limits: one identify per
// bucket (shard_id % max_concurrency) per interval, and a daily total.
type identifyLimiter struct {
	mu        sync.Mutex
	interval  time.Duration
	maxConc   int
	total     int
	remaining int
	resetAt   time.Time
	last      map[int]time.Time
	accepted  map[int]int
	rejected  map[int]int
	rejBudget int
	now       func() time.Time
}

func newIdentifyLimiter(cfg Config) *identifyLimiter {
	return &identifyLimiter{
		interval: cfg.IdentifyInterval, maxConc: cfg.MaxConcurrency,
		total: cfg.DailyIdentifyBudget, remaining: cfg.DailyIdentifyBudget,
		last: map[int]time.Time{}, accepted: map[int]int{}, rejected: map[int]int{},
		now: time.Now,
	}
}

func (l *identifyLimiter) take(shardID int) (bool, IdentifyRejection) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.refillLocked(now)
	bucket := shardID % l.maxConc
	if last, ok := l.last[bucket]; ok && now.Sub(last) < l.interval {
		l.rejected[bucket]++
		return false, RejectBucket
	}
	if l.remaining <= 0 {
		l.rejBudget++
		return false, RejectBudget
	}
	if l.remaining == l.total {
		l.resetAt = now.Add(24 * time.Hour)
	}
	l.remaining--
	l.last[bucket] = now
	l.accepted[bucket]++
	return true, ""
}

func (l *identifyLimiter) refillLocked(now time.Time) {
	if !l.resetAt.IsZero() && !now.Before(l.resetAt) {
		l.remaining = l.total
		l.resetAt = time.Time{}
	}
}

// setRemaining lets tests and the admin API simulate a nearly spent budget.
func (l *identifyLimiter) setRemaining(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remaining = min(max(n, 0), l.total)
	if l.resetAt.IsZero() {
		l.resetAt = l.now().Add(24 * time.Hour)
	}
}

func (l *identifyLimiter) snapshot() IdentifyStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.refillLocked(now)
	st := IdentifyStats{
		MaxConcurrency: l.maxConc, Total: l.total, Remaining: l.remaining,
		AcceptedPerBkt: map[int]int{}, RejectedPerBkt: map[int]int{}, RejectedBudget: l.rejBudget,
		LastPerBucketMS: map[int]string{},
	}
	if !l.resetAt.IsZero() {
		st.ResetAfterMS = l.resetAt.Sub(now).Milliseconds()
	}
	for k, v := range l.accepted {
		st.AcceptedPerBkt[k] = v
	}
	for k, v := range l.rejected {
		st.RejectedPerBkt[k] = v
	}
	for k, v := range l.last {
		st.LastPerBucketMS[k] = v.UTC().Format(time.RFC3339Nano)
	}
	return st
}
