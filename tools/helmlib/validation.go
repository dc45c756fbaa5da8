package main

// Field validation without re-reading OpenAPI on every call. Helm's client (through kubectl's factory) asks,
// before it sends an object, whether the API server supports the fieldValidation query parameter for the
// object's kind; the answer comes from the group-version's OpenAPI v3 document, which a fresh factory fetches
// and decodes again: about half of the library's CPU in a fan-out of installs. The answer depends on the server
// and the kind only, so it is kept here for the life of the process. A kind the server does not support the
// parameter for (or an error) falls through to kubectl's own validation, unchanged.

import (
	"sync"

	"helm.sh/helm/v4/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/openapi/cached"
	"k8s.io/kubectl/pkg/validation"
	"sigs.k8s.io/yaml"
)

var fieldValidationSupported sync.Map // "<server>|<group/version, Kind>" -> true

// sharedValidation is Helm's factory with a Validator that remembers which kinds the server validates itself.
type sharedValidation struct {
	kube.Factory
	discovery func() (resource.Verifier, error)
}

func withSharedValidation(kc *kube.Client, g *getter) {
	kc.Factory = &sharedValidation{Factory: kc.Factory, discovery: func() (resource.Verifier, error) {
		dyn, err := kc.Factory.DynamicClient()
		if err != nil {
			return nil, err
		}
		return resource.NewQueryParamVerifierV3(dyn, cached.NewClient(g.discovery.OpenAPIV3()),
			resource.QueryParamFieldValidation), nil
	}}
}

func (f *sharedValidation) Validator(directive string) (validation.Schema, error) {
	if directive == metav1.FieldValidationIgnore {
		return validation.NullSchema{}, nil
	}
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return &rememberingSchema{factory: f, server: cfg.Host, directive: directive}, nil
}

type rememberingSchema struct {
	factory   *sharedValidation
	server    string
	directive string
	once      sync.Once
	verifier  resource.Verifier
	fallback  validation.Schema
	err       error
}

func (s *rememberingSchema) ValidateBytes(data []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err == nil && head.Kind != "" {
		gv, err := schema.ParseGroupVersion(head.APIVersion)
		if err == nil {
			gvk := gv.WithKind(head.Kind)
			key := s.server + "|" + gvk.String()
			if _, ok := fieldValidationSupported.Load(key); ok {
				return nil // the server validates this kind itself (fieldValidation=Strict on the request)
			}
			s.init()
			if s.verifier != nil && s.verifier.HasSupport(gvk) == nil {
				fieldValidationSupported.Store(key, true)
				return nil
			}
		}
	}
	s.init()
	if s.err != nil {
		return s.err
	}
	return s.fallback.ValidateBytes(data)
}

func (s *rememberingSchema) init() {
	s.once.Do(func() {
		s.verifier, _ = s.factory.discovery()
		s.fallback, s.err = s.factory.Factory.Validator(s.directive)
	})
}
