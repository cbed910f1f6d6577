package monitoring

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// The Grafana dashboards (grafana/dashboards/*.json) are checked against
// the Go sources: every PromQL expression names metrics the code declares,
// groups and filters by labels those metrics have, rates counters and not
// gauges; every panel reads the ${datasource} variable. The checker is a
// set of functions returning problems, so TestDashboardCheckerRejects can
// show that each check fails on a broken input.

const (
	dashboardsDir   = "grafana/dashboards"
	providerFile    = "grafana/provisioning/dashboards/synapse.yml"
	datasourceFile  = "grafana/provisioning/datasources/prometheus.yml"
	datasourceUID   = "${datasource}"
	grafanaGridCols = 24
)

// --- Metric declarations, read from the Go sources ---

// metricDecl is what a prometheus constructor says about a metric.
type metricDecl struct {
	kind        string   // counter, gauge, histogram or summary
	labels      []string // variable and constant labels
	labelsKnown bool     // false: the label list could not be read statically (skip label checks)
	where       string
}

// constructors maps a prometheus constructor to its metric kind and the
// index of its variable-labels argument (-1: none). NewDesc's kind is only
// known when a metric is built from it; it follows the naming convention.
var constructors = map[string]struct {
	kind     string
	labelArg int
}{
	"NewCounter": {"counter", -1}, "NewCounterVec": {"counter", 1}, "NewCounterFunc": {"counter", -1},
	"NewGauge": {"gauge", -1}, "NewGaugeVec": {"gauge", 1}, "NewGaugeFunc": {"gauge", -1},
	"NewHistogram": {"histogram", -1}, "NewHistogramVec": {"histogram", 1},
	"NewSummary": {"summary", -1}, "NewSummaryVec": {"summary", 1},
	"NewDesc": {"", 2},
}

var fullMetricName = regexp.MustCompile(`^synapse_[a-z0-9_]+$`)

// declarations parses every non-test Go file (as exported does) and reads,
// for each synapse_ metric name passed to a prometheus constructor, its
// kind and labels: a []string{...} literal, a local variable holding one,
// or append(...) of those.
func declarations(t *testing.T) map[string]metricDecl {
	t.Helper()
	decls := map[string]metricDecl{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "web") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		var stack []ast.Node
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil || !fullMetricName.MatchString(name) {
				return true
			}
			decl, ok := declarationAt(file, stack, name)
			if !ok {
				return true
			}
			decl.where = fset.Position(lit.Pos()).String()
			if prev, dup := decls[name]; dup && (prev.kind != decl.kind || !slices.Equal(prev.labels, decl.labels)) {
				decl.labelsKnown = false // declared twice, differently: trust neither
			}
			decls[name] = decl
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return decls
}

// declarationAt reads the constructor call nearest above the name literal
// on stack (the literal is a field of its Opts, or NewDesc's first argument).
func declarationAt(file *ast.File, stack []ast.Node, name string) (metricDecl, bool) {
	for i := len(stack) - 2; i >= 0; i-- {
		call, ok := stack[i].(*ast.CallExpr)
		if !ok {
			continue
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return metricDecl{}, false
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "prometheus" {
			return metricDecl{}, false
		}
		c, ok := constructors[sel.Sel.Name]
		if !ok {
			return metricDecl{}, false
		}
		d := metricDecl{kind: c.kind, labelsKnown: true}
		if d.kind == "" {
			d.kind = "gauge"
			if strings.HasSuffix(name, "_total") {
				d.kind = "counter"
			}
		}
		scope := enclosingFunc(stack)
		if c.labelArg >= 0 && c.labelArg < len(call.Args) {
			labels, ok := stringsOf(call.Args[c.labelArg], file, scope, call.Pos(), 0)
			d.labels, d.labelsKnown = labels, ok
		}
		// Constant labels: Opts{ConstLabels: ...} or NewDesc's fourth argument.
		var constLabels ast.Expr
		if sel.Sel.Name == "NewDesc" && len(call.Args) > 3 {
			constLabels = call.Args[3]
		} else if len(call.Args) > 0 {
			if opts, ok := call.Args[0].(*ast.CompositeLit); ok {
				for _, e := range opts.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "ConstLabels" {
							constLabels = kv.Value
						}
					}
				}
			}
		}
		if constLabels != nil {
			keys, ok := mapKeysOf(constLabels)
			d.labels = append(d.labels, keys...)
			d.labelsKnown = d.labelsKnown && ok
		}
		return d, true
	}
	return metricDecl{}, false
}

