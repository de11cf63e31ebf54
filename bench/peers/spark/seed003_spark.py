"""PEER, NOT PART OF CLICKSTREAM STUDIO: seed 003's Spark Structured Streaming job, for
bench/compare only (issue 22). Run it through bench/peers/spark/run.sh (pyspark from PyPI in a
venv under the cache folder, the Kafka source from Maven Central through spark.jars.packages).

Seed 003 (/work/shared/seeds/003_*.txt, spark/app.py there) reads the events topic with
spark.readStream.format("kafka"), parses the JSON with an explicit schema, takes event time from
the payload's `ts`, `withWatermark("event_ts", WATERMARK_DELAY)`, and runs three queries, each
with its own checkpoint, writing every micro-batch to CSV through foreachBatch:
  - page_metrics: window(event_ts, PAGE_WINDOW) per page: page views, approx distinct users and
    sessions, purchases, revenue;
  - geo_metrics:  window(event_ts, GEO_WINDOW) per (country, browser): events;
  - sessions:     per user, session_window(event_ts, SESSION_WINDOW): events, distinct pages,
    revenue.
Here (pyspark 4.2.0: the newest Spark whose spark-sql-kafka-0-10 is on Maven Central
when this was written; requirements.txt pins it): local[2] (both cores), shuffle partitions 2, startingOffsets earliest, each query a
trigger(availableNow=True) run (it reads what the topic holds when it starts, in as many
micro-batches as it needs, then stops), output mode "update" for the page and geo windows so
that the windows still open at the end of the input are written too (append mode would hold them
until a later event moves the watermark; the totals are then comparable with the other
consumers, which flush at the end); the final value of each window is its row from the last
batch that wrote it. Spark does not allow "update" for session windows, so the sessions query
runs in "complete" mode (every batch writes the whole result table; its last batch is the
result).

Invalid events are dropped as our pipeline and the Python peer drop them: not JSON, not UTF-8
(Spark's cast to string puts U+FFFD there), `ts` not an ISO time string, or user_id, page or
event_type missing.

Timing (what the JSON line says): the SparkSession is created first (the JVM, the Kafka source's
jars) and the schema and plans are built; then the three queries are started together and
awaited. first_to_last_s is from just before the first query starts to when the last one has
terminated (so it includes the queries' own planning and their Kafka consumers' start, a second
or so, against Spark); events_per_s = events in the topic / that. cpu_s is the CPU of the whole
process tree (this Python process and the JVM it started, /proc utime+stime) over the same span.
"""
import argparse
import csv
import glob
import json
import os
import sys
import time


