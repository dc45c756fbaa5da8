"""`webapp`, a test chart with what real charts have (after the shape of stefanprodan/podinfo's chart, written
here): named templates in `_helpers.tpl`, a Deployment and a Service, a `crds/` directory, a subchart
dependency (`cache`, in `charts/`, with a condition), a `values.schema.json`, and test hooks under
`templates/tests/`: `<fullname>-test-connection` always, `<fullname>-test-failing` with `tests.failing: true`
(a Job that cannot be scheduled and fails on its deadline; kwok completes every Job pod that runs).
"""

from __future__ import annotations

import json
from pathlib import Path

from gotk.testing import helm

CRD_GROUP = "webapps.example.com"
CRD_NAME = f"widgets.{CRD_GROUP}"

HELPERS = """\
{{- define "webapp.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "webapp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "webapp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "webapp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "webapp.fullname" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "webapp.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "webapp.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "webapp.fullname" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "webapp.selectorLabels" . | nindent 4 }}
"""

TEST_CONNECTION = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "webapp.fullname" . }}-test-connection
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: curl
          image: curlimages/curl:8.5.0
          args: ["{{ include "webapp.fullname" . }}:{{ .Values.service.port }}"]
"""

TEST_FAILING = """\
{{- if .Values.tests.failing }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "webapp.fullname" . }}-test-failing
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      nodeSelector:
        webapp.example.com/no-such-node: "true"
      containers:
        - name: fail
          image: busybox
{{- end }}
"""

CRD = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {CRD_NAME}
spec:
  group: {CRD_GROUP}
  names: {{kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["replicaCount", "image"],
    "properties": {
        "replicaCount": {"type": "integer", "minimum": 0},
        "image": {
            "type": "object",
            "required": ["repository"],
            "properties": {"repository": {"type": "string"}, "tag": {"type": "string"}},
        },
    },
}

CACHE_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cache
data:
  size: {{ .Values.size | quote }}
"""


def write(root: Path, version: str = "1.0.0") -> Path:
    """Write the chart directory `root/webapp` (its subchart under `charts/cache`) and return it."""
    chart = helm.write_chart(
        root,
        "webapp",
        version,
        app_version="6.5.0",
        values={
            "replicaCount": 1,
            "image": {"repository": "ghcr.io/stefanprodan/podinfo", "tag": ""},
            "service": {"port": 9898},
            "tests": {"failing": False},
            "cache": {"enabled": True, "size": "64Mi"},
        },
        templates={
            "_helpers.tpl": HELPERS,
            "deployment.yaml": DEPLOYMENT,
            "service.yaml": SERVICE,
            "NOTES.txt": 'webapp {{ .Chart.AppVersion }} is at {{ include "webapp.fullname" . }}\n',
        },
        dependencies=[{"name": "cache", "version": "0.1.0", "condition": "cache.enabled"}],
        extra_files={
            "templates/tests/test-connection.yaml": TEST_CONNECTION,
            "templates/tests/test-failing.yaml": TEST_FAILING,
            "crds/widgets.yaml": CRD,
            "values.schema.json": json.dumps(SCHEMA, indent=2) + "\n",
            ".helmignore": ".git/\n*.swp\n",
        },
    )
    helm.write_chart(
        chart / "charts", "cache", "0.1.0", values={"size": "32Mi"}, templates={"cm.yaml": CACHE_CONFIGMAP}
    )
    return chart
