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
# Kustomize refuses absolute paths to the base, so the rendered copy of the overlay sits beside it.
overlay=$(mktemp -d deploy/overlays/.validate.XXXXXX)
trap 'rm -rf "$work" "$overlay"' EXIT
cp deploy/overlays/self-signed/kustomization.yaml "$overlay/"
"$REBOUND" certs --namespace rebound-system --service rebound --out "$overlay" > /dev/null 2>&1
kubectl kustomize "$overlay" > "$work/self-signed.yaml"
grep -q "kind: Secret" "$work/self-signed.yaml" || { echo "self-signed overlay: no Secret rendered"; exit 1; }
if grep -q 'caBundle: ""' "$work/self-signed.yaml"; then echo "self-signed overlay: caBundle not patched"; exit 1; fi

# The NetworkPolicy component, applied to the cert-manager overlay as an operator would.
component=$(mktemp -d deploy/overlays/.validate-component.XXXXXX)
trap 'rm -rf "$work" "$overlay" "$component"' EXIT
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../cert-manager\ncomponents:\n- ../../components/network-policy\n' > "$component/kustomization.yaml"
kubectl kustomize "$component" > "$work/network-policy.yaml"
grep -q "kind: NetworkPolicy" "$work/network-policy.yaml" || { echo "network-policy component: no NetworkPolicy rendered"; exit 1; }
files=("$work/base.yaml" "$work/cert-manager.yaml" "$work/self-signed.yaml" "$work/network-policy.yaml" deploy/examples/*.yaml deploy/scheduler/second-scheduler.yaml)
output=$(kubernetes-validate -k "$VERSION" --strict "${files[@]}" 2>&1) || { echo "$output"; exit 1; }
if echo "$output" | grep -E "^(ERROR|FAIL)" ; then exit 1; fi
echo "$output" | grep -c "passed" | xargs printf "deploy/: %s objects valid against Kubernetes $VERSION (strict)\n"
echo "$output" | grep "^WARN" | grep -v "cert-manager.io" || true
