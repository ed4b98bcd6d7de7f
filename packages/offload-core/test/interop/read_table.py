"""Reads a Coldtier-written Iceberg table with PyIceberg and prints what it saw as JSON.

PyIceberg is a second, independent Iceberg implementation: it resolves Parquet
columns by field id, decodes the Avro manifests and manifest list against
their spec schemas, and reads the JDBC catalog's tables through SQLAlchemy.
Every number printed here is compared by interop-pyiceberg.test.ts with the
same aggregate computed by ClickHouse over the source table.

Usage: python read_table.py '<json request>'
  {"static": "/abs/vN.metadata.json"}                        StaticTable
  {"sql": {"name": "coldtier", "uri": "postgresql+psycopg2://...", "table": "cold.t"}}
plus "filter": "<PyIceberg row filter>" to also scan a subset.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import StaticTable
from pyiceberg.types import ListType, MapType, StructType

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def load(request):
    """The table, and what the catalog lists around it (None for a static table)."""
    if "static" in request:
        return StaticTable.from_metadata(request["static"]), None
    sql = request["sql"]
    # init_catalog_tables=false: the catalog must read the tables Coldtier made, never create its own.
    catalog = SqlCatalog(sql["name"], uri=sql["uri"], init_catalog_tables="false")
    namespace = sql["table"].rsplit(".", 1)[0]
    listing = {
        "namespaces": [".".join(n) for n in catalog.list_namespaces()],
        "namespace_properties": catalog.load_namespace_properties(namespace),
        "tables": [".".join(t) for t in catalog.list_tables(namespace)],
    }
    return catalog.load_table(sql["table"]), listing


def type_name(field_type):
    if isinstance(field_type, ListType):
        return "list"
    if isinstance(field_type, MapType):
        return "map"
    if isinstance(field_type, StructType):
        return "struct"
    return str(field_type)


def fields(struct):
    """Every field id with its dotted path, list elements and map keys/values included."""
    out = []

    def visit(path, field_id, field_type, required):
        out.append({"path": path, "id": field_id, "type": type_name(field_type), "required": required})
        if isinstance(field_type, StructType):
            for f in field_type.fields:
                visit(f"{path}.{f.name}", f.field_id, f.field_type, f.required)
        elif isinstance(field_type, ListType):
            visit(f"{path}.element", field_type.element_id, field_type.element_type, field_type.element_required)
        elif isinstance(field_type, MapType):
            visit(f"{path}.key", field_type.key_id, field_type.key_type, True)
            visit(f"{path}.value", field_type.value_id, field_type.value_type, field_type.value_required)

    for f in struct.fields:
        visit(f.name, f.field_id, f.field_type, f.required)
    return out


def decimal_sum(column):
    """Exact, at the column's scale, as text: '12.50000000'."""
    scale = column.type.scale
    total = sum((v for v in column.to_pylist() if v is not None), Decimal(0))
    return f"{total:.{scale}f}"


def micros(column):
    return pc.cast(column, pa.int64()).to_pylist()


def aggregates(data):
    """The order-independent aggregates the test also asks ClickHouse for, as text."""
    ts = micros(data["exchange_timestamp"])
    values = {
        "rows": data.num_rows,
        "sequence_sum": sum(data["sequence_number"].to_pylist()),
        "version_sum": sum(data["_version"].to_pylist()),
        "price_sum": decimal_sum(data["price"]),
        "quantity_sum": decimal_sum(data["quantity"]),
        "quote_volume_sum": decimal_sum(data["quote_volume"]),
        "exchanges": sorted(set(data["exchange"].to_pylist())),
        "symbols": sorted(set(data["symbol"].to_pylist())),
        "sides": sorted(set(data["side"].to_pylist())),
        "trade_ids": len(set(data["trade_id"].to_pylist())),
        "metadata_bytes": sum(len(v.encode()) for v in data["metadata"].to_pylist()),
        "timestamp_sum": sum(ts),
        "timestamp_min": min(ts),
        "timestamp_max": max(ts),
        "fee_non_null": pc.count(data["fee"]).as_py(),
        "tags_total": sum(len(v) for v in data["tags"].to_pylist()),
        "attrs_total": sum(len(v) for v in data["attrs"].to_pylist()),
    }
    return {k: v if isinstance(v, list) else str(v) for k, v in values.items()}


