#!/usr/bin/env bash
# Installs real Spark for the Spark runner's tests into <repo>/.spark (git-ignored):
# PySpark from PyPI in .spark/venv (it bundles spark-submit and Spark's jars) and the
# jars the job needs from Maven Central in .spark/jars, fetched by Maven into a
# project-local repository (.spark/m2) so nothing outside the clone is touched.
# Idempotent: does nothing when these exact pins are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYSPARK='pyspark==3.5.9'
# iceberg-spark-runtime is Iceberg for Spark 3.5; the PostgreSQL driver backs the SQL (JDBC) catalog.
JARS=(
  'org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.8.1'
  'org.postgresql:postgresql:42.7.7'
)
DIR=.spark
STAMP="$DIR/.installed"
WANT="$PYSPARK ${JARS[*]}"
PYTHON=${PYTHON:-python3}

if [ -x "$DIR/venv/bin/spark-submit" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi

command -v java >/dev/null 2>&1 || { echo "spark-env: java (17) is missing; install it (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "spark-env: mvn is missing; install it (Debian: apt-get install maven)" >&2; exit 1; }

rm -f "$STAMP"
"$PYTHON" -m venv "$DIR/venv"
"$DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PYSPARK"

rm -rf "$DIR/jars"
mkdir -p "$DIR/jars"
for artifact in "${JARS[@]}"; do
  mvn --batch-mode --quiet -Dstyle.color=never -Dmaven.repo.local="$PWD/$DIR/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$artifact" -DoutputDirectory="$PWD/$DIR/jars"
done
printf '%s' "$WANT" > "$STAMP"
echo "spark-env: installed $PYSPARK and ${JARS[*]} into $DIR"