func enclosingFunc(stack []ast.Node) *ast.BlockStmt {
	for _, n := range stack {
		if fn, ok := n.(*ast.FuncDecl); ok {
			return fn.Body
		}
	}
	return nil
}

// stringsOf evaluates a []string expression statically, as far as it can.
func stringsOf(e ast.Expr, file *ast.File, scope *ast.BlockStmt, before token.Pos, depth int) ([]string, bool) {
	if depth > 5 {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.CompositeLit:
		var out []string
		for _, el := range e.Elts {
			s, ok := stringLit(el)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case *ast.Ident:
		if e.Name == "nil" {
			return nil, true
		}
		def := definition(e.Name, file, scope, before)
		if def == nil {
			return nil, false
		}
		return stringsOf(def, file, scope, def.Pos(), depth+1)
	case *ast.CallExpr:
		fn, ok := e.Fun.(*ast.Ident)
		if !ok || fn.Name != "append" || len(e.Args) == 0 {
			return nil, false
		}
		out, ok := stringsOf(e.Args[0], file, scope, before, depth+1)
		if !ok {
			return nil, false
		}
		out = slices.Clone(out)
		for _, a := range e.Args[1:] {
			if e.Ellipsis.IsValid() {
				more, ok := stringsOf(a, file, scope, before, depth+1)
				if !ok {
					return nil, false
				}
				out = append(out, more...)
				continue
			}
			s, ok := stringLit(a)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// definition finds the value last assigned to name before pos, in the
// enclosing function or else at file level.
func definition(name string, file *ast.File, scope *ast.BlockStmt, before token.Pos) ast.Expr {
	var found ast.Expr
	look := func(root ast.Node) {
		ast.Inspect(root, func(n ast.Node) bool {
			if n == nil || n.Pos() >= before {
				return n == nil
			}
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok && id.Name == name {
							found = n.Rhs[i]
						}
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == len(n.Values) {
					for i, id := range n.Names {
						if id.Name == name {
							found = n.Values[i]
						}
					}
				}
			}
			return true
		})
	}
	if scope != nil {
		look(scope)
	}
	if found == nil {
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				look(g)
			}
		}
	}
	return found
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func mapKeysOf(e ast.Expr) ([]string, bool) {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return nil, true
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	var keys []string
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return nil, false
		}
		k, ok := stringLit(kv.Key)
		if !ok {
			return nil, false
		}
		keys = append(keys, k)
	}
	return keys, true
}

// --- PromQL, checked lightly against the catalog ---

// catalog is what a PromQL expression may name.
type catalog struct {
	exported map[string]bool       // exported(t): every synapse_ name in the sources
	decls    map[string]metricDecl // declarations(t): kinds and labels
	standard map[string]string     // non-synapse metrics allowed, by kind
}

// series is one metric a query can name: a declared metric, or a
// histogram's _bucket, _sum or _count series.
type series struct {
	kind        string // counter or gauge, as a query sees it
	labels      []string
	labelsKnown bool
}

var scrapeLabels = []string{"job", "instance"} // Prometheus adds them to every series

func (c catalog) lookup(name string) (series, string) {
	if k, ok := c.standard[name]; ok {
		return series{kind: k, labelsKnown: true}, "" // job and instance only
	}
	if !c.exported[name] {
		return series{}, fmt.Sprintf("%s is not a metric the code exports", name)
	}
	if d, ok := c.decls[name]; ok {
		if d.kind == "histogram" || d.kind == "summary" {
			return series{}, fmt.Sprintf("%s is a %s: query its _bucket, _sum or _count series", name, d.kind)
		}
		return series{kind: d.kind, labels: d.labels, labelsKnown: d.labelsKnown}, ""
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		d, ok := c.decls[base]
		if !ok || (d.kind != "histogram" && d.kind != "summary") {
			continue
		}
		if suffix == "_bucket" && d.kind == "summary" {
			return series{}, fmt.Sprintf("%s: a summary has no buckets", name)
		}
		s := series{kind: "counter", labels: slices.Clone(d.labels), labelsKnown: d.labelsKnown}
		if suffix == "_bucket" {
			s.labels = append(s.labels, "le")
		}
		return s, ""
	}
	// Exported as a string but not read from a constructor: its name is
	// good, its kind and labels unknown.
	return series{}, ""
}

