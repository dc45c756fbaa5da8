// Package main is gotk's Helm library: a c-shared library (libgotkhelm.so) over Helm v4's action
// package, called from Python (gotk.helm.lib) with ctypes. One entry point takes a JSON request
// and returns a malloc'd JSON response that the caller frees with GotkHelmFree:
//
//	{"action": "install", "kubeconfig": "...", "namespace": "...", "releaseName": "...", ...}
//	-> {"ok": true, "release": {...}} | {"ok": false, "error": "...", "code": "releaseNotFound"}
//
// Every call builds its own action.Configuration (Secrets storage in storageNamespace) over an
// in-memory-cached Kubernetes client, so calls are independent and may run concurrently.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"helm.sh/helm/v4/pkg/strvals"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// FieldManager owns every field Helm applies from this library (Flux's helm-controller name).
const FieldManager = "helm-controller"

func init() { kube.ManagedFieldsManager = FieldManager }

type request struct {
	Action                   string              `json:"action"`
	Kubeconfig               string              `json:"kubeconfig"`
	Context                  string              `json:"context"`
	Namespace                string              `json:"namespace"`
	StorageNamespace         string              `json:"storageNamespace"`
	Impersonate              string              `json:"impersonate"`
	QPS                      float32             `json:"qps"`
	Burst                    int                 `json:"burst"`
	ReleaseName              string              `json:"releaseName"`
	ChartPath                string              `json:"chartPath"`
	Values                   map[string]any      `json:"values"`
	Timeout                  string              `json:"timeout"`
	Wait                     bool                `json:"wait"`
	WaitForJobs              bool                `json:"waitForJobs"`
	DisableHooks             bool                `json:"disableHooks"`
	DisableOpenAPIValidation bool                `json:"disableOpenAPIValidation"`
	Force                    bool                `json:"force"`
	CreateNamespace          bool                `json:"createNamespace"`
	MaxHistory               int                 `json:"maxHistory"`
	Description              string              `json:"description"`
	Version                  int                 `json:"version"`
	KeepHistory              bool                `json:"keepHistory"`
	ResetValues              bool                `json:"resetValues"`
	ReuseValues              bool                `json:"reuseValues"`
	CleanupOnFail            bool                `json:"cleanupOnFail"`
	SkipCRDs                 bool                `json:"skipCRDs"`
	ForceConflicts           bool                `json:"forceConflicts"`
	ServerSideApply          string              `json:"serverSideApply"` // "true", "false" or "auto" (upgrade, rollback)
	TakeOwnership            bool                `json:"takeOwnership"`   // adopt objects without Helm's annotations
	SkipSchemaValidation     bool                `json:"skipSchemaValidation"`
	Replace                  bool                `json:"replace"`             // install: reuse the name of a deleted release
	WaitStrategy             string              `json:"waitStrategy"`        // with wait: "watcher" (default) or "legacy"
	DeletionPropagation      string              `json:"deletionPropagation"` // uninstall: background, foreground, orphan
	CRDs                     string              `json:"crds"`                // install, upgrade: Skip, Create or CreateReplace
	ChartVersion             string              `json:"chartVersion"`        // install, upgrade: the chart's version as released
	Filters                  map[string][]string `json:"filters"`             // test: {"name": [...]} runs, {"!name": [...]} skips
	PostRendering            *postRendering      `json:"postRendering"`       // install, upgrade, template: see postrender.go
	TargetPath               string              `json:"targetPath"`          // setValue: where the value goes, in --set's path syntax
	Value                    string              `json:"value"`               // setValue: the value, parsed as --set does (typed) unless literal
	Literal                  bool                `json:"literal"`             // setValue: the value verbatim, as --set-literal
	OCIDigests               []string            `json:"ociDigests"`          // release answers: digests for these too
	HealthCheckExprs         []healthCheck       `json:"healthCheckExprs"`    // install, upgrade, rollback: CEL health
	PostRenderStrategy       string              `json:"postRenderStrategy"`  // install, upgrade, template: hooks and post-renderers
	Template                 string              `json:"template"`            // commitMessage: the Go template (message.go)
	Data                     json.RawMessage     `json:"data"`                // commitMessage: what the template sees
}