def tree_cpu(root):
    """utime + stime (s) of root and all its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(x) for x in f.read().split())
        except (OSError, ValueError, IndexError):
            pass
    return total


def final_rows(out_dir, key_cols, last_batch_only=False):
    """The last batch's row of each key (update mode writes a window again when it changes), or
    (complete mode) the rows of the last batch."""
    rows = {}
    paths = glob.glob(os.path.join(out_dir, "batch=*", "*.csv"))
    batch_of = {p: int(p.split("batch=")[1].split(os.sep)[0]) for p in paths}
    if last_batch_only and paths:
        last = max(batch_of.values())
        paths = [p for p in paths if batch_of[p] == last]
    for path in paths:
        batch = batch_of[path]
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                key = tuple(r[c] for c in key_cols)
                if key not in rows or rows[key][0] <= batch:
                    rows[key] = (batch, r)
    return [r for _, r in rows.values()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", required=True)
    ap.add_argument("--topic", default="clickstream")
    ap.add_argument("--out", required=True, help="folder for the CSV output and checkpoints")
    ap.add_argument("--kafka-package", required=True,
                    help="Maven coordinates of spark-sql-kafka-0-10 for this Spark")
    ap.add_argument("--ivy", required=True, help="Ivy cache folder for spark.jars.packages")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--shuffle-partitions", type=int, default=2)
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--page-window", default="60 seconds")
    ap.add_argument("--geo-window", default="300 seconds")
    ap.add_argument("--session-gap", default="30 minutes")
    ap.add_argument("--watermark", default="10 seconds")
    a = ap.parse_args()

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    spark = (SparkSession.builder.master(a.master).appName("seed003-spark-peer")
             .config("spark.jars.packages", a.kafka_package)
             .config("spark.jars.ivy", a.ivy)
             .config("spark.driver.memory", a.driver_memory)
             .config("spark.sql.shuffle.partitions", str(a.shuffle_partitions))
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.streaming.metricsEnabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")

    schema = StructType([StructField(n, StringType()) for n in
                         ("event_id", "event_type", "ts", "user_id", "session_id", "page",
                          "product_id", "country", "browser", "device", "referrer")]
                        + [StructField("price", DoubleType())])
    raw = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", a.broker)
           .option("subscribe", a.topic).option("startingOffsets", "earliest")
           .option("failOnDataLoss", "false").load())
    text = raw.selectExpr("CAST(value AS STRING) AS json")
    events = (text.select(F.from_json("json", schema).alias("e"), F.col("json"))
              .select("e.*", "json")
              .withColumn("event_ts", F.try_to_timestamp(F.col("ts")))
              .where(F.col("event_ts").isNotNull() & F.col("user_id").isNotNull()
                     & F.col("page").isNotNull() & F.col("event_type").isNotNull()
                     & ~F.col("json").contains("\ufffd"))
              .drop("json")
              .withWatermark("event_ts", a.watermark))

    pages = (events.groupBy(F.window("event_ts", a.page_window).alias("w"), "page")
             .agg(F.sum(F.when(F.col("event_type") == "page_view", 1).otherwise(0)).alias("views"),
                  F.approx_count_distinct("user_id").alias("users"),
                  F.approx_count_distinct("session_id").alias("sessions"),
                  F.sum(F.when(F.col("event_type") == "purchase", 1).otherwise(0))
                  .alias("purchases"),
                  F.sum(F.when(F.col("event_type") == "purchase", F.coalesce("price", F.lit(0.0)))
                        .otherwise(0.0)).alias("revenue"))
             .select(F.col("w.start").alias("window_start"), "page", "views", "users",
                     "sessions", "purchases", "revenue"))
    geo = (events.groupBy(F.window("event_ts", a.geo_window).alias("w"), "country", "browser")
           .agg(F.count(F.lit(1)).alias("events"))
           .select(F.col("w.start").alias("window_start"), "country", "browser", "events"))
    sessions = (events.groupBy("user_id", F.session_window("event_ts", a.session_gap).alias("s"))
                .agg(F.count(F.lit(1)).alias("events"),
                     F.approx_count_distinct("page").alias("pages"),
                     F.sum(F.when(F.col("event_type") == "purchase", F.coalesce("price", F.lit(0.0)))
                           .otherwise(0.0)).alias("revenue"))
                .select("user_id", F.col("s.start").alias("session_start"), "events", "pages",
                        "revenue"))

    def sink(name):
        out_dir = os.path.join(a.out, name)

        def write(df, batch_id):
            if df.isEmpty():  # the seed skips empty batches
                return
            df.coalesce(1).write.mode("append").option("header", True).csv(
                os.path.join(out_dir, f"batch={batch_id}"))
        return write

    queries = {}
    t0 = time.monotonic()
    epoch0 = time.time()
    cpu0 = tree_cpu(os.getpid())
    for name, df, mode in (("page_metrics", pages, "update"), ("geo_metrics", geo, "update"),
                           ("sessions", sessions, "complete")):
        queries[name] = (df.writeStream.outputMode(mode).foreachBatch(sink(name))
                         .option("checkpointLocation", os.path.join(a.out, "_chk", name))
                         .trigger(availableNow=True).queryName(name).start())
    for q in queries.values():
        q.awaitTermination()
    t1 = time.monotonic()
    cpu1 = tree_cpu(os.getpid())

    consumed = {name: sum(p["numInputRows"] for p in q.recentProgress)
                for name, q in queries.items()}
    errors = {name: str(q.exception()) for name, q in queries.items() if q.exception()}
    spark_version = spark.version
    # Reap the JVM before exiting (it ends when its stdin closes): only then does its CPU and
    # peak RSS reach the rusage our parent collects with wait4.
    jvm = getattr(spark.sparkContext._gateway, "proc", None)
    spark.stop()
    if jvm is not None:
        try:
            jvm.stdin.close()
            jvm.wait(timeout=120)
        except Exception:  # noqa: BLE001 (a JVM that will not stop only loses its rusage)
            pass

    page_rows = final_rows(os.path.join(a.out, "page_metrics"), ("window_start", "page"))
    geo_rows = final_rows(os.path.join(a.out, "geo_metrics"), ("window_start", "country", "browser"))
    session_rows = final_rows(os.path.join(a.out, "sessions"), ("user_id", "session_start"),
                              last_batch_only=True)
    n = consumed["page_metrics"]
    span = t1 - t0
    out = {
        "peer": f"Spark Structured Streaming {spark_version} (PySpark), seed 003's three queries, "
                f"{a.master}, availableNow, update mode (sessions: complete), CSV via "
                "foreachBatch",
        "consumed": n,
        "consumed_per_query": consumed,
        "errors": errors,
        "first_event_epoch_ms": int(epoch0 * 1000),
        "first_to_last_s": round(span, 3),
        "events_per_s": round(n / span, 1) if span > 0 else None,
        "cpu_s": round(cpu1 - cpu0, 3),
        "page_rows": len(page_rows),
        "page_views": sum(int(r["views"]) for r in page_rows),
        "purchases": sum(int(r["purchases"]) for r in page_rows),
        "revenue": round(sum(float(r["revenue"]) for r in page_rows), 2),
        "geo_rows": len(geo_rows),
        "geo_events": sum(int(r["events"]) for r in geo_rows),
        "sessions": len(session_rows),
        "session_events": sum(int(r["events"]) for r in session_rows),
    }
    print(json.dumps(out), flush=True)
    return 0 if n > 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
