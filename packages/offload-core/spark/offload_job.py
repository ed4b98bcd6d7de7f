#!/usr/bin/env python3
"""Coldtier offload job: copies one window of one ClickHouse table into Iceberg.

Run by Coldtier's SparkJobRunner (see README.md beside this file for the
contract). The window is the rows whose cursor (timestamp, sequence,
tie-breakers...) is strictly after the watermark and whose timestamp is at or
before --until. The rows are read once, as ClickHouse's own Parquet output
over its HTTP interface, appended to the Iceberg table in one commit tagged
with the run id and the new watermark, and the outcome is printed as a
`COLDTIER_RESULT {json}` line. Exit status is 0 only when that line was printed.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

RESULT_PREFIX = "COLDTIER_RESULT "
QUERY_PREFIX = "COLDTIER_QUERY "
CLICKHOUSE_PASSWORD_ENV = "COLDTIER_CLICKHOUSE_PASSWORD"
CATALOG_PASSWORD_ENV = "COLDTIER_CATALOG_PASSWORD"
# Same rule as Coldtier's identifiers: names are validated here too, and always quoted.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
TRANSFORM = re.compile(r"identity|year|month|day|hour|(bucket|truncate)\[([1-9][0-9]*)\]")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LAYERS = ("bronze", "silver", "gold")
TABLE_PROPERTIES = {
    "format-version": "2",
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "zstd",
    "write.parquet.compression-level": "3",
    "write.metadata.metrics.default": "full",
    "history.expire.max-snapshot-age-ms": str(7 * 24 * 3600 * 1000),
}
# Coldtier's own Parquet output settings (PARQUET_OUTPUT_SETTINGS), so Spark reads what the
# embedded runner would have written: strings as strings, timestamps as INT64 micros.
PARQUET_SETTINGS = {
    "output_format_parquet_string_as_string": "1",
    "output_format_parquet_fixed_string_as_fixed_byte_array": "1",
    "output_format_parquet_datetime_as_uint32": "0",
    "output_format_parquet_compression_method": "zstd",
    # The whole result is produced before the first byte is sent, so a failed query is an
    # HTTP error, never a truncated file.
    "wait_end_of_query": "1",
}


# ---------------------------------------------------------------- arguments

def identifier(value):
    if not IDENTIFIER.fullmatch(value):
        raise argparse.ArgumentTypeError(
            "invalid identifier %r: expected letters, digits and underscores, not starting with a digit" % value)
    return value


def source_name(value):
    """`database.table`, or a bare table in the JDBC URL's database (the reference's form)."""
    parts = value.split(".")
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError("expected database.table, got %r" % value)
    return [identifier(p) for p in parts]


def target_name(value):
    parts = value.split(".")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("expected namespace.table, got %r" % value)
    return [identifier(p) for p in parts]


def column_list(value):
    return [identifier(c) for c in value.split(",")] if value else []


def instant_micros(value):
    """`2026-01-01T00:00:00.123456Z` -> microseconds since the epoch (UTC only, as the runner sends)."""
    match = INSTANT.fullmatch(value)
    if not match:
        raise argparse.ArgumentTypeError("expected an ISO-8601 UTC instant like 2026-01-01T00:00:00.000000Z, got %r" % value)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    return (moment - EPOCH) // timedelta(microseconds=1) + int(fraction)


def format_micros(micros):
    return (EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tie_breaker_values(value):
    """JSON list in Coldtier's cursor form: integers as "123n", anything else as a plain string."""
    try:
        items = json.loads(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected a JSON list, got %r (%s)" % (value, error))
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise argparse.ArgumentTypeError("expected a JSON list of strings, got %r" % value)
    return [int(i[:-1]) if re.fullmatch(r"-?\d+n", i) else i for i in items]


def select_list(value):
    try:
        items = json.loads(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected a JSON list, got %r (%s)" % (value, error))
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise argparse.ArgumentTypeError("expected a non-empty JSON list of SQL expressions, got %r" % value)
    return items


def partition_fields(value):
    try:
        fields = json.loads(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected a JSON list, got %r (%s)" % (value, error))
    if not isinstance(fields, list):
        raise argparse.ArgumentTypeError("expected a JSON list of {column, transform}, got %r" % value)
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("column"), str) or not isinstance(field.get("transform"), str):
            raise argparse.ArgumentTypeError("expected {column, transform}, got %r" % (field,))
        identifier(field["column"])
        if not TRANSFORM.fullmatch(field["transform"]):
            raise argparse.ArgumentTypeError("unknown partition transform %r" % field["transform"])
    return fields


def parse_args(argv):
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Offload one window of a ClickHouse table into Iceberg.")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--source-table", required=True, type=source_name)
    parser.add_argument("--target-table", required=True, type=target_name)
    parser.add_argument("--timestamp-col", required=True, type=identifier)
    parser.add_argument("--sequence-col", required=True, type=identifier)
    parser.add_argument("--tie-breaker-cols", default=[], type=column_list)
    parser.add_argument("--layer", required=True, choices=LAYERS)
    parser.add_argument("--columns", default=None, type=column_list, help="comma-separated; default all columns")
    parser.add_argument("--select", default=None, type=select_list,
                        help="JSON list of SELECT expressions (Coldtier's typed casts); default the columns as they are")
    parser.add_argument("--final", action="store_true", help="read with FINAL (ReplacingMergeTree sources)")
    parser.add_argument("--after-timestamp", default="1970-01-01T00:00:00.000000Z", type=instant_micros)
    parser.add_argument("--after-sequence", default=-1, type=int)
    parser.add_argument("--after-tie-breakers", default=[], type=tie_breaker_values)
    parser.add_argument("--until", required=True, type=instant_micros)
    parser.add_argument("--partition-by", default=None, type=partition_fields)
    parser.add_argument("--clickhouse-url", default=env("COLDTIER_CLICKHOUSE_URL"))
    parser.add_argument("--clickhouse-user", default=env("COLDTIER_CLICKHOUSE_USER", "default"))
    parser.add_argument("--clickhouse-timeout", default=600, type=float,
                        help="seconds without progress before the ClickHouse read fails")
    parser.add_argument("--staging-dir", default=None,
                        help="where the window's Parquet is staged (driver-local; default the system temp dir)")
    parser.add_argument("--catalog-type", default=env("COLDTIER_CATALOG_TYPE"), choices=("hadoop", "jdbc"))
    parser.add_argument("--catalog-name", default=env("COLDTIER_CATALOG_NAME", "coldtier"), type=identifier)
    parser.add_argument("--catalog-warehouse", default=env("COLDTIER_CATALOG_WAREHOUSE"))
    parser.add_argument("--catalog-uri", default=env("COLDTIER_CATALOG_URI"))
    parser.add_argument("--catalog-user", default=env("COLDTIER_CATALOG_USER"))
    parser.add_argument("--dry-run", action="store_true", help="print the ClickHouse query as COLDTIER_QUERY and exit")
    args = parser.parse_args(argv)

    if len(args.after_tie_breakers) != len(args.tie_breaker_cols):
        parser.error("--after-tie-breakers has %d values for %d --tie-breaker-cols"
                     % (len(args.after_tie_breakers), len(args.tie_breaker_cols)))
    if args.until < args.after_timestamp:
        parser.error("--until is before --after-timestamp")
    if args.columns is not None:
        missing = [c for c in cursor_columns(args) if c not in args.columns]
        if missing:
            parser.error("--columns must include the cursor columns, missing %s" % ", ".join(missing))
    if args.partition_by is None:
        args.partition_by = [{"column": args.timestamp_col, "transform": "day"}]
    if not args.dry_run and not args.clickhouse_url:
        parser.error("--clickhouse-url (or COLDTIER_CLICKHOUSE_URL) is required")
    if args.clickhouse_url and not re.match(r"https?://", args.clickhouse_url):
        parser.error("--clickhouse-url must be ClickHouse's HTTP interface (http://host:8123), got %r" % args.clickhouse_url)
    if args.catalog_type and not args.catalog_warehouse:
        parser.error("--catalog-warehouse is required with --catalog-type")
    if args.catalog_type == "jdbc" and not args.catalog_uri:
        parser.error("--catalog-uri is required with --catalog-type jdbc")
    return args


# ---------------------------------------------------------------- SQL

def quote(name):
    """Backtick-quotes a validated identifier (ClickHouse and Spark SQL both accept this)."""
    return "`%s`" % identifier(name)


def clickhouse_literal(value):
    if isinstance(value, bool):
        raise ValueError("boolean cursor values are not supported")
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return "'%s'" % text


def clickhouse_instant(micros):
    # An integer literal, not a string: nothing to parse, no time zone to guess.
    return "fromUnixTimestamp64Micro(toInt64(%d), 'UTC')" % micros


def cursor_columns(args):
    return [args.timestamp_col, args.sequence_col] + list(args.tie_breaker_cols)


def build_query(args):
    """SELECT of the window: (ts, seq, tb...) > (after...) AND ts <= until, ordered by the cursor."""
    key = ", ".join(quote(c) for c in cursor_columns(args))
    after = [clickhouse_instant(args.after_timestamp), clickhouse_literal(args.after_sequence)]
    after += [clickhouse_literal(v) for v in args.after_tie_breakers]
    ts = quote(args.timestamp_col)
    if args.select is not None:
        select = ", ".join(args.select)
    else:
        select = "*" if args.columns is None else ", ".join(quote(c) for c in args.columns)
    source = ".".join(quote(p) for p in args.source_table)
    return (
        "SELECT %s FROM %s%s WHERE (%s) > (%s) AND %s >= %s AND %s <= %s ORDER BY %s"
        % (select, source, " FINAL" if args.final else "", key, ", ".join(after),
           # The plain bound on ts lets ClickHouse prune by primary key; the tuple alone would not.
           ts, clickhouse_instant(args.after_timestamp), ts, clickhouse_instant(args.until), key)
    )


def partition_clause(fields):
    parts = []
    for field in fields:
        column = quote(field["column"])
        match = TRANSFORM.fullmatch(field["transform"])
        if match.group(1):
            parts.append("%s(%s, %s)" % (match.group(1), match.group(2), column))
        elif field["transform"] == "identity":
            parts.append(column)
        else:
            parts.append("%ss(%s)" % (field["transform"], column))
    return ", ".join(parts)


def cursor_json(timestamp_micros, sequence, tie_breakers):
    return {
        "timestamp": format_micros(timestamp_micros),
        "sequence": str(sequence),
        "tieBreakers": ["%dn" % v if isinstance(v, int) else str(v) for v in tie_breakers],
    }


def print_result(result, started):
    print("Rows offloaded: %d" % result["rows"])
    print("Duration: %.1fs" % (time.monotonic() - started))
    print(RESULT_PREFIX + json.dumps(result, separators=(",", ":")))
    sys.stdout.flush()


# ---------------------------------------------------------------- Spark

def create_session(args):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("coldtier-offload-%s" % ".".join(args.target_table))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
    )
    if args.catalog_type:
        prefix = "spark.sql.catalog.%s" % args.catalog_name
        builder = builder.config(prefix, "org.apache.iceberg.spark.SparkCatalog")
        builder = builder.config(prefix + ".warehouse", args.catalog_warehouse)
        if args.catalog_type == "hadoop":
            builder = builder.config(prefix + ".type", "hadoop")
        else:
            builder = builder.config(prefix + ".catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
            builder = builder.config(prefix + ".uri", args.catalog_uri)
            # Spark's view resolution asks the catalog for views when a name is not a table; a V0
            # catalog answers with UnsupportedOperationException instead of "no such view". V1 adds
            # the `iceberg_type` column, which Coldtier's SQL catalog reads and fills too.
            builder = builder.config(prefix + ".jdbc.schema-version", "V1")
            if args.catalog_user:
                builder = builder.config(prefix + ".jdbc.user", args.catalog_user)
            if os.environ.get(CATALOG_PASSWORD_ENV):
                builder = builder.config(prefix + ".jdbc.password", os.environ[CATALOG_PASSWORD_ENV])
    return builder.getOrCreate()


def target_identifier(args):
    return ".".join(quote(p) for p in [args.catalog_name] + list(args.target_table))


def table_exists(spark, target):
    from pyspark.sql.utils import AnalysisException

    try:
        spark.table(target).schema
        return True
    except AnalysisException:
        return False


def committed_snapshot(spark, target, run_id):
    """The snapshot an earlier attempt of this run committed, if any: the window is then already written."""
    from pyspark.sql import functions as F

    rows = (
        spark.table(target + ".snapshots")
        .where(F.col("summary").getItem("coldtier.run-id") == F.lit(run_id))
        .orderBy(F.col("committed_at").desc())
        .select("snapshot_id", "summary")
        .limit(1)
        .collect()
    )
    return rows[0] if rows else None


def watermark_property(source):
    """The table property holding the committed watermark of `source`, as the embedded runner keeps it:
    unlike snapshot summaries, no snapshot expiry or rewrite by any engine drops it."""
    return "coldtier.watermark." + source


def committed_cursor(spark, target, source):
    """The furthest `coldtier.watermark` of `source`, as a comparable tuple: the table property or,
    where snapshots outlive it (a run killed between its append and the property), their summaries.
    The cursor only grows along a table's history, so the furthest one is the newest.
    """
    from pyspark.sql import functions as F

    rows = (
        spark.table(target + ".snapshots")
        .where(F.col("summary").getItem("coldtier.source-table") == F.lit(source))
        .where(F.col("summary").getItem("coldtier.watermark").isNotNull())
        .select(F.col("summary").getItem("coldtier.watermark").alias("watermark"))
        .collect()
    )
    values = [row["watermark"] for row in rows]
    properties = {row["key"]: row["value"] for row in spark.sql("SHOW TBLPROPERTIES %s" % target).collect()}
    if watermark_property(source) in properties:
        values.append(properties[watermark_property(source)])
    cursors = []
    for value in values:
        watermark = json.loads(value)
        cursors.append(cursor_key(instant_micros(watermark["timestamp"]), int(watermark["sequence"]),
                                  tie_breaker_values(json.dumps(watermark["tieBreakers"]))))
    return max(cursors) if cursors else None


def spark_string(value):
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def cursor_key(timestamp_micros, sequence, tie_breakers):
    # A shorter cursor (the initial one) sorts before every cursor it prefixes, as in Coldtier.
    return (timestamp_micros, sequence) + tuple(tie_breakers)


def assert_not_overtaken(spark, args, target):
    """The embedded runner's fence: a table already holding this source past the window's start
    means another writer offloaded the window after this run planned; appending would duplicate it."""
    committed = committed_cursor(spark, target, ".".join(args.source_table))
    after = cursor_key(args.after_timestamp, args.after_sequence, args.after_tie_breakers)
    if committed is not None and committed > after:
        raise RuntimeError(
            "%s already holds %s up to %r, past %r where run %s planned from: another writer offloaded this "
            "window; commit refused" % (target, ".".join(args.source_table), committed, after, args.run_id))


def result_from_snapshot(run_id, snapshot):
    summary = snapshot["summary"]
    rows = int(summary.get("added-records", "0"))
    watermark = summary.get("coldtier.watermark")
    return {
        "runId": run_id,
        "rows": rows,
        "maxCursor": json.loads(watermark) if watermark and rows > 0 else None,
        "bytes": int(summary.get("added-files-size", "0")),
        "snapshotId": str(snapshot["snapshot_id"]),
    }


def fetch_parquet(args, path):
    """Streams the window as ClickHouse's Parquet into `path`.

    Parquet over HTTP rather than JDBC: ClickHouse writes Array, Map, Tuple, UInt64 (as
    Decimal(20, 0) after Coldtier's casts) and DateTime64 in Parquet types Spark reads
    exactly, where the JDBC driver fails on nested types and versions differ on UInt64; and
    it is the same bytes the embedded runner writes, so both runners agree by construction.
    """
    url = "%s/?%s" % (args.clickhouse_url.rstrip("/"), urllib.parse.urlencode(PARQUET_SETTINGS))
    request = urllib.request.Request(url, data=(build_query(args) + " FORMAT Parquet").encode("utf-8"), method="POST")
    request.add_header("X-ClickHouse-User", args.clickhouse_user)
    request.add_header("X-ClickHouse-Key", os.environ.get(CLICKHOUSE_PASSWORD_ENV, ""))
    try:
        with urllib.request.urlopen(request, timeout=args.clickhouse_timeout) as response, open(path, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as error:
        # ClickHouse's message names the problem; the URL carries no secret.
        raise RuntimeError("ClickHouse query failed (HTTP %d): %s" % (error.code, error.read(4000).decode("utf-8", "replace")))


def read_window(spark, args, staging):
    path = os.path.join(staging, "window.parquet")
    fetch_parquet(args, path)
    # Read ClickHouse exactly once: the count, the max cursor and the written rows are the
    # same staged rows, so the watermark cannot pass a row that was not written.
    return spark.read.parquet("file://" + path)


def max_cursor(df, args):
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType, IntegralType

    key = F.struct(
        # unix_micros is a SQL function since Spark 3.1 but only in pyspark.sql.functions since 3.5.
        F.expr("unix_micros(%s)" % quote(args.timestamp_col)).alias("ts"),
        F.col(args.sequence_col).alias("seq"),
        *[F.col(c).alias("tb%d" % i) for i, c in enumerate(args.tie_breaker_cols)]
    )
    summary = df.agg(F.count(F.lit(1)).alias("rows"), F.max(key).alias("last")).collect()[0]
    if summary["rows"] == 0:
        return 0, None
    last = summary["last"]
    if any(v is None for v in last):
        raise ValueError("cursor columns must not be NULL; the last row's cursor is %r" % (last,))
    integral = [
        isinstance(df.schema[c].dataType, IntegralType)
        or (isinstance(df.schema[c].dataType, DecimalType) and df.schema[c].dataType.scale == 0)
        for c in args.tie_breaker_cols
    ]
    tie_breakers = [int(v) if is_int else v for v, is_int in zip(list(last)[2:], integral)]
    return summary["rows"], cursor_json(int(last["ts"]), int(last["seq"]), tie_breakers)


def ensure_table(spark, args, df, target):
    """Creates the table when it is missing: a hand run. Coldtier's runner creates the table before
    the job, with the embedded runner's own code, so both runners' tables are identical (required
    columns included, which Spark's Parquet reader cannot tell apart)."""
    columns = ", ".join("%s %s" % (quote(f.name), f.dataType.simpleString()) for f in df.schema.fields)
    properties = ", ".join("'%s'='%s'" % item for item in TABLE_PROPERTIES.items())
    namespace = ".".join(quote(p) for p in [args.catalog_name, args.target_table[0]])
    spark.sql("CREATE NAMESPACE IF NOT EXISTS %s" % namespace)
    spark.sql(
        "CREATE TABLE IF NOT EXISTS %s (%s) USING iceberg PARTITIONED BY (%s) TBLPROPERTIES (%s)"
        % (target, columns, partition_clause(args.partition_by), properties)
    )


def offload(spark, args):
    target = target_identifier(args)
    if table_exists(spark, target):
        earlier = committed_snapshot(spark, target, args.run_id)
        if earlier is not None:
            print("Run %s was already committed as snapshot %s; not writing it again" % (args.run_id, earlier["snapshot_id"]))
            return result_from_snapshot(args.run_id, earlier)

    staging = tempfile.mkdtemp(prefix="coldtier-", dir=args.staging_dir)
    try:
        return write_window(spark, args, target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_window(spark, args, target, staging):
    df = read_window(spark, args, staging)
    rows, cursor = max_cursor(df, args)
    result = {"runId": args.run_id, "rows": rows, "maxCursor": cursor, "bytes": 0, "snapshotId": None}
    if rows == 0:
        return result

    ensure_table(spark, args, df, target)
    assert_not_overtaken(spark, args, target)
    (
        df.writeTo(target)
        # Spark reads every Parquet column as nullable; non-null ClickHouse columns fill the
        # table's required fields, and Spark still asserts each value at write time.
        .option("check-nullability", "false")
        .option("snapshot-property.coldtier.run-id", args.run_id)
        .option("snapshot-property.coldtier.source-table", ".".join(args.source_table))
        .option("snapshot-property.coldtier.watermark", json.dumps(cursor, separators=(",", ":")))
        .append()
    )
    # A DataFrame append cannot set a table property in its own commit: the next commit does. A run
    # killed in between leaves the summary, which recovery and the fence read as well.
    spark.sql("ALTER TABLE %s SET TBLPROPERTIES (%s = %s)" % (
        target, spark_string(watermark_property(".".join(args.source_table))),
        spark_string(json.dumps(cursor, separators=(",", ":")))))
    committed = committed_snapshot(spark, target, args.run_id)
    if committed is not None:
        result["snapshotId"] = str(committed["snapshot_id"])
        result["bytes"] = int(committed["summary"].get("added-files-size", "0"))
    return result


def main(argv):
    started = time.monotonic()
    args = parse_args(argv)
    if args.dry_run:
        print(QUERY_PREFIX + build_query(args))
        return 0
    spark = None
    try:
        spark = create_session(args)
        result = offload(spark, args)
        print_result(result, started)
        return 0
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    finally:
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