type chartInfo struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

type hookInfo struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Path   string   `json:"path"`
	Events []string `json:"events"`
	Phase  string   `json:"phase"`
}

type releaseInfo struct {
	Name          string         `json:"name"`
	Namespace     string         `json:"namespace"`
	Version       int            `json:"version"`
	Status        string         `json:"status"`
	Description   string         `json:"description"`
	Chart         chartInfo      `json:"chart"`
	Manifest      string         `json:"manifest"`
	Notes         string         `json:"notes"`
	Config        map[string]any `json:"config"`
	FirstDeployed string         `json:"firstDeployed"`
	LastDeployed  string         `json:"lastDeployed"`
	Deleted       string         `json:"deleted,omitempty"` // when an uninstall kept the history
	Hooks         []hookInfo     `json:"hooks"`
	// Digests is Flux's status.history digest of this release, for no OCI digest ("") and each one asked for
	Digests map[string]string `json:"digests"`
	raw     *release.Release
}

type response struct {
	OK       bool              `json:"ok"`
	Error    string            `json:"error,omitempty"`
	Code     string            `json:"code,omitempty"` // a failure's class, for callers that must not parse Error
	Release  *releaseInfo      `json:"release,omitempty"`
	Releases []*releaseInfo    `json:"releases,omitempty"`
	Info     string            `json:"info,omitempty"`
	Version  map[string]string `json:"version,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	Values   map[string]any    `json:"values,omitempty"`
}

//export GotkHelmCall
func GotkHelmCall(requestJSON *C.char) *C.char {
	logs := &lockedBuffer{}
	out := run(C.GoString(requestJSON), logs)
	out.Warnings = logs.lines()
	data, err := json.Marshal(out)
	if err != nil {
		data, _ = json.Marshal(response{Error: "cannot encode the response: " + err.Error()})
	}
	return C.CString(string(data))
}

//export GotkHelmFree
func GotkHelmFree(p *C.char) { C.free(unsafe.Pointer(p)) }

// run decodes and runs one request with a fresh action.Configuration logging to logs (warnings and
// errors only); a panic on this goroutine becomes an error response.
func run(requestJSON string, logs *lockedBuffer) (out response) {
	defer func() {
		if r := recover(); r != nil {
			out = response{Error: fmt.Sprintf("helm library panic: %v", r)}
		}
	}()
	var req request
	if err := json.Unmarshal([]byte(requestJSON), &req); err != nil {
		return response{Error: "invalid request: " + err.Error()}
	}
	if req.Values == nil {
		req.Values = map[string]any{}
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	handler := slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: dropTime})
	out, err := dispatch(action.NewConfiguration(action.ConfigurationSetLogger(handler)), &req)
	for _, info := range append([]*releaseInfo{out.Release}, out.Releases...) {
		if info != nil && info.raw != nil {
			digests, derr := observedDigests(info.raw, req.OCIDigests)
			if derr != nil {
				return response{Error: "cannot digest the release: " + derr.Error()}
			}
			info.Digests = digests
		}
	}
	if err != nil {
		return response{Error: err.Error(), Code: errorCode(err), Release: out.Release}
	}
	out.OK = true
	return out
}

func dispatch(cfg *action.Configuration, req *request) (response, error) {
	switch req.Action {
	case "version":
		return response{Version: versions()}, nil
	case "template":
		return template(cfg, req)
	case "setValue":
		return setValue(req)
	case "commitMessage":
		return commitMessage(req)
	case "install", "upgrade", "rollback", "uninstall", "history", "get", "test", "unlock":
	default:
		return response{}, fmt.Errorf("unknown action %q", req.Action)
	}
	timeout, err := parseTimeout(req.Timeout)
	if err != nil {
		return response{}, err
	}
	if req.StorageNamespace == "" {
		req.StorageNamespace = req.Namespace
	}
	getter, err := newGetter(req)
	if err != nil {
		return response{}, err
	}
	if err := cfg.Init(getter, req.StorageNamespace, "secret"); err != nil {
		return response{}, err
	}
	cfg.KubeClient.(*kube.Client).Namespace = req.Namespace // where namespaced objects without one go
	withSharedValidation(cfg.KubeClient.(*kube.Client), getter)
	// Helm's default waits for hooks only; "wait" waits for every resource (kstatus watcher).
	wait := kube.HookOnlyStrategy
	if req.Wait {
		wait = kube.StatusWatcherStrategy
		if req.WaitStrategy == string(kube.LegacyStrategy) {
			wait = kube.LegacyStrategy
		}
	}
	var waitOptions []kube.WaitOption // healthCheckExprs: CEL status readers for their kinds (the watcher only)
	if wait == kube.StatusWatcherStrategy && len(req.HealthCheckExprs) > 0 {
		checks, err := compileChecks(req.HealthCheckExprs)
		if err != nil {
			return response{}, err
		}
		waitOptions = append(waitOptions, kube.WithKStatusReaders(celReaders(checks, getter.restMapper)...))
	}
	name := req.ReleaseName
	switch req.Action {
	case "install":
		chrt, err := loadChart(req)
		if err != nil {
			return response{}, err
		}
		if err := applyCRDs(cfg, getter, chrt, req.CRDs, timeout); err != nil {
			return response{}, err
		}
		a := action.NewInstall(cfg)
		a.ReleaseName, a.Namespace, a.Timeout, a.WaitStrategy, a.WaitForJobs = name, req.Namespace, timeout, wait, req.WaitForJobs
		a.DisableHooks, a.DisableOpenAPIValidation, a.SkipCRDs = req.DisableHooks, req.DisableOpenAPIValidation, req.SkipCRDs || req.CRDs != ""
		a.ForceReplace, a.ForceConflicts, a.ServerSideApply = req.Force, req.ForceConflicts, req.ServerSideApply != "false"
		a.CreateNamespace, a.Description = req.CreateNamespace, req.Description
		a.TakeOwnership, a.SkipSchemaValidation, a.Replace = req.TakeOwnership, req.SkipSchemaValidation, req.Replace
		a.PostRenderer, a.WaitOptions = postRenderer(req.PostRendering), waitOptions
		a.PostRenderStrategy = postRenderStrategy(req.PostRenderStrategy, a.PostRenderStrategy)
		return releaseResponse(a.Run(chrt, req.Values))
	case "upgrade":
		chrt, err := loadChart(req)
		if err != nil {
			return response{}, err
		}
		if err := applyCRDs(cfg, getter, chrt, req.CRDs, timeout); err != nil {
			return response{}, err
		}
		a := action.NewUpgrade(cfg)
		a.Namespace, a.Timeout, a.WaitStrategy, a.WaitForJobs = req.Namespace, timeout, wait, req.WaitForJobs
		a.DisableHooks, a.DisableOpenAPIValidation, a.SkipCRDs = req.DisableHooks, req.DisableOpenAPIValidation, req.SkipCRDs
		a.ForceReplace, a.ForceConflicts, a.ServerSideApply = req.Force, req.ForceConflicts, orDefault(req.ServerSideApply, a.ServerSideApply)
		a.ResetValues, a.ReuseValues, a.CleanupOnFail = req.ResetValues, req.ReuseValues, req.CleanupOnFail
		a.MaxHistory, a.Description = req.MaxHistory, req.Description
		a.TakeOwnership, a.SkipSchemaValidation = req.TakeOwnership, req.SkipSchemaValidation
		a.PostRenderer, a.WaitOptions = postRenderer(req.PostRendering), waitOptions
		a.PostRenderStrategy = postRenderStrategy(req.PostRenderStrategy, a.PostRenderStrategy)
		return releaseResponse(a.Run(name, chrt, req.Values))
	case "rollback":
		a := action.NewRollback(cfg)
		a.Version, a.Timeout, a.WaitStrategy, a.WaitForJobs = req.Version, timeout, wait, req.WaitForJobs
		a.WaitOptions = waitOptions
		a.DisableHooks, a.CleanupOnFail, a.MaxHistory, a.Description = req.DisableHooks, req.CleanupOnFail, req.MaxHistory, req.Description
		a.ForceReplace, a.ForceConflicts, a.ServerSideApply = req.Force, req.ForceConflicts, orDefault(req.ServerSideApply, a.ServerSideApply)
		if err := a.Run(name); err != nil {
			return response{}, err
		}
		return releaseResponse(action.NewGet(cfg).Run(name)) // Rollback.Run returns no release
	case "uninstall":
		a := action.NewUninstall(cfg)
		a.DisableHooks, a.KeepHistory, a.Timeout, a.Description = req.DisableHooks, req.KeepHistory, timeout, req.Description
		a.WaitStrategy, a.DeletionPropagation = wait, orDefault(req.DeletionPropagation, "background")
		res, err := a.Run(name)
		if err != nil {
			return response{}, err
		}
		out, err := releaseResponse(res.Release, nil)
		out.Info = res.Info
		return out, err
	case "history":
		rels, err := action.NewHistory(cfg).Run(name)
		if err != nil {
			return response{}, err
		}
		out := response{Releases: []*releaseInfo{}}
		for _, r := range rels {
			info, err := convert(r)
			if err != nil {
				return response{}, err
			}
			out.Releases = append(out.Releases, info)
		}
		sort.Slice(out.Releases, func(i, j int) bool { return out.Releases[i].Version < out.Releases[j].Version })
		return out, nil
	case "unlock":
		return unlock(cfg, name)
	case "get":
		a := action.NewGet(cfg)
		a.Version = req.Version
		return releaseResponse(a.Run(name))
	default: // "test"
		a := action.NewReleaseTesting(cfg)
		a.Namespace, a.Timeout, a.Filters = req.Namespace, timeout, req.Filters
		rel, shutdown, err := a.Run(name)
		if shutdown != nil {
			err = errors.Join(err, shutdown()) // deletes the test hooks by their delete policies
		}
		if err != nil && rel != nil { // a failed test: the hooks' phases go back with the error
			out, convErr := releaseResponse(rel, nil)
			if convErr == nil {
				return out, err
			}
		}
		return releaseResponse(rel, err)
	}
}

// unlock marks the latest revision, left pending-install, pending-upgrade or pending-rollback by a process that
// died in the middle of an action, as failed, so that the next action may run (Helm refuses to act on a
// pending release). A release that is not pending is returned as it is.
func unlock(cfg *action.Configuration, name string) (response, error) {
	last, err := cfg.Releases.Last(name)
	if err != nil {
		return response{}, err
	}
	rel, ok := last.(*release.Release)
	if !ok {
		return response{}, fmt.Errorf("unsupported release type %T", last)
	}
	if rel.Info != nil && rel.Info.Status.IsPending() {
		rel.SetStatus(common.StatusFailed, fmt.Sprintf("Release unlocked from stale '%s' state", rel.Info.Status))
		if err := cfg.Releases.Update(rel); err != nil {
			return response{}, err
		}
	}
	return releaseResponse(rel, nil)
}

// applyCRDs installs the chart's crds/ as the policy says, and waits until they are established: "Create" creates
// the CRDs that do not exist yet and leaves the others alone, "CreateReplace" also updates the existing ones
// (server-side apply, conflicts forced), "Skip" and "" do nothing (with "", install leaves CRDs to Helm).
func applyCRDs(cfg *action.Configuration, g *getter, chrt *chart.Chart, policy string, timeout time.Duration) error {
	if policy == "" || policy == "Skip" || len(chrt.CRDObjects()) == 0 {
		return nil
	}
	if policy != "Create" && policy != "CreateReplace" {
		return fmt.Errorf("invalid CRD policy %q: Skip, Create or CreateReplace", policy)
	}
	var applied kube.ResourceList
	for _, crd := range chrt.CRDObjects() {
		if crd.File == nil || len(crd.File.Data) == 0 {
			return fmt.Errorf("failed to apply CRD %s: file is empty", crd.Name)
		}
		res, err := cfg.KubeClient.Build(bytes.NewBuffer(crd.File.Data), false)
		if err != nil {
			return fmt.Errorf("failed to apply CRD %s: %w", crd.Name, err)
		}
		for _, info := range res {
			one := kube.ResourceList{info}
			replace := policy == "CreateReplace" // apply creates or updates; a plain create refuses what exists
			if _, err := cfg.KubeClient.Create(one, kube.ClientCreateOptionServerSideApply(replace, replace)); err != nil {
				if !replace && apierrors.IsAlreadyExists(err) {
					continue
				}
				return fmt.Errorf("failed to apply CRD %s: %w", crd.Name, err)
			}
			applied = append(applied, info)
		}
	}
	if len(applied) == 0 {
		return nil
	}
	waiter, err := cfg.KubeClient.GetWaiter(kube.StatusWatcherStrategy)
	if err != nil {
		return err
	}
	if err := waiter.Wait(applied, timeout); err != nil {
		return err
	}
	// the chart's templates may hold objects of these new kinds: discovery and the REST mapper learn them now
	g.discovery.Invalidate()
	g.mapper.Reset()
	return nil
}

// loadChart loads the chart archive or directory; a chartVersion in the request replaces the chart's own (Flux
// appends the OCI digest, `1.2.3+0123456789ab`, so that a new digest of the same version upgrades).
func loadChart(req *request) (*chart.Chart, error) {
	chrt, err := loader.Load(req.ChartPath)
	if err != nil {
		return nil, err
	}
	if req.ChartVersion != "" && chrt.Metadata != nil {
		chrt.Metadata.Version = req.ChartVersion
	}
	return chrt, nil
}

// setValue writes a valuesFrom entry with a targetPath into the values with Helm's own --set parser, as Flux
// does: a value in single or double quotes goes in as a string without its quotes, any other is typed (numbers,
// booleans, null, {a,b} lists) as --set types it; a literal one is taken verbatim, the path still honouring `\.`.
func setValue(req *request) (response, error) {
	values := map[string]any(req.Values)
	value := req.Value
	if req.Literal {
		escaped := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `[`, `\[`, `]`, `\]`, `{`, `\{`, `}`, `\}`).Replace(value)
		if err := strvals.ParseIntoString(req.TargetPath+"="+escaped, values); err != nil {
			return response{}, err
		}
		return response{Values: values}, nil
	}
	quoted := len(value) >= 1 && ((strings.HasPrefix(value, "'") && strings.HasSuffix(value, "'")) ||
		(strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`)))
	var err error
	if quoted {
		err = strvals.ParseIntoString(req.TargetPath+"="+strings.Trim(value, `'"`), values)
	} else {
		err = strvals.ParseInto(req.TargetPath+"="+value, values)
	}
	if err != nil {
		return response{}, err
	}
	return response{Values: values}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// template renders the chart offline (Helm's client-only dry run, as `helm template` does, with
