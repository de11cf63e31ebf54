// PEER, NOT PART OF CLICKSTREAM STUDIO: the Kafka Streams peer of bench/compare (issue 22).
//
// Seed 003's page metrics as one would write them in Kafka Streams: the JSON events of the topic
// parsed with Jackson (once, in the value deserializer), event time from the payload's `ts`
// through a TimestampExtractor, re-keyed by page (Kafka Streams repartitions through an internal
// topic on the broker), 60 s tumbling event-time windows with a 10 s grace, and per page and
// window the count of page views and the revenue of purchases. The windowed table goes to an
// output topic (<application id>-page-metrics), as a Streams application's result would.
//
// It reads the topic from the beginning under a fresh application id, and once it has consumed
// --events records and every valid one has been aggregated (or dropped as late), it prints one
// JSON line like bench/peers/seed003_aggregator.py's: events, events/s and JVM CPU from the first
// consumed record to the last aggregated one, and the totals of its window store (queried
// interactively, so the last windows that were not closed yet count too), then exits.
package peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStore;

public final class KStreamsPeer {
    static final String STORE = "page-metrics";

    /** One parsed event: what the page windows need. */
    record Event(long ts, String page, boolean view, boolean purchase, double price) {}

    /** Views and revenue of one page in one window. */
    record PageAgg(long views, long purchases, double revenue) {}

