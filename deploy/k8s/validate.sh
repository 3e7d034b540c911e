#!/usr/bin/env bash
# Validates every Kubernetes manifest in deploy/k8s (and the files given)
# against the Kubernetes API schema, offline and strictly (an unknown field is an error):
# kubernetes-validate from PyPI, which carries the schemas, in a virtual
# environment of its own. Kustomizations are kustomize's, not API objects,
# and are skipped.
set -euo pipefail
cd "$(dirname "$0")"
venv=${KUBE_VALIDATE_VENV:-${TMPDIR:-/tmp}/candor-kube-validate}
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "kubernetes-validate==1.37.0"
fi
mapfile -t files < <(find . -name '*.yaml' ! -name kustomization.yaml | sort)
# and any generated ones given (a testbed's)
files+=("$@")
"$venv/bin/kubernetes-validate" --strict --quiet -k "${KUBE_VERSION:-1.31}" "${files[@]}"
echo "${#files[@]} manifest files valid against Kubernetes ${KUBE_VERSION:-1.31}"