// the hooks appended unless disableHooks) on the fresh, uninitialised Configuration.
func template(cfg *action.Configuration, req *request) (response, error) {
	chrt, err := loader.Load(req.ChartPath)
	if err != nil {
		return response{}, err
	}
	a := action.NewInstall(cfg)
	a.DryRunStrategy, a.Replace, a.DisableHooks = action.DryRunClient, true, req.DisableHooks
	a.ReleaseName, a.Namespace, a.SkipCRDs = req.ReleaseName, req.Namespace, req.SkipCRDs
	a.IncludeCRDs = !req.SkipCRDs
	a.SkipSchemaValidation = req.SkipSchemaValidation
	a.PostRenderer = postRenderer(req.PostRendering)
	a.PostRenderStrategy = postRenderStrategy(req.PostRenderStrategy, a.PostRenderStrategy)
	if a.ReleaseName == "" {
		a.ReleaseName = "release-name"
	}
	rel, err := a.Run(chrt, req.Values)
	if err != nil {
		return response{}, err
	}
	out, err := releaseResponse(rel, nil)
	if err == nil && !req.DisableHooks {
		var b strings.Builder
		b.WriteString(strings.TrimSpace(out.Release.Manifest) + "\n")
		for _, h := range rel.(*release.Release).Hooks {
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
		out.Release.Manifest = b.String()
	}
	return out, err
}

// postRenderStrategy is spec.postRenderStrategy (nohooks, combined, separate) as Helm's, else Helm's default.
func postRenderStrategy(s string, fallback action.PostRenderStrategy) action.PostRenderStrategy {
	if s == "" {
		return fallback
	}
	return action.PostRenderStrategy(s)
}

func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 5 * time.Minute, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid timeout %q: %w", s, err)
	}
	return d, nil
}

