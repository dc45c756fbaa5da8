package main

// The commit message of an image update: Go's text/template with sprig's hermetic functions, over data of
// the shape Flux's image-automation-controller gives its templates (.AutomationObject, .Changed with
// FileChanges, Changes and Objects, .Values), so that a Flux user's messageTemplate renders the same.

import (
	"encoding/json"
	"fmt"
	"strings"
	gotemplate "text/template"

	"github.com/Masterminds/sprig/v3"
	"k8s.io/apimachinery/pkg/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

const defaultCommitMessage = "Update from image update automation"

type objectIdentifier struct {
	kyaml.ResourceIdentifier
}

type imageChange struct {
	OldValue string
	NewValue string
	Setter   string
}

type objectChanges map[objectIdentifier][]imageChange

type updateResult struct {
	FileChanges map[string]objectChanges
}

// Changes lists every distinct change across files and objects.
func (r updateResult) Changes() []imageChange {
	seen := map[imageChange]bool{}
	var out []imageChange
	for _, objects := range r.FileChanges {
		for _, changes := range objects {
			for _, c := range changes {
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// Objects merges the changes of every file per object.
func (r updateResult) Objects() objectChanges {
	out := objectChanges{}
	for _, objects := range r.FileChanges {
		for id, changes := range objects {
			out[id] = append(out[id], changes...)
		}
	}
	return out
}

type templateData struct {
	AutomationObject types.NamespacedName
	Changed          updateResult
	Values           map[string]string
}

type messageRequest struct {
	Automation struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"automation"`
	Files []struct {
		File    string `json:"file"`
		Objects []struct {
			APIVersion string        `json:"apiVersion"`
			Kind       string        `json:"kind"`
			Name       string        `json:"name"`
			Namespace  string        `json:"namespace"`
			Changes    []imageChange `json:"changes"`
		} `json:"objects"`
	} `json:"files"`
	Values map[string]string `json:"values"`
}

// removedFields maps what text/template says of a field Flux removed to the field's name.
var removedFields = []struct{ field, says string }{
	{".Updated", "can't evaluate field Updated in type main.templateData"},
	{".Changed.ImageResult", "can't evaluate field ImageResult in type main.updateResult"},
}

func commitMessage(req *request) (response, error) {
	var in messageRequest
	if err := json.Unmarshal(req.Data, &in); err != nil {
		return response{}, fmt.Errorf("invalid commit message data: %w", err)
	}
	data := templateData{
		AutomationObject: types.NamespacedName{Name: in.Automation.Name, Namespace: in.Automation.Namespace},
		Changed:          updateResult{FileChanges: map[string]objectChanges{}},
		Values:           in.Values,
	}
	for _, f := range in.Files {
		objects := objectChanges{}
		for _, o := range f.Objects {
			id := objectIdentifier{kyaml.ResourceIdentifier{
				TypeMeta: kyaml.TypeMeta{APIVersion: o.APIVersion, Kind: o.Kind},
				NameMeta: kyaml.NameMeta{Name: o.Name, Namespace: o.Namespace},
			}}
			objects[id] = append(objects[id], o.Changes...)
		}
		data.Changed.FileChanges[f.File] = objects
	}
	text := req.Template
	if text == "" {
		text = defaultCommitMessage
	}
	t, err := gotemplate.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Parse(text)
	if err != nil {
		return response{}, fmt.Errorf("unable to create commit message template from spec: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		for _, removed := range removedFields {
			if strings.Contains(err.Error(), removed.says) {
				return response{}, removedFieldError{removed.field}
			}
		}
		return response{}, fmt.Errorf("failed to run template from spec: %w", err)
	}
	return response{Info: b.String()}, nil
}

// removedFieldError: the template uses a field Flux removed (its controller stalls with RemovedTemplateField).
type removedFieldError struct{ field string }

func (e removedFieldError) Error() string {
	const see = "See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"
	switch e.field {
	case ".Updated":
		return "template uses removed '.Updated' field. Please use '.Changed' instead. " + see
	case ".Changed.ImageResult":
		return "template uses removed '.Changed.ImageResult' field. Please use '.Changed.FileChanges' or '.Changed.Objects' instead. " + see
	}
	return fmt.Sprintf("template uses removed '%s' field. %s", e.field, see)
}
