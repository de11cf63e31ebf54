#!/usr/bin/python3
"""PEER, NOT PART OF CLICKSTREAM STUDIO: a plain-Python port of seed 003's Spark job, for
bench/compare only.

Seed 003 (/work/shared/seeds/003_*.txt) ran Spark Structured Streaming over the events topic:
parse the JSON, event time from the payload's `ts`, `withWatermark(event_ts, WATERMARK_DELAY)`,
then
  - page_metrics: tumbling PAGE_WINDOW per page: page views, distinct users and sessions
    (approx_count_distinct in Spark; exact sets here), purchases, revenue;
  - geo_metrics:  tumbling GEO_WINDOW per (country, browser): events;
  - sessions:     per user, session_window(event_ts, SESSION_WINDOW): events, distinct pages,
    revenue.
Spark is not installable here, so this is the same logic the way one would write it in plain
Python with Debian's python3-confluent-kafka: confluent_kafka.Consumer in its own consumer group
from the beginning of the topic, json.loads per event, dict-based windowed counts, windows and
sessions finalised when the watermark (max event time - delay) passes them, everything flushed
at the end. Late events (older than the watermark) are counted and dropped, as Spark would.

It stops after --events messages (or when every assigned partition reached its end) and prints
one JSON object: what it consumed, its totals (for the correctness check against our pipeline),
and its own timing from the first message to the last.

Run it with Debian's interpreter (/usr/bin/python3): a pyenv python3 may come first on PATH.
"""
import argparse
import json
import resource
import sys
import time
from datetime import datetime

from confluent_kafka import Consumer, KafkaError


def cpu_now():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def iso_ms(ts):
    # "2026-11-23T12:00:55.123Z"; Python 3.11's fromisoformat takes the Z.
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


class Seed003Aggregation:
    def __init__(self, page_ms, geo_ms, gap_ms, delay_ms):
        self.page_ms, self.geo_ms, self.gap_ms, self.delay_ms = page_ms, geo_ms, gap_ms, delay_ms
        self.max_ts = None
        self.pages = {}      # (window_start, page) -> [views, purchases, revenue, users, sessions]
        self.geo = {}        # (window_start, country, browser) -> events
        self.sessions = {}   # user -> [start, last, events, pages, revenue]
        self.final_pages = []
        self.final_geo = []
        self.final_sessions = []
        self.valid = 0
        self.late = 0
        self.invalid = 0

    def add(self, raw):
        try:
            e = json.loads(raw)
            ts = iso_ms(e["ts"])
            user = e["user_id"]
            page = e["page"]
            etype = e["event_type"]
        except (ValueError, KeyError, TypeError):
            self.invalid += 1
            return
        if self.max_ts is not None and ts < self.max_ts - self.delay_ms:
            self.late += 1
            return
        if self.max_ts is None or ts > self.max_ts:
            self.max_ts = ts
        self.valid += 1
        price = e.get("price") or 0.0

        w = ts - ts % self.page_ms
        row = self.pages.get((w, page))
        if row is None:
            row = self.pages[(w, page)] = [0, 0, 0.0, set(), set()]
        if etype == "page_view":
            row[0] += 1
        elif etype == "purchase":
            row[1] += 1
            row[2] += price
        row[3].add(user)
        row[4].add(e["session_id"])

        g = (ts - ts % self.geo_ms, e["country"], e["browser"])
        self.geo[g] = self.geo.get(g, 0) + 1

        s = self.sessions.get(user)
        if s is not None and ts - s[1] > self.gap_ms:
            self.final_sessions.append(s)
            s = None
        if s is None:
            self.sessions[user] = [ts, ts, 1, {page}, price if etype == "purchase" else 0.0]
        else:
            s[0] = min(s[0], ts)
            s[1] = max(s[1], ts)
            s[2] += 1
            s[3].add(page)
            if etype == "purchase":
                s[4] += price

    def advance(self, everything=False):
        """Finalise what the watermark passed (or everything, at the end of input)."""
        if self.max_ts is None:
            return
        wm = self.max_ts - self.delay_ms
        for key in [k for k in self.pages if everything or k[0] + self.page_ms <= wm]:
            self.final_pages.append((key, self.pages.pop(key)))
        for key in [k for k in self.geo if everything or k[0] + self.geo_ms <= wm]:
            self.final_geo.append((key, self.geo.pop(key)))
        for user in [u for u, s in self.sessions.items()
                     if everything or s[1] + self.gap_ms < wm]:
            self.final_sessions.append(self.sessions.pop(user))

    def totals(self):
        return {
            "page_rows": len(self.final_pages),
            "page_views": sum(r[0] for _, r in self.final_pages),
            "purchases": sum(r[1] for _, r in self.final_pages),
            "revenue": round(sum(r[2] for _, r in self.final_pages), 2),
            "geo_rows": len(self.final_geo),
            "geo_events": sum(n for _, n in self.final_geo),
            "sessions": len(self.final_sessions),
            "session_events": sum(s[2] for s in self.final_sessions),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", required=True)
    ap.add_argument("--topic", default="clickstream")
    ap.add_argument("--group", default="seed003-python-peer")
    ap.add_argument("--events", type=int, required=True, help="stop after this many messages")
    ap.add_argument("--page-window-ms", type=int, default=60_000)
    ap.add_argument("--geo-window-ms", type=int, default=300_000)
    ap.add_argument("--session-gap-ms", type=int, default=30 * 60_000)
    ap.add_argument("--watermark-delay-ms", type=int, default=10_000)
    ap.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    a = ap.parse_args()

    consumer = Consumer({
        "bootstrap.servers": a.broker,
        "group.id": a.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 10,
        "queued.max.messages.kbytes": 262144,
        "fetch.error.backoff.ms": 10,
    })
    consumer.subscribe([a.topic])
    agg = Seed003Aggregation(a.page_window_ms, a.geo_window_ms, a.session_gap_ms,
                             a.watermark_delay_ms)
    consumed = 0
    cpu_first = 0.0
    eof = set()
    assigned = 0
    first = None
    started = time.monotonic()
    while consumed < a.events and time.monotonic() - started < a.timeout:
        msgs = consumer.consume(num_messages=1000, timeout=0.5)
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                continue
            if first is None:
                first = time.monotonic()
                cpu_first = cpu_now()
            consumed += 1
            agg.add(m.value())
            if consumed >= a.events:
                break
        if msgs:
            agg.advance()
        if not assigned:
            assigned = len(consumer.assignment())
        if assigned and len(eof) >= assigned and consumed > 0:
            break
    agg.advance(everything=True)
    last = time.monotonic()
    cpu_last = cpu_now()
    consumer.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "peer": "seed 003 logic in plain Python (confluent_kafka + json.loads + dicts)",
        "python": sys.version.split()[0],
        "consumed": consumed,
        "valid": agg.valid,
        "late": agg.late,
        "invalid": agg.invalid,
        "first_to_last_s": round(last - first, 3) if first else None,
        "events_per_s": round(consumed / (last - first), 1) if first and last > first else None,
        "cpu_s": round(cpu_last - cpu_first, 3),
        "cpu_total_s": round(ru.ru_utime + ru.ru_stime, 3),
        "maxrss_kb": ru.ru_maxrss,
    }
    out.update(agg.totals())
    print(json.dumps(out), flush=True)
    return 0 if consumed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
