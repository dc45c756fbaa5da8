package main

// The digest Flux's helm-controller records for a release in status.history[].digest and checks before it
// trusts a stored release as its own: sha256 over the JSON encoding (json.Encoder, so with a trailing newline)
// of an observation of the release — name, version, info, chart metadata, config, manifest, the hooks other
// than test hooks, namespace, and the OCI digest of the chart when there is one. The field names and order are
// the observation's JSON shape as Flux encodes it; the values are Helm's own types, so their encoding is Helm's.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	release "helm.sh/helm/v4/pkg/release/v1"
)

type observed struct {
	Name          string         `json:"name"`
	Version       int            `json:"version"`
	Info          release.Info   `json:"info"`
	ChartMetadata chart.Metadata `json:"chartMetadata"`
	Config        map[string]any `json:"config"`
	Manifest      string         `json:"manifest"`
	Hooks         []release.Hook `json:"hooks"`
	Namespace     string         `json:"namespace"`
	OCIDigest     string         `json:"ociDigest,omitempty"`
}

// observedDigests returns the digest of rel for each OCI digest asked for (and for none, under "").
func observedDigests(rel *release.Release, ociDigests []string) (map[string]string, error) {
	obs := observed{Name: rel.Name, Version: rel.Version, Manifest: rel.Manifest, Namespace: rel.Namespace}
	if rel.Info != nil {
		obs.Info = *rel.Info
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		obs.ChartMetadata = *rel.Chart.Metadata
	}
	if len(rel.Config) > 0 {
		obs.Config = rel.Config
	}
	for _, h := range rel.Hooks {
		if h != nil && !isTestHook(h) {
			obs.Hooks = append(obs.Hooks, *h)
		}
	}
	out := map[string]string{}
	for _, d := range append([]string{""}, ociDigests...) {
		if _, done := out[d]; done {
			continue
		}
		obs.OCIDigest = d
		sum := sha256.New()
		if err := json.NewEncoder(sum).Encode(obs); err != nil {
			return nil, err
		}
		out[d] = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	}
	return out, nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}