var (
	aggregations = setOf("sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values")
	functions    = setOf("rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "histogram_quantile",
		"time", "vector", "scalar", "clamp", "clamp_min", "clamp_max", "abs", "ceil", "floor", "round", "sort", "sort_desc",
		"absent", "absent_over_time", "changes", "resets", "label_replace", "label_join", "timestamp",
		"min_over_time", "max_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time", "quantile_over_time")
	grouping      = setOf("by", "without", "on", "ignoring", "group_left", "group_right")
	keywords      = setOf("and", "or", "unless", "bool", "offset", "atan2")
	counterFuncs  = setOf("rate", "irate", "increase")
	legendLabel   = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	matcherLabel  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	variableRef   = regexp.MustCompile(`\$(?:\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|([a-zA-Z0-9_]+))`)
	quoted        = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	labelValuesRe = regexp.MustCompile(`^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
)

func setOf(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

type tok struct {
	kind string // ident, num, punct, matchers
	text string
}

// tokens splits PromQL into identifiers, numbers (and durations),
// punctuation and matcher blocks; range selectors and strings are skipped.
func tokens(expr string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", expr)
			}
			i += j + 1
		case c == '{': // matchers, up to the } outside their quoted values
			j, quote := i+1, byte(0)
			for ; j < len(expr) && (quote != 0 || expr[j] != '}'); j++ {
				switch {
				case quote != 0 && expr[j] == '\\':
					j++
				case quote != 0 && expr[j] == quote:
					quote = 0
				case quote == 0 && (expr[j] == '"' || expr[j] == '\'' || expr[j] == '`'):
					quote = expr[j]
				}
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unclosed { in %q", expr)
			}
			out = append(out, tok{"matchers", quoted.ReplaceAllString(expr[i+1:j], `""`)})
			i = j + 1
		case c == '"' || c == '\'' || c == '`':
			j := strings.IndexByte(expr[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed string in %q", expr)
			}
			i += j + 2
		case c == '$': // a Grafana variable outside a range or a string
			j := i + 1
			for j < len(expr) && (isIdent(expr[j]) || expr[j] == '{' || expr[j] == '}' || expr[j] == ':') {
				j++
			}
			out = append(out, tok{"num", expr[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(expr) && (isIdent(expr[j]) || expr[j] == '.' ||
				(expr[j] == '+' || expr[j] == '-') && (expr[j-1] == 'e' || expr[j-1] == 'E')) {
				j++
			}
			out = append(out, tok{"num", expr[i:j]})
			i = j
		case isIdent(c) || c == ':':
			j := i
			for j < len(expr) && (isIdent(expr[j]) || expr[j] == ':') {
				j++
			}
			out = append(out, tok{"ident", expr[i:j]})
			i = j
		default:
			out = append(out, tok{"punct", string(c)})
			i++
		}
	}
	return out, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// exprInfo is what one expression refers to.
type exprInfo struct {
	metrics     []string
	available   map[string]bool // labels some referenced metric has
	labelsKnown bool            // every referenced metric's labels are known
	byLabels    map[string]bool // labels kept by by (...) clauses
	aggregated  bool
	problems    []string
}

// checkExpr analyses one PromQL expression. rated: the expression is a
// query (counters must sit directly inside rate, irate or increase, gauges
// must not); label_values queries pass false.
func checkExpr(expr string, c catalog, rated bool) exprInfo {
	info := exprInfo{available: map[string]bool{}, byLabels: map[string]bool{}, labelsKnown: true}
	bad := func(format string, args ...any) { info.problems = append(info.problems, fmt.Sprintf(format, args...)) }
	for _, l := range scrapeLabels {
		info.available[l] = true
	}
	toks, err := tokens(expr)
	if err != nil {
		bad("%v", err)
		return info
	}
	var groupLabels []string
	quantile := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == "matchers" {
			bad("selector {%s} names no metric", t.text)
			continue
		}
		if t.kind != "ident" {
			continue
		}
		call := i+1 < len(toks) && (toks[i+1].text == "(" ||
			aggregations[t.text] && (toks[i+1].text == "by" || toks[i+1].text == "without"))
		switch {
		case grouping[t.text] && call:
			j := i + 2
			for ; j < len(toks) && toks[j].text != ")"; j++ {
				if toks[j].kind == "ident" {
					groupLabels = append(groupLabels, toks[j].text)
					if t.text == "by" {
						info.byLabels[toks[j].text] = true
					}
				}
			}
			i = j
		case grouping[t.text]: // group_left without labels
		case call:
			if !aggregations[t.text] && !functions[t.text] {
				bad("%s is not a PromQL function", t.text)
			}
			info.aggregated = info.aggregated || aggregations[t.text]
			quantile = quantile || t.text == "histogram_quantile"
		case keywords[t.text]:
		default:
			name, matchers, before := t.text, "", i-1
			if i+1 < len(toks) && toks[i+1].kind == "matchers" {
				matchers = toks[i+1].text
				i++
			}
			info.metrics = append(info.metrics, name)
			s, problem := c.lookup(name)
			if problem != "" {
				bad("%s", problem)
				info.labelsKnown = false // its labels are unknown: no follow-on label complaints
				continue
			}
			if !s.labelsKnown {
				info.labelsKnown = false
			}
			own := map[string]bool{"__name__": true}
			for _, l := range append(slices.Clone(scrapeLabels), s.labels...) {
				own[l] = true
				info.available[l] = true
			}
			for _, m := range matcherLabel.FindAllStringSubmatch(matchers, -1) {
				if s.labelsKnown && !own[m[1]] {
					bad("%s has no label %q (it has %v)", name, m[1], s.labels)
				}
			}
			fn := "" // the function directly around the metric
			if before >= 1 && toks[before].text == "(" && toks[before-1].kind == "ident" {
				fn = toks[before-1].text
			}
			switch {
			case !rated || s.kind == "":
			case s.kind == "counter" && !counterFuncs[fn]:
				bad("%s is a counter: wrap it in rate, irate or increase", name)
			case s.kind == "gauge" && counterFuncs[fn]:
				bad("%s is a gauge: %s of it is meaningless", name, fn)
			}
		}
	}
	if len(info.metrics) == 0 {
		bad("%q names no metric", expr)
	}
	if info.labelsKnown {
		for _, l := range groupLabels {
			if !info.available[l] {
				bad("no metric of %q has label %q", expr, l)
			}
		}
	}
	if quantile {
		hasBucket := slices.ContainsFunc(info.metrics, func(m string) bool { return strings.HasSuffix(m, "_bucket") })
		if !hasBucket || !info.byLabels["le"] {
			bad("histogram_quantile needs a _bucket series summed by (le, ...): %q", expr)
		}
	}
	return info
}

// checkLegend checks the {{label}}s of a legend against its expression:
// labels its metrics have and, once aggregated, labels a by (...) keeps.
func checkLegend(legend string, info exprInfo) []string {
	var problems []string
	for _, m := range legendLabel.FindAllStringSubmatch(legend, -1) {
		l := m[1]
		switch {
		case info.labelsKnown && !info.available[l]:
			problems = append(problems, fmt.Sprintf("legend %q: no metric of the query has label %q", legend, l))
		case info.aggregated && !info.byLabels[l]:
			problems = append(problems, fmt.Sprintf("legend %q: %q is aggregated away (not in a by clause)", legend, l))
		}
	}
	return problems
}

// --- Grafana's JSON model ---

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	RefID        string `json:"refId"`
	Datasource   *dsRef `json:"datasource"`
}

type panel struct {
	ID          int      `json:"id"`
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Datasource  *dsRef   `json:"datasource"`
	Targets     []target `json:"targets"`
	Panels      []panel  `json:"panels"` // a collapsed row's
	GridPos     struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *dsRef          `json:"datasource"`
}

type dashboardJSON struct {
	ID            any      `json:"id"`
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	SchemaVersion int      `json:"schemaVersion"`
	Tags          []string `json:"tags"`
	Panels        []panel  `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

// checkPanel checks one non-row panel; vars are the dashboard's variables.
func checkPanel(p panel, vars map[string]bool, c catalog) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("panel %q: ", p.Title)+fmt.Sprintf(format, args...))
	}
	if p.Title == "" {
		bad("no title")
	}
	if p.Description == "" {
		bad("no description (say what a bad value means and what to do)")
	}
	if p.Datasource == nil || p.Datasource.UID != datasourceUID || p.Datasource.Type != "prometheus" {
		bad("datasource %+v, want prometheus %s", p.Datasource, datasourceUID)
	}
	if (p.Type == "timeseries" || p.Type == "stat" || p.Type == "gauge" || p.Type == "bargauge") && p.FieldConfig.Defaults.Unit == "" {
		bad("no unit")
	}
	if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > grafanaGridCols {
		bad("gridPos %+v outside the %d-column grid", p.GridPos, grafanaGridCols)
	}
	if len(p.Targets) == 0 {
		bad("no targets")
	}
	refs := map[string]bool{}
	for _, t := range p.Targets {
		if t.RefID == "" || refs[t.RefID] {
			bad("refId %q missing or repeated", t.RefID)
		}
		refs[t.RefID] = true
		if t.Datasource != nil && t.Datasource.UID != datasourceUID {
			bad("target %s reads datasource %q", t.RefID, t.Datasource.UID)
		}
		if strings.TrimSpace(t.Expr) == "" {
			bad("target %s has no expression", t.RefID)
			continue
		}
		for _, v := range variableRef.FindAllStringSubmatch(t.Expr, -1) {
			name := v[1] + v[2]
			if !strings.HasPrefix(name, "__") && !vars[name] {
				bad("target %s uses $%s, which the dashboard does not define", t.RefID, name)
			}
		}
		info := checkExpr(t.Expr, c, true)
		for _, pr := range append(info.problems, checkLegend(t.LegendFormat, info)...) {
			bad("target %s: %s", t.RefID, pr)
		}
	}
	return problems
}

// checkVariables checks a dashboard's template variables.
func checkVariables(list []variable, c catalog) []string {
	var problems []string
	hasDS := false
	for _, v := range list {
		switch v.Type {
		case "datasource":
			var q string
			if json.Unmarshal(v.Query, &q) == nil && q == "prometheus" && v.Name == "datasource" {
				hasDS = true
			}
		case "query":
			if v.Datasource == nil || v.Datasource.UID != datasourceUID {
				problems = append(problems, fmt.Sprintf("variable %s: datasource %+v, want %s", v.Name, v.Datasource, datasourceUID))
			}
			m := labelValuesRe.FindStringSubmatch(v.Definition)
			if m == nil || m[1] == "" {
				problems = append(problems, fmt.Sprintf("variable %s: %q is not label_values(metric, label)", v.Name, v.Definition))
				continue
			}
			info := checkExpr(m[1], c, false)
			for _, pr := range info.problems {
				problems = append(problems, fmt.Sprintf("variable %s: %s", v.Name, pr))
			}
			if info.labelsKnown && !info.available[m[2]] {
				problems = append(problems, fmt.Sprintf("variable %s: %s has no label %q", v.Name, m[1], m[2]))
			}
		}
	}
	if !hasDS {
		problems = append(problems, `no "datasource" variable of type datasource (query prometheus)`)
	}
	return problems
}

// checkDashboard checks one dashboard's model.
func checkDashboard(d dashboardJSON, c catalog) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !regexp.MustCompile(`^[a-z0-9-]{1,40}$`).MatchString(d.UID) {
		bad("uid %q: want a stable lowercase uid of at most 40 characters", d.UID)
	}
	if d.Title == "" {
		bad("no title")
	}
	if d.ID != nil {
		bad("id %v: provisioned dashboards carry no id (Grafana assigns it)", d.ID)
	}
	if d.SchemaVersion < 38 {
		bad("schemaVersion %d < 38 (Grafana 10)", d.SchemaVersion)
	}
	if !slices.Contains(d.Tags, "synapse") {
		bad("no synapse tag (the dashboards link to each other by it)")
	}
	problems = append(problems, checkVariables(d.Templating.List, c)...)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	ids := map[int]bool{}
	cells := map[[2]int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				bad("panel id %d repeated", p.ID)
			}
			ids[p.ID] = true
		cells:
			for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
				for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
					if other, taken := cells[[2]int{x, y}]; taken {
						bad("panel %q overlaps %q", p.Title, other)
						break cells
					}
					cells[[2]int{x, y}] = p.Title
				}
			}
			if p.Type == "row" {
				if p.Title == "" {
					bad("row %d has no title", p.ID)
				}
				walk(p.Panels)
				continue
			}
			problems = append(problems, checkPanel(p, vars, c)...)
		}
	}
	walk(d.Panels)
	return problems
}

func testCatalog(t *testing.T) catalog {
	t.Helper()
	c := catalog{exported: exported(t), decls: declarations(t), standard: map[string]string{"up": "gauge"}}
	// Every role's registry carries the Go runtime and process collectors.
	reg, err := os.ReadFile("../ops/registry.go")
	require.NoError(t, err)
	if strings.Contains(string(reg), "collectors.NewGoCollector(") {
		c.standard["go_goroutines"] = "gauge"
	}
	if strings.Contains(string(reg), "collectors.NewProcessCollector(") {
		c.standard["process_cpu_seconds_total"] = "counter"
		c.standard["process_resident_memory_bytes"] = "gauge"
	}
	return c
}

func loadDashboards(t *testing.T) map[string]dashboardJSON {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]dashboardJSON{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var d dashboardJSON
		require.NoError(t, json.Unmarshal(raw, &d), f)
		out[filepath.Base(f)] = d
	}
	return out
}

// --- Tests ---

// The declaration reader sees the labels the code gives its metrics,
// through the forms the code uses.
func TestDeclarationsReadLabels(t *testing.T) {
	decls := declarations(t)
	for name, want := range map[string]metricDecl{
		// shard := []string{...}; append(shard, "owner", "state") in NewDesc
		"synapse_shard_info":                    {kind: "gauge", labels: []string{"shard_count", "shard", "owner", "state"}},
		"synapse_http_request_duration_seconds": {kind: "histogram", labels: []string{"route", "method", "code"}},
		"synapse_lake_events_written_total":     {kind: "counter", labels: []string{"type"}},
		"synapse_lake_buffer_items":             {kind: "gauge"},
		"synapse_outbox_backlog_rows":           {kind: "gauge"},
	} {
		got, ok := decls[name]
		require.True(t, ok, "%s not found", name)
		require.True(t, got.labelsKnown, name)
		require.Equal(t, want.kind, got.kind, name)
		require.Equal(t, want.labels, got.labels, name)
	}
	known := exported(t)
	for name, d := range decls {
		require.True(t, known[name], "%s (%s) is declared but exported() misses it", name, d.where)
		if !d.labelsKnown {
			t.Logf("%s (%s): labels not readable statically; dashboards' label checks skip it", name, d.where)
		}
	}
}

// Every dashboard parses and is complete, and every query names metrics,
// labels and variables that exist.
func TestDashboardsQueryExportedMetrics(t *testing.T) {
	c := testCatalog(t)
	boards := loadDashboards(t)
	require.GreaterOrEqual(t, len(boards), 4, "capture, rules & economy, API, storage")
	uids, titles := map[string]string{}, map[string]string{}
	names := make([]string, 0, len(boards))
	for f := range boards {
		names = append(names, f)
	}
	sort.Strings(names)
	used := map[string]bool{}
	for _, f := range names {
		d := boards[f]
		for _, problem := range checkDashboard(d, c) {
			t.Errorf("%s: %s", f, problem)
		}
		require.NotContains(t, uids, d.UID, "%s: uid %s also used by %s", f, d.UID, uids[d.UID])
		require.NotContains(t, titles, d.Title, "%s: title also used by %s", f, titles[d.Title])
		uids[d.UID], titles[d.Title] = f, f
		var collect func([]panel)
		collect = func(ps []panel) {
			for _, p := range ps {
				collect(p.Panels)
				for _, tg := range p.Targets {
					for _, m := range checkExpr(tg.Expr, c, true).metrics {
						used[m] = true
					}
				}
			}
		}
		collect(d.Panels)
	}
	// The operators' essentials are on some dashboard.
	for _, m := range []string{"synapse_lake_events_written_total", "synapse_lake_ingest_lag_seconds_bucket",
		"synapse_lake_events_dropped_total", "synapse_shard_info", "synapse_shard_last_event_timestamp_seconds",
		"synapse_rules_failures_total", "synapse_outbox_backlog_rows", "synapse_discord_actions_total",
		"synapse_http_request_duration_seconds_bucket", "synapse_lake_partitions_dropped_total",
		"synapse_lake_compaction_saved_bytes_total", "synapse_lake_counter_drift_total"} {
		require.True(t, used[m], "no dashboard shows %s", m)
	}
}

// The checks fail on what they are meant to catch.
func TestDashboardCheckerRejects(t *testing.T) {
	c := testCatalog(t)
	good := `sum by (type) (rate(synapse_lake_events_written_total{job=~"$job"}[$__rate_interval]))`
	info := checkExpr(good, c, true)
	require.Empty(t, info.problems)
	require.Empty(t, checkLegend("{{type}}", info))
	require.Empty(t, checkExpr(`histogram_quantile(0.99, sum by (le, route) (rate(synapse_http_request_duration_seconds_bucket{code=~"5.."}[5m])))`, c, true).problems)
	require.Empty(t, checkExpr(`time() - max by (shard_count, shard) (synapse_shard_last_event_timestamp_seconds)`, c, true).problems)
	require.Empty(t, checkExpr(`max(synapse_lake_buffer_items{instance=~"kind=x|a}b"}) > 0.5e3`, c, true).problems, "quoted matcher values")

	for expr, want := range map[string]string{
		`sum(rate(synapse_made_up_total[5m]))`:                                                           "synapse_made_up_total is not a metric the code exports",
		`sum(rate(synapse_lake_events_writen_total[5m]))`:                                                "not a metric the code exports",
		`sum(rate(synaps_lake_events_written_total[5m]))`:                                                "not a metric the code exports",
		`sum by (shard) (rate(synapse_lake_events_written_total[5m]))`:                                   `has label "shard"`,
		`synapse_lake_buffer_items{kind="transient"}`:                                                    `has no label "kind"`,
		`sum(rate(synapse_discord_actions_total{outcome="ok"}[5m]))`:                                     `has no label "outcome"`,
		`rate(synapse_lake_buffer_items[5m])`:                                                            "is a gauge",
		`sum(rate(synapse_lake_buffer_items{instance="a"}[5m]))`:                                         "is a gauge",
		`sum(synapse_lake_events_written_total)`:                                                         "is a counter",
		`histogram_quantile(0.99, sum by (instance) (rate(synapse_lake_ingest_lag_seconds_bucket[5m])))`: "summed by (le",
		`histogram_quantile(0.99, rate(synapse_lake_ingest_lag_seconds[5m]))`:                            "is a histogram",
		`sum(rat(synapse_lake_events_written_total[5m]))`:                                                "rat is not a PromQL function",
		`sum(rate({__name__="synapse_lake_events_written_total"}[5m]))`:                                  "names no metric",
	} {
		require.Contains(t, strings.Join(checkExpr(expr, c, true).problems, "\n"), want, expr)
	}
	require.NotEmpty(t, checkLegend("{{type}}", checkExpr(`sum(rate(synapse_lake_events_written_total[5m]))`, c, true)),
		"a label aggregated away")
	require.NotEmpty(t, checkLegend("{{kind}}", checkExpr(`synapse_lake_buffer_items`, c, true)), "a label the metric lacks")

	p := panel{Type: "timeseries", Title: "t", Description: "d", Datasource: &dsRef{"prometheus", "${datasource}"},
		Targets: []target{{Expr: good, RefID: "A", LegendFormat: "{{type}}"}}}
	p.GridPos.W, p.GridPos.H = 12, 8
	p.FieldConfig.Defaults.Unit = "eps"
	vars := map[string]bool{"datasource": true, "job": true}
	require.Empty(t, checkPanel(p, vars, c))
	for name, broken := range map[string]func(*panel){
		"hard-coded datasource": func(p *panel) { p.Datasource = &dsRef{"prometheus", "P1809F7CD0C75ACF3"} },
		"no targets":            func(p *panel) { p.Targets = nil },
		"no title":              func(p *panel) { p.Title = "" },
		"no description":        func(p *panel) { p.Description = "" },
		"no unit":               func(p *panel) { p.FieldConfig.Defaults.Unit = "" },
		"off the grid":          func(p *panel) { p.GridPos.X = 20 },
		"undefined variable": func(p *panel) {
			p.Targets = []target{{Expr: `synapse_lake_buffer_items{instance=~"$host"}`, RefID: "A"}}
		},
	} {
		q := p
		q.Targets = slices.Clone(p.Targets)
		broken(&q)
		require.NotEmpty(t, checkPanel(q, vars, c), name)
	}
	require.NotEmpty(t, checkVariables([]variable{{Type: "query", Name: "job", Datasource: &dsRef{"prometheus", "${datasource}"},
		Definition: "label_values(synapse_lake_buffer_items, job)"}}, c), "no datasource variable")
	require.NotEmpty(t, checkVariables([]variable{
		{Type: "datasource", Name: "datasource", Query: json.RawMessage(`"prometheus"`)},
		{Type: "query", Name: "x", Datasource: &dsRef{"prometheus", "${datasource}"}, Definition: "label_values(synapse_lake_buffer_items, kind)"},
	}, c), "a label the variable's metric lacks")
}

type providerConfig struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

type datasourceConfig struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string         `yaml:"name"`
		UID       string         `yaml:"uid"`
		Type      string         `yaml:"type"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		Editable  bool           `yaml:"editable"`
		JSONData  map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

// The provisioning files parse, load the dashboards from the documented
// path, and point the datasource at ${PROMETHEUS_URL}.
func TestGrafanaProvisioning(t *testing.T) {
	raw, err := os.ReadFile(providerFile)
	require.NoError(t, err)
	var pc providerConfig
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &pc, yaml.Strict()))
	require.Equal(t, 1, pc.APIVersion)
	require.Len(t, pc.Providers, 1)
	prov := pc.Providers[0]
	require.Equal(t, "file", prov.Type)
	require.NotEmpty(t, prov.Folder)
	require.True(t, filepath.IsAbs(prov.Options.Path), prov.Options.Path)

	raw, err = os.ReadFile(datasourceFile)
	require.NoError(t, err)
	var dc datasourceConfig
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &dc, yaml.Strict()))
	require.Equal(t, 1, dc.APIVersion)
	require.Len(t, dc.Datasources, 1)
	ds := dc.Datasources[0]
	require.Equal(t, "prometheus", ds.Type)
	require.Equal(t, "proxy", ds.Access)
	require.Equal(t, "${PROMETHEUS_URL}", ds.URL)
	require.NotEmpty(t, ds.UID)

	// The README tells operators where to mount what.
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, s := range []string{prov.Options.Path, "/etc/grafana/provisioning", "PROMETHEUS_URL", "infra/monitoring/alerts.yml"} {
		require.True(t, strings.Contains(string(readme), s), "README's Monitoring section does not mention %s", s)
	}
}

// The alerting rules pass the same query checks as the dashboards: labels
// their metrics have, counters rated, gauges not.
func TestAlertsUseDeclaredLabels(t *testing.T) {
	c := testCatalog(t)
	raw, err := os.ReadFile("alerts.yml")
	require.NoError(t, err)
	var rf ruleFile
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &rf, yaml.Strict()))
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			for _, problem := range checkExpr(r.Expr, c, true).problems {
				t.Errorf("alert %s: %s", r.Alert, problem)
			}
		}
	}
}
