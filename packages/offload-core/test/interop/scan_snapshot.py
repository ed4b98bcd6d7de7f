"""Scans a Coldtier table with PyIceberg at one snapshot and prints aggregates and planning time as JSON.

Usage: python scan_snapshot.py '{"static": "/abs/vN.metadata.json", "snapshot_id": "123"?, "filter": "..."?}'
Used by maintenance.test.ts to compare what PyIceberg reads before and after
maintenance, and at a retained (time-travel) snapshot.
"""

import json
import sys
import time

import pyarrow.compute as pc
from pyiceberg.table import StaticTable


def main():
    request = json.loads(sys.argv[1])
    table = StaticTable.from_metadata(request["static"])
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
