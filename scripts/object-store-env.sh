#!/usr/bin/env bash
# The real parts the object-storage and REST-catalog tests run against, in the
# git-ignored .test-deps/ (idempotent, quick when present):
# - moto (pinned, from PyPI) in server mode: an S3-compatible server on loopback;
# - the Iceberg project's REST catalog servlet (Iceberg 1.8.1 jars resolved by
#   Maven from scripts/iceberg-rest/pom.xml) plus a launcher that binds it to
#   127.0.0.1 (scripts/iceberg-rest/LoopbackRestCatalog.java), run with Java 17.
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS=.test-deps
MOTO=moto[server]==5.2.5
if ! { [ -x "$DEPS/moto/bin/moto_server" ] && [ "$(cat "$DEPS/moto/.installed" 2>/dev/null)" = "$MOTO" ]; }; then
  "${PYTHON:-python3}" -m venv "$DEPS/moto"
  "$DEPS/moto/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO"
  printf '%s' "$MOTO" > "$DEPS/moto/.installed"
  echo "object-store-env: installed $MOTO into $DEPS/moto"
fi

REST=$DEPS/iceberg-rest
STAMP="$(cat scripts/iceberg-rest/pom.xml scripts/iceberg-rest/LoopbackRestCatalog.java | sha256sum | cut -c1-16)"
if [ "$(cat "$REST/.installed" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$REST"
  mvn -q -B -f scripts/iceberg-rest/pom.xml "-Dmaven.repo.local=$PWD/$DEPS/m2" dependency:copy-dependencies "-DoutputDirectory=$PWD/$REST/lib"
  javac -d "$REST/classes" -cp "$REST/lib/*" scripts/iceberg-rest/LoopbackRestCatalog.java
  printf '%s' "$STAMP" > "$REST/.installed"
  echo "object-store-env: resolved the Iceberg REST catalog server into $REST"
fi