    static final AtomicLong consumed = new AtomicLong();
    static final AtomicLong valid = new AtomicLong();
    static final AtomicLong invalid = new AtomicLong();
    static final AtomicLong aggregated = new AtomicLong();
    static final AtomicLong firstNanos = new AtomicLong(-1);
    static final AtomicLong firstCpuNanos = new AtomicLong(-1);
    static final AtomicLong firstEpochMs = new AtomicLong(-1);

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    }

    /** Parses the JSON once; null for what the pipeline would count invalid. */
    public static final class EventDeserializer implements Deserializer<Event> {
        private final ObjectMapper json = new ObjectMapper();

        @Override
        public Event deserialize(String topic, byte[] data) {
            consumed.incrementAndGet();
            if (firstNanos.get() < 0 && firstNanos.compareAndSet(-1, System.nanoTime())) {
                firstCpuNanos.set(cpuNanos());
                firstEpochMs.set(System.currentTimeMillis());
            }
            try {
                JsonNode e = json.readTree(data);
                JsonNode ts = e.get("ts"), user = e.get("user_id"), page = e.get("page"),
                         type = e.get("event_type");
                if (ts == null || !ts.isTextual() || user == null || !user.isTextual() || page == null
                    || !page.isTextual() || type == null || !type.isTextual()) {
                    invalid.incrementAndGet();
                    return null;
                }
                long ms = Instant.parse(ts.asText()).toEpochMilli();
                String t = type.asText();
                JsonNode price = e.get("price");
                valid.incrementAndGet();
                return new Event(ms, page.asText(), t.equals("page_view"), t.equals("purchase"),
                                 price != null && price.isNumber() ? price.asDouble() : 0.0);
            } catch (Exception bad) { // malformed JSON, not UTF-8, an impossible date
                invalid.incrementAndGet();
                return null;
            }
        }
    }

    /** Event time from the payload; an invalid record keeps the partition's time (it is dropped). */
    public static final class PayloadTime implements TimestampExtractor {
        @Override
        public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
            if (record.value() instanceof Event e)
                return e.ts();
            return partitionTime >= 0 ? partitionTime : Math.max(record.timestamp(), 0);
        }
    }

    public static final class PageAggSerde implements Serde<PageAgg> {
        @Override
        public Serializer<PageAgg> serializer() {
            return (topic, a) -> a == null ? null
                : ByteBuffer.allocate(24).putLong(a.views()).putLong(a.purchases()).putDouble(a.revenue()).array();
        }

        @Override
        public Deserializer<PageAgg> deserializer() {
            return (topic, b) -> {
                if (b == null)
                    return null;
                ByteBuffer in = ByteBuffer.wrap(b);
                return new PageAgg(in.getLong(), in.getLong(), in.getDouble());
            };
        }
    }

    public static final class EventSerde implements Serde<Event> {
        @Override
        public Serializer<Event> serializer() {
            return (topic, e) -> {
                if (e == null)
                    return null;
                byte[] page = e.page().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                return ByteBuffer.allocate(8 + 1 + 8 + page.length).putLong(e.ts())
                    .put((byte) ((e.view() ? 1 : 0) | (e.purchase() ? 2 : 0))).putDouble(e.price())
                    .put(page).array();
            };
        }

        @Override
        public Deserializer<Event> deserializer() {
            return (topic, b) -> {
                if (b == null)
                    return null;
                ByteBuffer in = ByteBuffer.wrap(b);
                long ts = in.getLong();
                byte flags = in.get();
                double price = in.getDouble();
                String page = new String(b, 17, b.length - 17, java.nio.charset.StandardCharsets.UTF_8);
                return new Event(ts, page, (flags & 1) != 0, (flags & 2) != 0, price);
            };
        }
    }

    static String arg(Map<String, String> a, String k, String dflt) {
        String v = a.get(k);
        if (v == null && dflt == null)
            throw new IllegalArgumentException("missing " + k);
        return v == null ? dflt : v;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2)
            a.put(argv[i], argv[i + 1]);
        String broker = arg(a, "--broker", null);
        String topic = arg(a, "--topic", "clickstream");
        String appId = arg(a, "--app-id", "kstreams-peer-" + ProcessHandle.current().pid());
        long events = Long.parseLong(arg(a, "--events", null));
        int threads = Integer.parseInt(arg(a, "--threads", "2"));
        long windowMs = Long.parseLong(arg(a, "--page-window-ms", "60000"));
        long graceMs = Long.parseLong(arg(a, "--grace-ms", "10000"));
        double timeoutS = Double.parseDouble(arg(a, "--timeout", "600"));
        Path stateDir = Files.createTempDirectory("kstreams-peer-");
        String output = appId + "-page-metrics";

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, PayloadTime.class);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker))) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                                 .partitions().size();
            admin.createTopics(List.of(new NewTopic(output, partitions, (short) 1))).all().get();
        }

        StreamsBuilder b = new StreamsBuilder();
        EventSerde eventSerde = new EventSerde();
        PageAggSerde aggSerde = new PageAggSerde();
        b.stream(topic, Consumed.with(Serdes.ByteArray(), Serdes.serdeFrom(new EventSerde().serializer(),
                                                                              new EventDeserializer())))
            .filter((k, e) -> e != null)
            .map((k, e) -> KeyValue.pair(e.page(), e))
            .groupByKey(Grouped.with(Serdes.String(), eventSerde))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowMs), Duration.ofMillis(graceMs)))
            .aggregate(() -> new PageAgg(0, 0, 0.0),
                       (page, e, agg) -> {
                           aggregated.incrementAndGet();
                           return new PageAgg(agg.views() + (e.view() ? 1 : 0),
                                              agg.purchases() + (e.purchase() ? 1 : 0),
                                              agg.revenue() + (e.purchase() ? e.price() : 0.0));
                       },
                       // Kept for a week: the totals are read from the store at the end.
                       Materialized.<String, PageAgg, WindowStore<Bytes, byte[]>>as(STORE)
                           .withKeySerde(Serdes.String())
                           .withValueSerde(aggSerde)
                           .withRetention(Duration.ofDays(7)))
            .toStream()
            .to(output, Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, windowMs), aggSerde));

        KafkaStreams streams = new KafkaStreams(b.build(), p);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        streams.setUncaughtExceptionHandler(ex -> {
            failure.set(ex);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                .SHUTDOWN_CLIENT;
        });
        streams.start();

        long deadline = System.nanoTime() + (long) (timeoutS * 1e9);
        boolean complete = false;
        while (System.nanoTime() < deadline && failure.get() == null) {
            if (consumed.get() >= events && aggregated.get() + dropped(streams) >= valid.get()) {
                complete = true;
                break;
            }
            Thread.sleep(2);
        }
        long lastNanos = System.nanoTime();
        long lastCpu = cpuNanos();

        long pageRows = 0, views = 0, purchases = 0;
        double revenue = 0;
        if (failure.get() == null && streams.state() == KafkaStreams.State.RUNNING) {
            ReadOnlyWindowStore<String, PageAgg> store = streams.store(
                StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.windowStore()));
            try (KeyValueIterator<Windowed<String>, PageAgg> it = store.all()) {
                while (it.hasNext()) {
                    PageAgg r = it.next().value;
                    ++pageRows;
                    views += r.views();
                    purchases += r.purchases();
                    revenue += r.revenue();
                }
            }
        }
        long late = dropped(streams);
        streams.close(Duration.ofSeconds(30));
        streams.cleanUp();

        long first = firstNanos.get();
        double span = first >= 0 ? (lastNanos - first) / 1e9 : 0;
        StringBuilder o = new StringBuilder();
        o.append("{\"peer\": \"Kafka Streams ").append(org.apache.kafka.common.utils.AppInfoParser.getVersion())
            .append(", page windows (60 s, grace 10 s), ").append(threads).append(" stream threads\"");
        o.append(", \"java\": \"").append(System.getProperty("java.version")).append('"');
        o.append(", \"complete\": ").append(complete && failure.get() == null);
        if (failure.get() != null)
            o.append(", \"error\": \"").append(failure.get().toString().replace("\"", "'")).append('"');
        o.append(", \"consumed\": ").append(consumed.get());
        o.append(", \"valid\": ").append(valid.get());
        o.append(", \"late\": ").append(late);
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
        o.append('}');
        System.out.println(o);
        System.out.flush();
        System.exit(complete && failure.get() == null ? 0 : 1);
    }

    /** Records the windowed aggregation dropped as late (Kafka Streams' dropped-records-total). */
    static long dropped(KafkaStreams streams) {
        double sum = 0;
        for (var m : streams.metrics().entrySet()) {
            if (m.getKey().name().equals("dropped-records-total") && m.getValue().metricValue() instanceof Double d)
                sum += d;
        }
        return (long) sum;
    }
}
