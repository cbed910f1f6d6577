package lake

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeline collects a write's statements after the lake rows, sent in one
// round trip: each one waited for its own before, about ten a batch.
type pipeline struct {
	b     pgx.Batch
	steps []pipelineStep
}

type pipelineStep struct {
	what  string                        // for errors: "lake: <what>: ..."
	check func(pgconn.CommandTag) error // optional: judges the statement's result
}

func (p *pipeline) queue(what string, check func(pgconn.CommandTag) error, sql string, args ...any) {
	p.b.Queue(sql, args...)
	p.steps = append(p.steps, pipelineStep{what: what, check: check})
}

// run sends the statements and returns the first failure.
func (p *pipeline) run(ctx context.Context, tx pgx.Tx) (err error) {
	if len(p.steps) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &p.b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("lake: pipeline: %w", cerr)
		}
	}()
	for _, s := range p.steps {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("lake: %s: %w", s.what, err)
		}
		if s.check != nil {
			if err := s.check(tag); err != nil {
				return err
			}
		}
	}
	return nil
}
