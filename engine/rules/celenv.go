package rules

import (
	"fmt"
	"math"
	"reflect"
	"sort"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// DefaultCostLimit bounds one CEL evaluation in cel-go cost units. It is
// enforced when an expression is compiled, from cel-go's static worst-case
// estimate (see sizeEstimator): an expression that could exceed it is
// refused at save time with its JSON path, so nothing is metered per
// evaluation (runtime cost tracking costs ~2.6 µs per evaluation, more than
// the whole expression).
const DefaultCostLimit = 10_000

// maxInputSize is the size the cost estimate assumes for a list, map or
// string an expression reads from its inputs (member roles, event data):
// Discord caps roles at 250 per member and event data at 16 fields.
const maxInputSize = 1000

// maxExprLen bounds the source of one expression.
const maxExprLen = 2000

// newCELEnv declares what rule expressions may see: the event, the acting
// member, the event's zone, the member's wallet and counters, an effect's
// base amount and the event's quality score. Only the standard library and
// the math extension are available: no I/O, network or clock functions.
func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("member", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("zone", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("wallet", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("counters", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("base", cel.DoubleType),
		cel.Variable("quality", cel.DoubleType),
		ext.Math(),
	)
}

// sizeEstimator bounds the size of every input whose size CEL cannot see.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: maxInputSize}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// celProgram is one compiled expression, with its fast path when it has one.
type celProgram struct {
	src     string
	prg     cel.Program
	fastNum fastNum
	fastB   fastBool
	facts   bool // reads member, wallet or counters: the acting member's facts
	// counters: reads counters, which cost the facts loader a query of
	// their own (FactNeeds)
	counters bool
}

// readsFacts reports whether a checked expression names a variable served
// from member facts (one that does not is evaluated without loading them),
// and whether counters is one of them.
func readsFacts(a *cel.Ast) (facts, counters bool) {
	ast.PostOrderVisit(a.NativeRep().Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() == ast.IdentKind {
			switch e.AsIdent() {
			case "member", "wallet":
				facts = true
			case "counters":
				facts, counters = true, true
			}
		}
	}))
	return facts, counters
}

type celKind int

const (
	celBool celKind = iota
	celNumber
	celAny
)

// compileCEL parses, type-checks and plans an expression; the error message
// is meant for operators.
func compileCEL(env *cel.Env, src string, kind celKind, costLimit uint64) (*celProgram, error) {
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
	out := ast.OutputType()
	switch kind {
	case celBool:
		if !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
			return nil, fmt.Errorf("must be a boolean expression, got %s", out)
		}
	case celNumber:
		if !out.IsExactType(cel.DoubleType) && !out.IsExactType(cel.IntType) && !out.IsExactType(cel.UintType) && !out.IsExactType(cel.DynType) {
			return nil, fmt.Errorf("must be a number expression, got %s", out)
		}
	}
	est, err := env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, fmt.Errorf("cost estimate: %s", err)
	}
	if est.Max > costLimit {
		return nil, fmt.Errorf("may cost up to %d to evaluate, more than the limit of %d: simplify it", est.Max, costLimit)
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("%s", err)
	}
	p := &celProgram{src: src, prg: prg}
	p.facts, p.counters = readsFacts(ast)
	switch kind {
	case celNumber:
		p.fastNum = compileFastNum(ast)
	case celBool:
		p.fastB = compileFastBool(ast)
	}
	return p, nil
}

func (p *celProgram) evalBool(act *activation) (bool, error) {
	if p.fastB != nil {
		if b, ok := p.fastB(act); ok {
			return b, nil
		}
	}
	v, _, err := p.prg.Eval(act)
	if err != nil {
		return false, fmt.Errorf("cel %q: %w", p.src, err)
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("cel %q: got %s, want bool", p.src, v.Type())
	}
	return bool(b), nil
}

func (p *celProgram) evalNumber(act *activation) (float64, error) {
	if p.fastNum != nil {
		if f, ok := p.fastNum(act); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
	}
	return p.evalNumberCEL(act)
}

func (p *celProgram) evalNumberCEL(act *activation) (float64, error) {
	v, _, err := p.prg.Eval(act)
	if err != nil {
		return 0, fmt.Errorf("cel %q: %w", p.src, err)
	}
	var f float64
	switch n := v.(type) {
	case types.Double:
		f = float64(n)
	case types.Int:
		f = float64(n)
	case types.Uint:
		f = float64(n)
	default:
		return 0, fmt.Errorf("cel %q: got %s, want a number", p.src, v.Type())
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("cel %q: result is not a finite number", p.src)
	}
	return f, nil
}

