"""Scans a Coldtier table with PyIceberg at one snapshot and prints aggregates and planning time as JSON.

Usage: python scan_snapshot.py '{"static": "/abs/vN.metadata.json", "snapshot_id": "123"?, "filter": "..."?}'
   or: python scan_snapshot.py '{"rest": {"uri": "http://...", "table": "cold.t"}, "properties": {"s3.endpoint": ...}}'
Used by the maintenance tests to compare what PyIceberg reads before and after
maintenance, and at a retained (time-travel) snapshot.
"""

import json
import sys
import time

import pyarrow.compute as pc
from pyiceberg.catalog import load_catalog
from pyiceberg.table import StaticTable


def load(request):
    """The table as a metadata file names it, or as a REST catalog serves it; `properties` configure the FileIO."""
    properties = request.get("properties", {})
    if "static" in request:
        return StaticTable.from_metadata(request["static"], properties)
    rest = request["rest"]
    return load_catalog("rest", **{"type": "rest", "uri": rest["uri"], **properties}).load_table(rest["table"])


def main():
    request = json.loads(sys.argv[1])
    table = load(request)
    snapshot_id = int(request["snapshot_id"]) if request.get("snapshot_id") else None
    kwargs = {"snapshot_id": snapshot_id} if snapshot_id is not None else {}
    if request.get("filter"):
        kwargs["row_filter"] = request["filter"]
    scan = table.scan(**kwargs)
    started = time.perf_counter()
    tasks = list(scan.plan_files())
    plan_ms = (time.perf_counter() - started) * 1000
    data = scan.to_arrow()
    timestamps = pc.cast(data["exchange_timestamp"], "int64")
    print(
        json.dumps(
            {
                "rows": str(data.num_rows),
                "files_planned": len(tasks),
                "plan_ms": round(plan_ms, 1),
                "sequence_sum": str(pc.sum(data["sequence_number"]).as_py() or 0),
                "trade_ids": str(len(pc.unique(data["trade_id"]))),
                "timestamp_sum": str(pc.sum(timestamps).as_py() or 0),
            }
        )
    )


if __name__ == "__main__":
    main()
