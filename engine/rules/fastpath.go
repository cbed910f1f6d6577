package rules

import (
	"math"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// The fast path evaluates the expressions rules use most — arithmetic and
// comparisons over base, quality, zone.multiplier, numeric event fields and
// wallet/counter entries — as plain Go closures over the checked CEL AST,
// skipping the interpreter (about 10x cheaper here). Parsing and type
// checking stay CEL's; only these operators on doubles are handled, where
// Go and CEL arithmetic agree (IEEE 754). Whenever the fast path cannot
// answer exactly (a missing wallet key, anything unsupported) it reports
// !ok and the full CEL program runs instead, so results and errors are
// CEL's. A differential test compares both on many inputs.

type fastNum func(a *activation) (float64, bool)
type fastBool func(a *activation) (bool, bool)

// eventNumField reads a numeric event field as CEL's event map exposes it
// (see eventMap); ok is false for fields that are not doubles there.
func eventNumField(name string) (func(ev *Event) float64, bool) {
	switch name {
	case "length":
		return (*Event).length, true
	case "duration":
		return (*Event).duration, true
	case "magnitude":
		return func(ev *Event) float64 { return float64(ev.Magnitude) }, true
	case "code_blocks":
		return func(ev *Event) float64 { return float64(ev.Counts.CodeBlocks()) }, true
	case "links":
		return func(ev *Event) float64 { return float64(ev.Counts.Links()) }, true
	case "emoji":
		return func(ev *Event) float64 { return float64(ev.Counts.Emoji()) }, true
	case "attachments":
		return func(ev *Event) float64 { return float64(ev.Counts.Attachments()) }, true
	case "mentions":
		return func(ev *Event) float64 { return float64(ev.Counts.Mentions()) }, true
	case "hour":
		return func(ev *Event) float64 { return float64(ev.OccurredAt.UTC().Hour()) }, true
	case "weekday":
		return func(ev *Event) float64 { return float64(ev.OccurredAt.UTC().Weekday()) }, true
	case "depth":
		return func(ev *Event) float64 { return float64(len(ev.Chain)) }, true
	}
	return nil, false
}

// compileFastNum returns nil when the expression is outside the fast path.
func compileFastNum(a *cel.Ast) fastNum {
	return fastNumExpr(a.NativeRep().Expr(), false)
}

func compileFastBool(a *cel.Ast) fastBool {
	return fastBoolExpr(a.NativeRep().Expr())
}

// fastNumExpr compiles a double-valued expression. intOK allows integer
// literals (as doubles): only in comparisons, where CEL compares numbers
// across types; in arithmetic CEL would refuse int with double.
func fastNumExpr(e ast.Expr, intOK bool) fastNum {
	switch e.Kind() {
	case ast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.Double:
			f := float64(v)
			return func(*activation) (float64, bool) { return f, true }
		case types.Int:
			if !intOK {
				return nil
			}
			f := float64(v)
			return func(*activation) (float64, bool) { return f, true }
		}
		return nil
	case ast.IdentKind:
		switch e.AsIdent() {
		case "base":
			return func(a *activation) (float64, bool) { return a.base, true }
		case "quality":
			return func(a *activation) (float64, bool) { return a.quality, true }
		}
		return nil
	case ast.SelectKind:
		sel := e.AsSelect()
		if sel.IsTestOnly() || sel.Operand().Kind() != ast.IdentKind {
			return nil
		}
		switch sel.Operand().AsIdent() {
		case "zone":
			if sel.FieldName() == "multiplier" {
				return func(a *activation) (float64, bool) { return a.zoneMult, true }
			}
		case "event":
			if get, ok := eventNumField(sel.FieldName()); ok {
				return func(a *activation) (float64, bool) { return get(a.ev), true }
			}
		}
		return nil
	case ast.CallKind:
		call := e.AsCall()
		if call.IsMemberFunction() {
			return nil
		}
		args := call.Args()
		switch fn := call.FunctionName(); fn {
		case "_[_]":
			if len(args) != 2 || args[0].Kind() != ast.IdentKind || args[1].Kind() != ast.LiteralKind {
				return nil
			}
			key, ok := args[1].AsLiteral().(types.String)
			if !ok {
				return nil
			}
			k := string(key)
			switch args[0].AsIdent() {
			case "wallet": // absent keys read as 0, as in floatMapVal
				return func(a *activation) (float64, bool) { return a.facts.Wallet[k], true }
			case "counters":
				return func(a *activation) (float64, bool) { return a.facts.Counters[k], true }
			}
			return nil
		case "-_":
			if len(args) != 1 {
				return nil
			}
			x := fastNumExpr(args[0], false)
			if x == nil {
				return nil
			}
			return func(a *activation) (float64, bool) { v, ok := x(a); return -v, ok }
		case "_+_", "_-_", "_*_", "_/_":
			if len(args) != 2 {
				return nil
			}
			l, r := fastNumExpr(args[0], false), fastNumExpr(args[1], false)
			if l == nil || r == nil {
				return nil
			}
			return binaryNum(fn, l, r)
		case "math.@min", "math.@max", "math.floor", "math.ceil": // math.least/greatest expand to @min/@max
			var xs []fastNum
			for _, arg := range args {
				x := fastNumExpr(arg, false)
				if x == nil {
					return nil
				}
				xs = append(xs, x)
			}
			return mathNum(fn, xs)
		}
	}
	return nil
}