func (p *celProgram) evalNative(act interpreter.Activation) (any, error) {
	v, _, err := p.prg.Eval(act)
	if err != nil {
		return nil, fmt.Errorf("cel %q: %w", p.src, err)
	}
	switch n := v.(type) {
	case types.Bool:
		return bool(n), nil
	case types.Int:
		return int64(n), nil
	case types.Uint:
		return int64(n), nil
	case types.Double:
		return float64(n), nil
	case types.String:
		return string(n), nil
	}
	return nil, fmt.Errorf("cel %q: got %s, want bool, number or string", p.src, v.Type())
}

// activation resolves the declared variables for one evaluation without
// building a map per call. The CEL views of the event, member, wallet and
// counters are built on first use only: expressions the fast path answers
// never need them. base and the zone change per effect.
type activation struct {
	ev       *Event
	facts    *MemberFacts
	zone     *Zone
	zones    *zoneIndex
	currency string
	zoneMult float64
	base     float64
	quality  float64

	event, member, wallet, counters ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "member", "wallet", "counters":
		if a.facts == nil {
			return nil, false // not loaded: the program does not read them (readsFacts)
		}
	}
	switch name {
	case "event":
		if a.event == nil {
			a.event = eventMap(a.ev, a.zone)
		}
		return a.event, true
	case "member":
		if a.member == nil {
			a.member = memberMap(a.facts, a.ev.OccurredAt)
		}
		return a.member, true
	case "zone":
		return a.zones.celValue(a.zone, a.currency), true
	case "wallet":
		if a.wallet == nil {
			a.wallet = floatMapVal(a.facts.Wallet)
		}
		return a.wallet, true
	case "counters":
		if a.counters == nil {
			a.counters = floatMapVal(a.facts.Counters)
		}
		return a.counters, true
	case "base":
		return types.Double(a.base), true
	case "quality":
		return types.Double(a.quality), true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// lazyMap is a read-only CEL map whose values are computed on lookup, so
// an event's fields cost nothing until an expression reads them.
type lazyMap struct {
	keys []string
	get  func(key string) (ref.Val, bool)
}

var _ ref.Val = (*lazyMap)(nil)

func (m *lazyMap) ConvertToNative(reflect.Type) (any, error) {
	out := make(map[string]any, len(m.keys))
	for _, k := range m.keys {
		if v, ok := m.get(k); ok {
			out[k] = v.Value()
		}
	}
	return out, nil
}

func (m *lazyMap) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to %s", t)
}

func (m *lazyMap) Equal(other ref.Val) ref.Val { return types.Bool(other == ref.Val(m)) }
func (m *lazyMap) Type() ref.Type              { return types.MapType }
func (m *lazyMap) Value() any                  { v, _ := m.ConvertToNative(nil); return v }

func (m *lazyMap) Contains(key ref.Val) ref.Val {
	_, ok := m.Find(key)
	return types.Bool(ok)
}

func (m *lazyMap) Get(key ref.Val) ref.Val {
	v, ok := m.Find(key)
	if !ok {
		return types.NewErr("no such key: %v", key)
	}
	return v
}

func (m *lazyMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	return m.get(string(k))
}

func (m *lazyMap) Iterator() traitsIterator {
	ks := make([]string, 0, len(m.keys))
	for _, k := range m.keys {
		if _, ok := m.get(k); ok {
			ks = append(ks, k)
		}
	}
	return types.NewStringList(types.DefaultTypeAdapter, ks).(traitsIterable).Iterator()
}

func (m *lazyMap) Size() ref.Val {
	n := 0
	for _, k := range m.keys {
		if _, ok := m.get(k); ok {
			n++
		}
	}
	return types.Int(n)
}

// staticMap is a small read-only CEL map of precomputed values.
type staticMap struct {
	keys []string
	vals []ref.Val
}

func newStaticMap(keys []string, vals []ref.Val) *lazyMap {
	m := &staticMap{keys: keys, vals: vals}
	return &lazyMap{keys: keys, get: m.get}
}

func (m *staticMap) get(k string) (ref.Val, bool) {
	for i, key := range m.keys {
		if key == k {
			return m.vals[i], true
		}
	}
	return nil, false
}

// floatMapVal is a CEL map(string, double) over a Go map, without the
// reflection the default adapter uses. Every key reads: a currency or
// counter the member has nothing of yet is 0, not an error (a rule must
// not fail, and be disabled, because a new member has no wallet yet).
func floatMapVal(m map[string]float64) ref.Val {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &lazyMap{keys: keys, get: func(k string) (ref.Val, bool) {
		return types.Double(m[k]), true
	}}
}
