#!/usr/bin/env bash
# Creates <repo>/.venv-deploy with kubernetes-validate, the schema validator
# (Kubernetes' OpenAPI schemas bundled, no cluster) that
# apps/reference-scheduler/test/deploy.test.ts checks deploy/kubernetes/ with.
# Idempotent: does nothing when this exact pin is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=('kubernetes-validate==1.37.0')
VENV=.venv-deploy
STAMP="$VENV/.installed"
PYTHON=${PYTHON:-python3}

if [ -x "$VENV/bin/kubernetes-validate" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${REQUIREMENTS[*]}" ]; then
  exit 0
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
printf '%s' "${REQUIREMENTS[*]}" > "$STAMP"
echo "deploy-tools: installed ${REQUIREMENTS[*]} into $VENV"