func releaseResponse(r ri.Releaser, err error) (response, error) {
	if err != nil {
		return response{}, err
	}
	info, err := convert(r)
	return response{Release: info}, err
}

func convert(r ri.Releaser) (*releaseInfo, error) {
	var rel *release.Release
	switch v := r.(type) {
	case *release.Release:
		rel = v
	case release.Release:
		rel = &v
	default:
		return nil, fmt.Errorf("unsupported release type %T", r)
	}
	out := &releaseInfo{Name: rel.Name, Namespace: rel.Namespace, Version: rel.Version, Manifest: rel.Manifest,
		Config: rel.Config, Hooks: []hookInfo{}, raw: rel}
	if out.Config == nil {
		out.Config = map[string]any{}
	}
	if rel.Info != nil {
		out.Status, out.Description, out.Notes = string(rel.Info.Status), rel.Info.Description, rel.Info.Notes
		out.FirstDeployed, out.LastDeployed = timestamp(rel.Info.FirstDeployed), timestamp(rel.Info.LastDeployed)
		out.Deleted = timestamp(rel.Info.Deleted)
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		m := rel.Chart.Metadata
		out.Chart = chartInfo{Name: m.Name, Version: m.Version, AppVersion: m.AppVersion}
	}
	for _, h := range rel.Hooks {
		events := make([]string, 0, len(h.Events))
		for _, e := range h.Events {
			events = append(events, string(e))
		}
		out.Hooks = append(out.Hooks, hookInfo{Name: h.Name, Kind: h.Kind, Path: h.Path, Events: events,
			Phase: string(h.LastRun.Phase)})
	}
	return out, nil
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func versions() map[string]string {
	out := map[string]string{"go": runtime.Version(), "fieldManager": FieldManager}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			switch dep.Path {
			case "helm.sh/helm/v4":
				out["helm"] = dep.Version
			case "k8s.io/client-go":
				out["clientGo"] = dep.Version
			}
		}
	}
	return out
}

