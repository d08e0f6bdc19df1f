#!/usr/bin/env bash
# Validates every manifest in deploy/ offline against the Kubernetes schemas (PyPI
# kubernetes-validate), strictly: unknown fields are errors. Kustomizations are rendered with
# `kubectl kustomize` first; the self-signed overlay gets a freshly generated certificate.
#
#   deploy/validate.sh [path-to-rebound-binary]
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${KUBERNETES_VERSION:-1.32.0}
REBOUND=${1:-$(swift build --show-bin-path)/rebound}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kubectl kustomize deploy/base > "$work/base.yaml"
kubectl kustomize deploy/overlays/cert-manager > "$work/cert-manager.yaml"
cp -r deploy/overlays/self-signed "$work/self-signed"
sed -i "s|../../base|$PWD/deploy/base|" "$work/self-signed/kustomization.yaml"
"$REBOUND" certs --namespace rebound-system --service rebound --out "$work/self-signed" > /dev/null
kubectl kustomize "$work/self-signed" > "$work/self-signed.yaml"

files=("$work/base.yaml" "$work/cert-manager.yaml" "$work/self-signed.yaml" deploy/examples/*.yaml deploy/scheduler/second-scheduler.yaml)
output=$(kubernetes-validate -k "$VERSION" --strict "${files[@]}" 2>&1) || { echo "$output"; exit 1; }
if echo "$output" | grep -E "^(ERROR|FAIL)" ; then exit 1; fi
echo "$output" | grep -c "passed" | xargs printf "deploy/: %s objects valid against Kubernetes $VERSION (strict)\n"
echo "$output" | grep "^WARN" | grep -v "cert-manager.io" || true
