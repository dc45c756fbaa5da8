package main

// A HelmRelease's healthCheckExprs during Helm's wait: for the group (and kind, when named) of an entry, the
// status of an object comes from CEL instead of kstatus. As gotk.ssa.status does it for Kustomizations (Flux's
// CEL status evaluator): an observed generation behind metadata.generation is InProgress; then inProgress,
// failed and current are tried in that order and the first true one decides; none true is InProgress; an
// expression that fails on the object (a field not set yet) is Unknown. The object's top-level fields are the
// expression's variables.

import (
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/statusreaders"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type healthCheck struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Current    string `json:"current"`
	InProgress string `json:"inProgress"`
	Failed     string `json:"failed"`
}

type celExpr struct {
	text    string
	program cel.Program
}

type celCheck struct {
	group, kind                 string
	inProgress, failed, current *celExpr
}

// compileExpr parses text once, declaring as variables the names it reads (loop variables left out).
func compileExpr(text string) (*celExpr, error) {
	if text == "" {
		return nil, nil
	}
	base, err := cel.NewEnv(ext.Strings())
	if err != nil {
		return nil, err
	}
	parsed, issues := base.Parse(text)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("failed to parse the CEL expression '%s': %s", text, issues.Err())
	}
	opts := []cel.EnvOption{ext.Strings()}
	for _, name := range freeNames(parsed.NativeRep()) {
		opts = append(opts, cel.Variable(name, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	checked, issues := env.Compile(text)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("failed to parse the CEL expression '%s': %s", text, issues.Err())
	}
	program, err := env.Program(checked)
	if err != nil {
		return nil, err
	}
	return &celExpr{text: text, program: program}, nil
}

func freeNames(tree *ast.AST) []string {
	bound, seen := map[string]bool{}, map[string]bool{}
	root := ast.NavigateAST(tree)
	for _, e := range ast.MatchDescendants(root, ast.KindMatcher(ast.ComprehensionKind)) {
		c := e.AsComprehension()
		bound[c.IterVar()], bound[c.AccuVar()] = true, true
		if v := c.IterVar2(); v != "" {
			bound[v] = true
		}
	}
	var names []string
	for _, e := range ast.MatchDescendants(root, ast.KindMatcher(ast.IdentKind)) {
		name := e.AsIdent()
		if !bound[name] && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

func compileChecks(checks []healthCheck) ([]*celCheck, error) {
	out := make([]*celCheck, 0, len(checks))
	for i, h := range checks {
		group := ""
		if strings.Contains(h.APIVersion, "/") {
			group = h.APIVersion[:strings.LastIndex(h.APIVersion, "/")]
		}
		c := &celCheck{group: group, kind: h.Kind}
		var err error
		if c.inProgress, err = compileExpr(h.InProgress); err == nil {
			if c.failed, err = compileExpr(h.Failed); err == nil {
				c.current, err = compileExpr(h.Current)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("healthCheckExprs[%d]: %w", i, err)
		}
		if c.current == nil {
			return nil, fmt.Errorf("healthCheckExprs[%d]: expression Current not specified", i)
		}
		out = append(out, c)
	}
	return out, nil
}

// celReaders are status readers for the checked kinds (a kind-named entry before a group-wide one).
func celReaders(checks []*celCheck, mapper meta.RESTMapper) []engine.StatusReader {
	var named, wide []engine.StatusReader
	for _, c := range checks {
		c := c
		r := &celReader{check: c, StatusReader: statusreaders.NewGenericStatusReader(mapper, c.status)}
		if c.kind != "" {
			named = append(named, r)
		} else {
			wide = append(wide, r)
		}
	}
	return append(named, wide...)
}

type celReader struct {
	engine.StatusReader
	check *celCheck
}

func (r *celReader) Supports(gk schema.GroupKind) bool {
	return gk.Group == r.check.group && (r.check.kind == "" || gk.Kind == r.check.kind)
}

func (c *celCheck) status(u *unstructured.Unstructured) (*status.Result, error) {
	obj := u.UnstructuredContent()
	observed, okObserved, _ := unstructured.NestedInt64(obj, "status", "observedGeneration")
	if okObserved && observed != u.GetGeneration() {
		msg := fmt.Sprintf("generation %d not yet observed (observed %d)", u.GetGeneration(), observed)
		return &status.Result{Status: status.InProgressStatus, Message: msg}, nil
	}
	for _, step := range []struct {
		name    string
		expr    *celExpr
		verdict status.Status
	}{{"inProgress", c.inProgress, status.InProgressStatus}, {"failed", c.failed, status.FailedStatus},
		{"current", c.current, status.CurrentStatus}} {
		if step.expr == nil {
			continue
		}
		value, _, err := step.expr.program.Eval(obj)
		if err != nil {
			msg := fmt.Sprintf("failed to evaluate the CEL expression '%s': %s", step.expr.text, err)
			return &status.Result{Status: status.UnknownStatus, Message: msg}, nil
		}
		matched, ok := value.Value().(bool)
		if !ok {
			msg := fmt.Sprintf("failed to evaluate CEL expression as boolean: '%s'", step.expr.text)
			return &status.Result{Status: status.UnknownStatus, Message: msg}, nil
		}
		if matched {
			return &status.Result{Status: step.verdict, Message: "healthCheckExprs: " + step.name + " expression is true"}, nil
		}
	}
	return &status.Result{Status: status.InProgressStatus, Message: "healthCheckExprs: no expression is true yet"}, nil
}
