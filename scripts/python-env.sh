#!/usr/bin/env bash
# Creates <repo>/.venv-interop with PyIceberg, the second Iceberg implementation
# that packages/offload-core/test/interop-pyiceberg.test.ts reads Coldtier's
# tables with. Idempotent: does nothing when these exact pins are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyiceberg is the reader under test; the others are pinned so a new release cannot change a CI run.
REQUIREMENTS=(
  'pyiceberg[sql-postgres,pyarrow]==0.12.0'
  'pyarrow==26.0.1'
  'SQLAlchemy==2.1.9'
  'psycopg2-binary==2.9.13'
)
VENV=.venv-interop
STAMP="$VENV/.installed"
PYTHON=${PYTHON:-python3}

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${REQUIREMENTS[*]}" ]; then
  exit 0
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
printf '%s' "${REQUIREMENTS[*]}" > "$STAMP"
echo "python-env: installed ${REQUIREMENTS[*]} into $VENV"
