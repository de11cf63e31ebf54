// PEER, NOT PART OF CLICKSTREAM STUDIO: the Flink peer of bench/compare (issue 22).
//
// Seed 003's page and geo windows as a small Flink DataStream job: a KafkaSource reading the
// topic from the earliest offsets up to the offsets it holds at the start (bounded), the JSON
// parsed once with Jackson in the deserialization schema, event time from the payload's `ts`
// with a 10 s bounded-out-of-orderness watermark, then
//   - page metrics: keyBy page, 60 s tumbling event-time windows: page views, purchases,
//     revenue;
//   - geo metrics:  keyBy (country, browser), 300 s tumbling event-time windows: events.
// At the end of the bounded input Flink moves the watermark to the end of time, so every window
// fires. The window results are collected by the client (executeAndCollect) and summed. It runs
// in a local MiniCluster in this JVM with parallelism 2, and prints one JSON line like
// bench/peers/seed003_aggregator.py's: events, events/s and the JVM's CPU from the first record
// it deserializes to the job's end, and the totals.
package peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.CloseableIterator;

public final class FlinkPeer {
    /** One parsed event (a Flink POJO). */
    public static final class Event {
        public long ts;
        public String page;
        public String geo; // country|browser
        public boolean view;
        public boolean purchase;
        public double price;

        public Event() {}
    }

    /** A window result: kind 0 page (views, purchases, revenue), 1 geo (events). */
    public static final class Result {
        public int kind;
        public long views;
        public long purchases;
        public long events;
        public double revenue;

        public Result() {}
    }

    public static final class Acc {
        public long views;
        public long purchases;
        public long events;
        public double revenue;

        public Acc() {}
    }

