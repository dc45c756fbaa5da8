// Post-rendering of a HelmRelease's manifests, as Flux's helm-controller does it, run by Helm through its
// PostRenderer interface: each spec.postRenderers[].kustomize (patches and images, built with kustomize's own
// krusty in an in-memory file system), then spec.commonMetadata (labels and annotations on every object), then
// the origin labels (helm.toolkit.fluxcd.io/name and /namespace), which win over commonMetadata's.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// selector is Flux's kustomize.Selector.
type selector struct {
	Group              string `json:"group"`
	Version            string `json:"version"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	Namespace          string `json:"namespace"`
	LabelSelector      string `json:"labelSelector"`
	AnnotationSelector string `json:"annotationSelector"`
}

type kustomizePostRenderer struct {
	Patches []struct {
		Patch  string    `json:"patch"`
		Target *selector `json:"target"`
	} `json:"patches"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

// postRendering is what the request carries: spec.postRenderers, spec.commonMetadata and the origin labels.
type postRendering struct {
	PostRenderers []struct {
		Kustomize *kustomizePostRenderer `json:"kustomize"`
	} `json:"postRenderers"`
	CommonMetadata *struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"commonMetadata"`
	OriginLabels map[string]string `json:"originLabels"`
}

type renderFunc func(*bytes.Buffer) (*bytes.Buffer, error)

func (f renderFunc) Run(in *bytes.Buffer) (*bytes.Buffer, error) { return f(in) }

// postRenderer returns Helm's PostRenderer for the request, nil when it asks for nothing.
func postRenderer(p *postRendering) postrenderer.PostRenderer {
	if p == nil {
		return nil
	}
	var steps []renderFunc
	for _, r := range p.PostRenderers {
		if r.Kustomize != nil {
			k := r.Kustomize
			steps = append(steps, func(in *bytes.Buffer) (*bytes.Buffer, error) { return k.run(in) })
		}
	}
	if cm := p.CommonMetadata; cm != nil && (len(cm.Labels) > 0 || len(cm.Annotations) > 0) {
		steps = append(steps, metadataStep(cm.Labels, cm.Annotations))
	}
	if len(p.OriginLabels) > 0 {
		steps = append(steps, metadataStep(p.OriginLabels, nil))
	}
	if len(steps) == 0 {
		return nil
	}
	return renderFunc(func(in *bytes.Buffer) (*bytes.Buffer, error) {
		out := in
		for _, step := range steps {
			next, err := step(out)
			if err != nil {
				return nil, err
			}
			out = next
		}
		return out, nil
	})
}

// kustomize's builds share global state that is not safe for concurrent use (kubernetes-sigs/kustomize#3659).
var kustomizeMu sync.Mutex

func (k *kustomizePostRenderer) run(in *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	const input = "helm-output.yaml"
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
		return nil, err
	}
	cfg := kustypes.Kustomization{Resources: []string{input}}
	cfg.APIVersion, cfg.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	for _, img := range k.Images {
		cfg.Images = append(cfg.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.Patches {
		patch := kustypes.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			patch.Target = &kustypes.Selector{LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
			patch.Target.Name, patch.Target.Namespace = t.Name, t.Namespace
			patch.Target.Group, patch.Target.Version, patch.Target.Kind = t.Group, t.Version, t.Kind
		}
		cfg.Patches = append(cfg.Patches, patch)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", data); err != nil {
		return nil, err
	}
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	opts := &krusty.Options{LoadRestrictions: kustypes.LoadRestrictionsNone, PluginConfig: kustypes.DisabledPluginConfig()}
	m, err := krusty.MakeKustomizer(opts).Run(fs, ".")
	if err != nil {
		return nil, fmt.Errorf("kustomize post-renderer: %w", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

// metadataStep sets the labels and annotations on every object (kustomize's label and annotation transformers
// on metadata only, as Flux's commonMetadata and origin labels do).
func metadataStep(labels, annotations map[string]string) renderFunc {
	return func(in *bytes.Buffer) (*bytes.Buffer, error) {
		factory := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory())
		m, err := factory.NewResMapFromBytes(in.Bytes())
		if err != nil {
			return nil, err
		}
		if len(labels) > 0 {
			t := &builtins.LabelTransformerPlugin{Labels: labels,
				FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}}}
			if err := t.Transform(m); err != nil {
				return nil, err
			}
		}
		if len(annotations) > 0 {
			t := &builtins.AnnotationsTransformerPlugin{Annotations: annotations,
				FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}}}
			if err := t.Transform(m); err != nil {
				return nil, err
			}
		}
		out, err := m.AsYaml()
		if err != nil {
			return nil, err
		}
		return bytes.NewBuffer(out), nil
	}
}