func binaryNum(fn string, l, r fastNum) fastNum {
	switch fn {
	case "_+_":
		return func(a *activation) (float64, bool) {
			x, ok1 := l(a)
			y, ok2 := r(a)
			return x + y, ok1 && ok2
		}
	case "_-_":
		return func(a *activation) (float64, bool) {
			x, ok1 := l(a)
			y, ok2 := r(a)
			return x - y, ok1 && ok2
		}
	case "_*_":
		return func(a *activation) (float64, bool) {
			x, ok1 := l(a)
			y, ok2 := r(a)
			return x * y, ok1 && ok2
		}
	}
	return func(a *activation) (float64, bool) {
		x, ok1 := l(a)
		y, ok2 := r(a)
		return x / y, ok1 && ok2
	}
}

func mathNum(fn string, xs []fastNum) fastNum {
	switch fn {
	case "math.floor", "math.ceil":
		if len(xs) != 1 {
			return nil
		}
		f := math.Floor
		if fn == "math.ceil" {
			f = math.Ceil
		}
		x := xs[0]
		return func(a *activation) (float64, bool) { v, ok := x(a); return f(v), ok }
	}
	if len(xs) != 2 {
		return nil // one-argument and list forms: leave to CEL
	}
	least := fn == "math.@min"
	return func(a *activation) (float64, bool) {
		best, ok := xs[0](a)
		for _, x := range xs[1:] {
			v, ok2 := x(a)
			ok = ok && ok2
			if math.IsNaN(v) || math.IsNaN(best) {
				return 0, false // CEL's NaN ordering: let CEL decide
			}
			if (least && v < best) || (!least && v > best) {
				best = v
			}
		}
		return best, ok
	}
}

func fastBoolExpr(e ast.Expr) fastBool {
	switch e.Kind() {
	case ast.LiteralKind:
		if b, ok := e.AsLiteral().(types.Bool); ok {
			v := bool(b)
			return func(*activation) (bool, bool) { return v, true }
		}
		return nil
	case ast.CallKind:
		call := e.AsCall()
		if call.IsMemberFunction() {
			return nil
		}
		args := call.Args()
		switch fn := call.FunctionName(); fn {
		case "_&&_", "_||_":
			if len(args) != 2 {
				return nil
			}
			l, r := fastBoolExpr(args[0]), fastBoolExpr(args[1])
			if l == nil || r == nil {
				return nil
			}
			and := fn == "_&&_"
			// Both sides always run: neither can fail here, and an
			// unanswerable side (ok=false) sends the whole expression to CEL.
			return func(a *activation) (bool, bool) {
				x, ok1 := l(a)
				y, ok2 := r(a)
				if and {
					return x && y, ok1 && ok2
				}
				return x || y, ok1 && ok2
			}
		case "!_":
			if len(args) != 1 {
				return nil
			}
			x := fastBoolExpr(args[0])
			if x == nil {
				return nil
			}
			return func(a *activation) (bool, bool) { v, ok := x(a); return !v, ok }
		case "_<_", "_<=_", "_>_", "_>=_", "_==_", "_!=_":
			if len(args) != 2 {
				return nil
			}
			l, r := fastNumExpr(args[0], true), fastNumExpr(args[1], true)
			if l == nil || r == nil {
				return nil
			}
			return compareNum(fn, l, r)
		}
	}
	return nil
}

func compareNum(fn string, l, r fastNum) fastBool {
	cmp := map[string]func(x, y float64) bool{
		"_<_": func(x, y float64) bool { return x < y }, "_<=_": func(x, y float64) bool { return x <= y },
		"_>_": func(x, y float64) bool { return x > y }, "_>=_": func(x, y float64) bool { return x >= y },
		"_==_": func(x, y float64) bool { return x == y }, "_!=_": func(x, y float64) bool { return x != y },
	}[fn]
	return func(a *activation) (bool, bool) {
		x, ok1 := l(a)
		y, ok2 := r(a)
		return cmp(x, y), ok1 && ok2
	}
}
