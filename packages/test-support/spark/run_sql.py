#!/usr/bin/env python3
"""Runs Spark SQL statements for Coldtier's tests and prints each one's rows.

Argument: a JSON list of statements. Catalogs come from `--conf` on spark-submit.
For each statement, one line `COLDTIER_SQL_ROWS <json list of rows>` (rows as
JSON objects; values Spark cannot put in JSON as strings) on stdout, in order.
"""

import json
import sys

from pyspark.sql import SparkSession

PREFIX = "COLDTIER_SQL_ROWS "


def main(argv):
    statements = json.loads(argv[0])
    spark = SparkSession.builder.appName("coldtier-test-sql").getOrCreate()
    try:
        for statement in statements:
            df = spark.sql(statement)
            # toJSON keeps 64-bit integers and decimals exact (Python's json would too, but
            # collect() turns timestamps into local datetimes; Spark's own JSON stays UTC).
            rows = [json.loads(r) for r in df.toJSON().collect()]
            print(PREFIX + json.dumps(rows, separators=(",", ":")))
            sys.stdout.flush()
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
