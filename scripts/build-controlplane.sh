#!/usr/bin/env bash
# Build the local control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok), the MinIO test server, the Helm CLI (test
# oracle and chart fixtures) and libgotkhelm.so (gotk's cgo library over Helm's
# action package, tools/helmlib) from the Go modules under tools/ into
# ~/.cache/gotk/bin. Each part has its own stamp (.stamp, .stamp-minio,
# .stamp-helm, .stamp-helmlib) and is skipped when it matches the pinned versions.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${GOTK_CACHE:-$HOME/.cache/gotk}
bin=$cache/bin
k8s_version=v1.36.3
k8s_minor=36
stamp_want="k8s=$k8s_version etcd=$(grep -oE 'server/v3 v[0-9.]+' "$root/tools/etcd/go.mod" | cut -d' ' -f2) kwok=$(grep -oE 'kwok v[0-9.]+' "$root/tools/kwok/go.mod" | cut -d' ' -f2) sum=$(cat "$root"/tools/{etcd,k8s,kwok}/go.sum | sha256sum | cut -c1-16)"
minio_stamp_want="minio=$(grep -oE 'minio/minio v[^ ]+' "$root/tools/minio/go.mod" | cut -d' ' -f2) sum=$(sha256sum < "$root/tools/minio/go.sum" | cut -c1-16)"
helm_version=$(grep -oE 'helm.sh/helm/v4 v[^ ]+' "$root/tools/helm/go.mod" | cut -d' ' -f2)
helm_stamp_want="helm=$helm_version sum=$(sha256sum < "$root/tools/helm/go.sum" | cut -c1-16)"
helmlib_stamp_want="helmlib=$(grep -oE 'helm.sh/helm/v4 v[^ ]+' "$root/tools/helmlib/go.mod" | cut -d' ' -f2) sum=$(sha256sum < "$root/tools/helmlib/go.sum" | cut -c1-16) main=$(cat "$root"/tools/helmlib/*.go | sha256sum | cut -c1-16)"

# up_to_date STAMPFILE WANT FILE...: the stamp matches and every file exists.
up_to_date() {
  local stamp=$1 want=$2
  shift 2
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] || return 1
  for b in "$@"; do
    [[ -e $bin/$b ]] || return 1
  done
}

mkdir -p "$bin"
need_cp=1 need_minio=1 need_helm=1 need_helmlib=1
if up_to_date "$bin/.stamp" "$stamp_want" kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwok-stages.yaml; then
  echo "control plane: up to date in $bin ($stamp_want)"
  need_cp=0
fi
if up_to_date "$bin/.stamp-minio" "$minio_stamp_want" minio; then
  echo "minio: up to date in $bin ($minio_stamp_want)"
  need_minio=0
fi
if up_to_date "$bin/.stamp-helm" "$helm_stamp_want" helm; then
  echo "helm: up to date in $bin ($helm_stamp_want)"
  need_helm=0
fi
if up_to_date "$bin/.stamp-helmlib" "$helmlib_stamp_want" libgotkhelm.so; then
  echo "helmlib: up to date in $bin ($helmlib_stamp_want)"
  need_helmlib=0
fi
[[ $need_cp == 1 || $need_minio == 1 || $need_helm == 1 || $need_helmlib == 1 ]] || exit 0

export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS=-mod=mod
export GOCACHE=${GOCACHE:-$cache/go-build}
export GOMODCACHE=${GOMODCACHE:-$cache/go-mod}
start=$(date +%s)
step() { echo "control plane: $* ($(( $(date +%s) - start ))s)"; }

if [[ $need_minio == 1 ]]; then
  step "building minio (test S3 server, about 2 min)"
  (cd "$root/tools/minio" && go build -trimpath -ldflags="-s -w" -o "$bin/minio" github.com/minio/minio)
  echo "$minio_stamp_want" > "$bin/.stamp-minio"
fi
if [[ $need_helm == 1 ]]; then
  step "building helm $helm_version (test oracle and chart fixtures, about 2.5 min)"
  (cd "$root/tools/helm" && go build -trimpath -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" \
    -o "$bin/helm" helm.sh/helm/v4/cmd/helm)
  echo "$helm_stamp_want" > "$bin/.stamp-helm"
fi
if [[ $need_helmlib == 1 ]]; then
  step "building libgotkhelm.so (cgo library over Helm's action package, about 2.5 min cold)"
  command -v "${CC:-gcc}" >/dev/null || { echo "libgotkhelm.so needs a C compiler for cgo: apt-get install gcc" >&2; exit 1; }
  # Built under a temporary name and moved into place: a running Python process keeps its mapped copy.
  (cd "$root/tools/helmlib" && CGO_ENABLED=1 go build -buildmode=c-shared -trimpath -ldflags="-s -w" \
    -o "$bin/libgotkhelm.so.tmp" .)
  mv -f "$bin/libgotkhelm.so.tmp" "$bin/libgotkhelm.so"
  rm -f "$bin"/libgotkhelm*.h  # cgo's generated header: nothing includes it
  echo "$helmlib_stamp_want" > "$bin/.stamp-helmlib"
fi
[[ $need_cp == 1 ]] || { step "done: $(ls "$bin" | tr '\n' ' ')"; exit 0; }

step "building etcd"
(cd "$root/tools/etcd" && go build -trimpath -ldflags="-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3)

step "building kwok"
(cd "$root/tools/kwok" && go build -trimpath -ldflags="-s -w" -o "$bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
kwokdir=$(cd "$root/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
{
  for f in kustomize/stage/node/fast/node-initialize.yaml \
           kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           kustomize/stage/pod/fast/pod-ready.yaml \
           kustomize/stage/pod/fast/pod-complete.yaml \
           kustomize/stage/pod/fast/pod-delete.yaml; do
    echo '---'
    cat "$kwokdir/$f"
  done
} > "$bin/kwok-stages.yaml"

step "building kube-apiserver, kube-controller-manager, kube-scheduler $k8s_version (the longest step)"
X="-X k8s.io/component-base/version"; C="-X k8s.io/client-go/pkg/version"
LDF="-s -w $X.gitVersion=$k8s_version $X.gitMajor=1 $X.gitMinor=$k8s_minor $X.gitTreeState=clean"
LDF="$LDF $C.gitVersion=$k8s_version $C.gitMajor=1 $C.gitMinor=$k8s_minor $C.gitTreeState=clean"
(cd "$root/tools/k8s" && go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$LDF" -o "$bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)

echo "$stamp_want" > "$bin/.stamp"
step "done: $(ls "$bin" | tr '\n' ' ')"