    // The MiniCluster runs in this JVM, so the tasks' counters are visible here.
    static final AtomicLong consumed = new AtomicLong();
    static final AtomicLong valid = new AtomicLong();
    static final AtomicLong invalid = new AtomicLong();
    static final AtomicLong firstNanos = new AtomicLong(-1);
    static final AtomicLong firstCpuNanos = new AtomicLong(-1);
    static final AtomicLong firstEpochMs = new AtomicLong(-1);

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    }

    /** Parses the JSON once; null (skipped) for what the pipeline would count invalid. */
    public static final class EventSchema implements DeserializationSchema<Event> {
        private transient ObjectMapper json;

        @Override
        public Event deserialize(byte[] data) {
            consumed.incrementAndGet();
            if (firstNanos.get() < 0 && firstNanos.compareAndSet(-1, System.nanoTime())) {
                firstCpuNanos.set(cpuNanos());
                firstEpochMs.set(System.currentTimeMillis());
            }
            if (json == null)
                json = new ObjectMapper();
            try {
                JsonNode e = json.readTree(data);
                JsonNode ts = e.get("ts"), user = e.get("user_id"), page = e.get("page"),
                         type = e.get("event_type");
                if (ts == null || !ts.isTextual() || user == null || !user.isTextual() || page == null
                    || !page.isTextual() || type == null || !type.isTextual()) {
                    invalid.incrementAndGet();
                    return null;
                }
                Event out = new Event();
                out.ts = Instant.parse(ts.asText()).toEpochMilli();
                out.page = page.asText();
                JsonNode country = e.get("country"), browser = e.get("browser");
                out.geo = (country == null ? "" : country.asText()) + "|" + (browser == null ? "" : browser.asText());
                String t = type.asText();
                out.view = t.equals("page_view");
                out.purchase = t.equals("purchase");
                JsonNode price = e.get("price");
                out.price = price != null && price.isNumber() ? price.asDouble() : 0.0;
                valid.incrementAndGet();
                return out;
            } catch (Exception bad) { // malformed JSON, not UTF-8, an impossible date
                invalid.incrementAndGet();
                return null;
            }
        }

        @Override
        public boolean isEndOfStream(Event next) {
            return false;
        }

        @Override
        public TypeInformation<Event> getProducedType() {
            return TypeInformation.of(Event.class);
        }
    }

    public static final class PageAgg implements AggregateFunction<Event, Acc, Result> {
        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Event e, Acc a) {
            a.events++;
            if (e.view)
                a.views++;
            if (e.purchase) {
                a.purchases++;
                a.revenue += e.price;
            }
            return a;
        }

        @Override
        public Result getResult(Acc a) {
            Result r = new Result();
            r.kind = 0;
            r.views = a.views;
            r.purchases = a.purchases;
            r.events = a.events;
            r.revenue = a.revenue;
            return r;
        }

        @Override
        public Acc merge(Acc x, Acc y) {
            x.views += y.views;
            x.purchases += y.purchases;
            x.events += y.events;
            x.revenue += y.revenue;
            return x;
        }
    }

    public static final class GeoAgg implements AggregateFunction<Event, Acc, Result> {
        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Event e, Acc a) {
            a.events++;
            return a;
        }

        @Override
        public Result getResult(Acc a) {
            Result r = new Result();
            r.kind = 1;
            r.events = a.events;
            return r;
        }

        @Override
        public Acc merge(Acc x, Acc y) {
            x.events += y.events;
            return x;
        }
    }

    public static final class ByPage implements KeySelector<Event, String> {
        @Override
        public String getKey(Event e) {
            return e.page;
        }
    }

    public static final class ByGeo implements KeySelector<Event, String> {
        @Override
        public String getKey(Event e) {
            return e.geo;
        }
    }

    static String arg(Map<String, String> a, String k, String dflt) {
        String v = a.get(k);
        if (v == null && dflt == null)
            throw new IllegalArgumentException("missing " + k);
        return v == null ? dflt : v;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2)
            a.put(argv[i], argv[i + 1]);
        String broker = arg(a, "--broker", null);
        String topic = arg(a, "--topic", "clickstream");
        String group = arg(a, "--group", "flink-peer-" + ProcessHandle.current().pid());
        int parallelism = Integer.parseInt(arg(a, "--parallelism", "2"));
        long pageMs = Long.parseLong(arg(a, "--page-window-ms", "60000"));
        long geoMs = Long.parseLong(arg(a, "--geo-window-ms", "300000"));
        long delayMs = Long.parseLong(arg(a, "--watermark-delay-ms", "10000"));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        KafkaSource<Event> source = KafkaSource.<Event>builder()
                                        .setBootstrapServers(broker)
                                        .setTopics(topic)
                                        .setGroupId(group)
                                        .setStartingOffsets(OffsetsInitializer.earliest())
                                        .setBounded(OffsetsInitializer.latest())
                                        .setDeserializer(KafkaRecordDeserializationSchema.valueOnly(new EventSchema()))
                                        .build();
        DataStream<Event> events = env.fromSource(
            source,
            WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofMillis(delayMs))
                .withTimestampAssigner((e, kafkaTs) -> e.ts),
            "kafka");
        DataStream<Result> pages = events.keyBy(new ByPage(), Types.STRING)
                                       .window(TumblingEventTimeWindows.of(Duration.ofMillis(pageMs)))
                                       .aggregate(new PageAgg());
        DataStream<Result> geo = events.keyBy(new ByGeo(), Types.STRING)
                                     .window(TumblingEventTimeWindows.of(Duration.ofMillis(geoMs)))
                                     .aggregate(new GeoAgg());

        long pageRows = 0, views = 0, purchases = 0, pageEvents = 0, geoRows = 0, geoEvents = 0;
        double revenue = 0;
        String error = null;
        try (CloseableIterator<Result> it = pages.union(geo).executeAndCollect("flink-peer")) {
            while (it.hasNext()) {
                Result r = it.next();
                if (r.kind == 0) {
                    ++pageRows;
                    views += r.views;
                    purchases += r.purchases;
                    pageEvents += r.events;
                    revenue += r.revenue;
                } else {
                    ++geoRows;
                    geoEvents += r.events;
                }
            }
        } catch (Exception e) {
            error = e.toString();
        }
        long lastNanos = System.nanoTime();
        long lastCpu = cpuNanos();

        long first = firstNanos.get();
        double span = first >= 0 ? (lastNanos - first) / 1e9 : 0;
        StringBuilder o = new StringBuilder();
        o.append("{\"peer\": \"Flink ").append(org.apache.flink.runtime.util.EnvironmentInformation.getVersion())
            .append(" DataStream, local MiniCluster, parallelism ").append(parallelism)
            .append(", page (60 s) and geo (300 s) windows, 10 s watermark delay\"");
        o.append(", \"java\": \"").append(System.getProperty("java.version")).append('"');
        if (error != null)
            o.append(", \"error\": \"").append(error.replace("\"", "'").replace("\n", " ")).append('"');
        o.append(", \"consumed\": ").append(consumed.get());
        o.append(", \"valid\": ").append(valid.get());
        o.append(", \"late\": ").append(valid.get() - pageEvents);
        o.append(", \"invalid\": ").append(invalid.get());
        o.append(", \"first_event_epoch_ms\": ").append(firstEpochMs.get());
        o.append(String.format(Locale.ROOT, ", \"first_to_last_s\": %.3f", span));
        o.append(String.format(Locale.ROOT, ", \"events_per_s\": %.1f", span > 0 ? consumed.get() / span : 0.0));
        o.append(String.format(Locale.ROOT, ", \"cpu_s\": %.3f", (lastCpu - firstCpuNanos.get()) / 1e9));
        o.append(String.format(Locale.ROOT, ", \"cpu_total_s\": %.3f", cpuNanos() / 1e9));
        o.append(", \"page_rows\": ").append(pageRows);
        o.append(", \"page_views\": ").append(views);
        o.append(", \"purchases\": ").append(purchases);
        o.append(String.format(Locale.ROOT, ", \"revenue\": %.2f", revenue));
        o.append(", \"geo_rows\": ").append(geoRows);
        o.append(", \"geo_events\": ").append(geoEvents);
        o.append('}');
        System.out.println(o);
        System.out.flush();
        System.exit(error == null ? 0 : 1);
    }
}
