#!/usr/bin/env bash
# What `pnpm test` needs beyond Node, installed when missing: the PostgreSQL 15
# server binaries (tests start a private cluster), promtool (alert rule tests),
# python3 with venv (the PySpark job's query test, PyIceberg), systemd-analyze
# (the unit's verify/security test), Java 17 + Maven (real Spark, the Iceberg REST
# catalog server), then PyIceberg in .venv-interop, kubernetes-validate in
# .venv-deploy, moto's S3 server and the REST catalog jars in .test-deps
# (scripts/object-store-env.sh) and PySpark with the Iceberg jars in .spark.
# Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
[ -x "${PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || need_apt+=(postgresql-15)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v javac >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: missing ${need_apt[*]}; install them (Debian: sudo apt-get install ${need_apt[*]}) and run again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

bash scripts/python-env.sh
bash scripts/deploy-tools.sh
bash scripts/object-store-env.sh
bash scripts/spark-env.sh