def partitions(table):
    """Records per partition, from the manifests' partition tuples (no data read)."""
    rows = table.inspect.partitions().to_pylist()
    return sorted(
        ({"partition": {k: str(v) for k, v in r["partition"].items()}, "records": str(r["record_count"]), "files": str(r["file_count"])} for r in rows),
        key=lambda p: json.dumps(p["partition"], sort_keys=True),
    )


def plain(value):
    """A bound as text ClickHouse can match: timestamps in epoch microseconds."""
    if isinstance(value, datetime):
        return str((value - EPOCH) // timedelta(microseconds=1))
    return str(value)


def data_files(table):
    """What the manifests say about each data file, checked against the file itself."""
    entries = table.inspect.entries().to_pylist()
    files = [e["data_file"] for e in entries]
    metrics = [e["readable_metrics"] for e in entries]

    def widest(column):
        return {
            "lower": plain(min(m[column]["lower_bound"] for m in metrics)),
            "upper": plain(max(m[column]["upper_bound"] for m in metrics)),
        }

    return {
        "formats": sorted({f["file_format"] for f in files}),
        "records": str(sum(f["record_count"] for f in files)),
        "size_mismatches": [f["file_path"] for f in files if len(table.io.new_input(f["file_path"])) != f["file_size_in_bytes"]],
        # Data and file sequence numbers as PyIceberg inherits them from the manifest list: one pair per snapshot.
        "sequence_numbers": sorted({(str(e["snapshot_id"]), e["sequence_number"], e["file_sequence_number"]) for e in entries}),
        "fee_nulls": str(sum(m["fee"]["null_value_count"] for m in metrics)),
        "bounds": {c: widest(c) for c in ("sequence_number", "exchange_timestamp")},
    }


def arrow_field_ids(field, path, out):
    """Dotted path -> PARQUET:field_id of an Arrow field read from a Parquet footer, nested ones included."""
    raw = (field.metadata or {}).get(b"PARQUET:field_id")
    out[path] = None if raw is None else int(raw)
    t = field.type
    if pa.types.is_map(t):
        arrow_field_ids(t.key_field, f"{path}.key", out)
        arrow_field_ids(t.item_field, f"{path}.value", out)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        arrow_field_ids(t.value_field, f"{path}.element", out)
    elif pa.types.is_struct(t):
        for i in range(t.num_fields):
            arrow_field_ids(t.field(i), f"{path}.{t.field(i).name}", out)


def parquet_field_ids(table):
    """The distinct field-id layouts of the table's data files: one if every file agrees."""
    layouts = []
    for task in table.scan().plan_files():
        with table.io.new_input(task.file.file_path).open() as f:
            schema = pq.read_schema(f)
        ids = {}
        for field in schema:
            arrow_field_ids(field, field.name, ids)
        if ids not in layouts:
            layouts.append(ids)
    return layouts


def snapshots(table):
    return [
        {
            "id": str(s.snapshot_id),
            "parent": None if s.parent_snapshot_id is None else str(s.parent_snapshot_id),
            "operation": s.summary.operation.value,
            "coldtier": {k: v for k, v in s.summary.additional_properties.items() if k.startswith("coldtier.")},
        }
        for s in table.snapshots()
    ]


def main():
    request = json.loads(sys.argv[1])
    table, listing = load(request)
    current = table.current_snapshot()
    scan = table.scan()
    result = {
        "catalog": listing,
        "format_version": table.metadata.format_version,
        "fields": fields(table.schema()),
        "partition_spec": [{"name": f.name, "transform": str(f.transform), "source_id": f.source_id} for f in table.spec().fields],
        "current_snapshot": str(current.snapshot_id),
        "snapshots": snapshots(table),
        "manifests": len(current.manifests(table.io)),
        "files": len(list(scan.plan_files())),
        "parquet_field_ids": parquet_field_ids(table),
        "partitions": partitions(table),
        "data_files": data_files(table),
        "data": aggregates(scan.to_arrow()),
    }
    if "filter" in request:
        filtered = table.scan(row_filter=request["filter"])
        result["filtered"] = {"files": len(list(filtered.plan_files())), "data": aggregates(filtered.to_arrow())}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
