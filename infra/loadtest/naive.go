package loadtest

import (
	"context"

	"github.com/synapsehq/synapse/engine/lake"
)

// naiveWriter stores each event in its own transaction (lake.WriteOneNaive):
// the design the batched writer is compared against.
type naiveWriter struct{ sc *scratch }

func (n naiveWriter) Write(ctx context.Context, b lake.Batch) (lake.Result, error) {
	var res lake.Result
	for _, e := range b.Events {
		if err := lake.WriteOneNaive(ctx, n.sc.db.Pool, e); err != nil {
			return res, err
		}
		res.Inserted++
	}
	return res, nil
}
