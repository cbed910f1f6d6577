package milestones

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
)

// celCostLimit bounds one expression's worst-case cost, checked at save
// time from cel-go's static estimate (nothing is metered per evaluation).
const celCostLimit = 10_000

const maxExprLen = 2000

// celStreakDays is the longest streak the CEL "streak" variable reports
// (the counters a check keeps by day).
const celStreakDays = 60

// newCELEnv declares what a milestone expression sees about the member:
//
//	wallet       map(string, double)  balance by currency code
//	lifetime     map(string, double)  lifetime earned by currency code
//	events       map(string, double)  event counts by type name, in the template's scope
//	voice_minutes double              non-AFK voice minutes, in scope
//	member_days  double               days since the member joined (0 unknown)
//	streak       double               current run of active days (default activity, at most 60)
//	roles        list(int)            role ids the member holds
//	milestones   list(string)         keys of the milestones the member holds
func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("wallet", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("lifetime", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("events", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("voice_minutes", cel.DoubleType),
		cel.Variable("member_days", cel.DoubleType),
		cel.Variable("streak", cel.DoubleType),
		cel.Variable("roles", cel.ListType(cel.IntType)),
		cel.Variable("milestones", cel.ListType(cel.StringType)),
		ext.Math(),
	)
}

type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: 1000}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

func compileCEL(env *cel.Env, src string) (cel.Program, error) {
	if src == "" {
		return nil, fmt.Errorf("must not be empty")
	}
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("must be at most %d characters", maxExprLen)
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("%s", iss.Err())
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("must be a boolean expression, got %s", ast.OutputType())
	}
	est, err := env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, fmt.Errorf("cost estimate: %s", err)
	}
	if est.Max > celCostLimit {
		return nil, fmt.Errorf("may cost up to %d to evaluate, more than the limit of %d: simplify it", est.Max, celCostLimit)
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize))
}

// evalCEL runs a compiled expression; a runtime error (a missing map key)
// reads as not met rather than failing the check.
func evalCEL(prg cel.Program, vars map[string]any) (bool, error) {
	v, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("got %s, want bool", v.Type())
	}
	return bool(b), nil
}