// getter is a genericclioptions.RESTClientGetter with in-memory discovery (Helm's own caches it on
// disk under ~/.kube), the request's context, QPS/burst (default 50/300) and impersonation.
type getter struct {
	loader     clientcmd.ClientConfig
	qps        float32
	burst      int
	discovery  discovery.CachedDiscoveryInterface
	mapper     *restmapper.DeferredDiscoveryRESTMapper
	restMapper meta.RESTMapper
}

func newGetter(req *request) (*getter, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules() // "" means $KUBECONFIG, ~/.kube/config or in-cluster
	rules.ExplicitPath = req.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: req.Context}
	overrides.Context.Namespace = req.Namespace
	overrides.AuthInfo.Impersonate = req.Impersonate
	g := &getter{loader: clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides), qps: 50, burst: 300}
	if req.QPS > 0 {
		g.qps = req.QPS
	}
	if req.Burst > 0 {
		g.burst = req.Burst
	}
	c, err := g.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, err
	}
	g.discovery = memory.NewMemCacheClient(dc)
	g.mapper = restmapper.NewDeferredDiscoveryRESTMapper(g.discovery)
	g.restMapper = restmapper.NewShortcutExpander(g.mapper, g.discovery, nil)
	return g, nil
}

func (g *getter) ToRESTConfig() (*rest.Config, error) {
	c, err := g.loader.ClientConfig()
	if err != nil {
		return nil, err
	}
	c.QPS, c.Burst, c.UserAgent = g.qps, g.burst, "gotk-"+FieldManager
	return c, nil
}

func (g *getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}
func (g *getter) ToRESTMapper() (meta.RESTMapper, error)        { return g.restMapper, nil }
func (g *getter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

// lockedBuffer collects Helm's log output of one call (Helm logs from several goroutines).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	text := strings.TrimSpace(b.buf.String())
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func main() {}

// errorCode classifies a failure for the caller: "releaseNotFound" when the release (or the revision
// asked for) is not in storage, "" otherwise.
func errorCode(err error) string {
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return "releaseNotFound"
	}
	if errors.As(err, new(removedFieldError)) {
		return "removedTemplateField"
	}
	return ""
}
