#include "core/monitor/groupmonitor.h"

#include "core/common/timeutil.h"
#include "core/kafka/kafkaclient.h"
#include "core/monitor/groupqueries.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

namespace studio::core {

namespace {

std::string partitionName(const PartitionKey &key)
{
    return key.first + "[" + std::to_string(key.second) + "]";
}

} // namespace

const char *lagSecondsMethodName(LagSecondsMethod method)
{
    switch (method) {
    case LagSecondsMethod::NextMessageTimestamp:
        return "next-message timestamp";
    case LagSecondsMethod::ConsumeRate:
        return "consume rate";
    case LagSecondsMethod::None:
        break;
    }
    return "none";
}

struct GroupMonitor::Impl
{
    Impl(ClusterConfig c, bool e, GroupMonitorOptions o)
        : cluster(std::move(c))
        , embedded(e)
        , options(std::move(o))
    {
        options.refreshIntervalMs = std::max(options.refreshIntervalMs, 50);
        options.requestTimeoutMs = std::max(options.requestTimeoutMs, 100);
        options.historySeconds = std::max(options.historySeconds, 1);
        options.timestampReadTimeoutMs = std::max(options.timestampReadTimeoutMs, 50);
    }

    const ClusterConfig cluster;
    const bool embedded;
    GroupMonitorOptions options;

    // Shared with callers; guarded by `mutex`.
    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopRequested = false;
    bool wakeRequested = false;
    std::map<std::string, std::vector<std::string>> watched;
    std::shared_ptr<const GroupsSnapshot> published = std::make_shared<GroupsSnapshot>();
    struct History
    {
        TimeSeries totalLag;
        TimeSeries lagSeconds;
    };
    std::map<std::string, History> histories;

    // Commit counters; `hookMutex` is held while one runs, so a cleared one is never called.
    std::mutex hookMutex;
    std::map<std::string, std::function<std::uint64_t()>> counters;

    std::atomic<bool> stopFlag{false};
    std::atomic<bool> running{false};
    std::thread thread;

    // Worker thread only.
    struct PartState
    {
        LagWindow window;
        std::int64_t tsOffset = -1; // offset whose timestamp tsMs is
        std::int64_t tsMs = -1;
        PartitionLag last;
    };
    struct GroupState
    {
        std::map<PartitionKey, PartState> parts;
        std::optional<std::uint64_t> commits;
        std::int64_t lastCommitSeenMs = -1;
    };
    KafkaHandle admin;
    KafkaHandle reader;
    std::string readerError;
    std::map<std::string, KafkaTopic> topicHandles; // destroyed before `admin`, their client
    std::map<std::string, std::vector<std::int32_t>> topicPartitions; // followed topics that exist
    std::int64_t lastFullMetadataMs = -1;
    std::int64_t lastListMs = -1;
    std::vector<GroupListing> listed;
    std::string listingError;
    bool listingAnswered = false;
    std::map<std::string, GroupDescription> described; // followed groups the cluster listed
    std::map<std::string, std::string> describeErrors;
    std::uint64_t refreshes = 0;
    std::map<std::string, GroupState> groups;

    void run();
    void refresh();
    void cleanup();
    bool ensureAdmin(std::string *error);
    bool refreshMetadata(const std::set<std::string> &topics, std::string *error);
    void listGroupsNow();
    void describeGroupsNow(const std::map<std::string, std::vector<std::string>> &follow);
    void readTimestamps(std::map<PartitionKey, std::pair<std::int64_t, std::int64_t>> &wanted);
    void updateLagSeconds(std::int64_t nowWall);
    std::shared_ptr<GroupsSnapshot>
    assemble(const std::map<std::string, std::vector<std::string>> &follow,
             const std::map<std::string, std::string> &groupErrors, std::int64_t nowWall);
};

bool GroupMonitor::Impl::ensureAdmin(std::string *error)
{
    if (admin)
        return true;
    // A consumer-type client: it never subscribes, and consumers do not ask for topics to be
    // auto-created. It has a group.id of its own that it never joins or commits to: without one
    // librdkafka 2.0.2 has no group handle, and an OffsetFetch answered with NOT_COORDINATOR (a
    // group's coordinator moving or still loading, as on a real cluster when a group is new)
    // makes it re-query the coordinator through that null handle and crash (seen once here: the
    // headless app died with SIGSEGV within its first second on a fresh topic and group).
    KafkaConf conf = makeKafkaConf(cluster,
                                   {{"socket.timeout.ms", std::to_string(options.requestTimeoutMs)},
                                    {"group.id", "clickstream-studio.group-monitor"},
                                    {"enable.auto.commit", "false"}},
                                   error);
    if (!conf)
        return false;
    admin = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), error);
    return admin != nullptr;
}

bool GroupMonitor::Impl::refreshMetadata(const std::set<std::string> &topics, std::string *error)
{
    const std::int64_t now = steadyClockMs();
    bool missing = false;
    for (const auto &t : topics)
        missing = missing || !topicPartitions.count(t);
    // Naming a topic in a Metadata request makes the embedded broker create it, so topics are
    // first looked up in the full list; only topics known to exist get a handle, and the
    // per-refresh request asks for those ("locally known topics") alone.
    const bool full = lastFullMetadataMs < 0 || now - lastFullMetadataMs >= 60'000 ||
                      (missing && now - lastFullMetadataMs >= 5000);
    if (!full && topicHandles.empty())
        return true;
    const KafkaMetadata md =
        fetchMetadata(admin.get(), full, options.requestTimeoutMs, stopFlag, error);
    if (!md)
        return false;
    std::set<std::string> seen;
    for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic &mt = md->topics[t];
        if (!topics.count(mt.topic))
            continue;
        if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (mt.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                continue;          // missing, below
            seen.insert(mt.topic); // a transient topic error: keep what was known
            continue;
        }
        seen.insert(mt.topic);
        std::vector<std::int32_t> ids;
        for (int p = 0; p < mt.partition_cnt; ++p)
            ids.push_back(mt.partitions[p].id);
        std::sort(ids.begin(), ids.end());
        topicPartitions[mt.topic] = std::move(ids);
        if (!topicHandles.count(mt.topic))
            topicHandles[mt.topic].reset(rd_kafka_topic_new(admin.get(), mt.topic, nullptr));
    }
    if (full) {
        lastFullMetadataMs = now;
        for (const auto &t : topics)
            if (!seen.count(t))
                topicPartitions.erase(t);
    }
    return true;
}

void GroupMonitor::Impl::listGroupsNow()
{
    std::vector<GroupListing> groups;
    std::string error;
    if (listConsumerGroups(admin.get(), options.requestTimeoutMs, stopFlag, groups, &error)) {
        listed = std::move(groups);
        listingAnswered = true;
    }
    if (!stopFlag)
        listingError = error;
}

void GroupMonitor::Impl::describeGroupsNow(
    const std::map<std::string, std::vector<std::string>> &follow)
{
    // Only groups the cluster listed: the embedded broker lists none (it answers "unsupported"),
    // and describing a group there would deadlock librdkafka 2.0.2.
    std::vector<std::string> ids;
    for (const auto &l : listed)
        if (follow.count(l.groupId))
            ids.push_back(l.groupId);
    std::map<std::string, GroupDescription> out;
    std::map<std::string, std::string> errors;
    std::string error;
    if (!describeConsumerGroups(admin.get(), ids, options.requestTimeoutMs, stopFlag, out, errors,
                                &error)) {
        for (const auto &id : ids)
            errors[id] = error;
    }
    described = std::move(out);
    describeErrors = std::move(errors);
}

void GroupMonitor::Impl::readTimestamps(
    std::map<PartitionKey, std::pair<std::int64_t, std::int64_t>> &wanted)
{
    if (wanted.empty())
        return;
    if (!reader) {
        std::string error;
        reader = createTimestampReader(cluster, &error);
        if (!reader) {
            readerError = "next-message timestamps unavailable: " + error;
            return;
        }
    }
    readerError.clear();
    readMessageTimestamps(reader.get(), wanted, options.timestampReadTimeoutMs, stopFlag,
                          &readerError);
}

void GroupMonitor::Impl::updateLagSeconds(std::int64_t nowWall)
{
    // Which partitions need their next message read: lag > 0 and the cached timestamp is for
    // another offset. The largest lags first, a bounded number per refresh.
    std::vector<std::tuple<std::int64_t, PartitionKey, std::int64_t>> candidates;
    for (auto &[id, gs] : groups) {
        for (auto &[key, ps] : gs.parts) {
            const PartitionLag &p = ps.last;
            if (p.lag <= 0)
                continue;
            const std::int64_t next = p.committed >= 0 ? std::max(p.committed, p.low) : p.low;
            if (ps.tsOffset != next)
                candidates.emplace_back(p.lag, key, next);
        }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto &a, const auto &b) { return std::get<0>(a) > std::get<0>(b); });
    std::map<PartitionKey, std::pair<std::int64_t, std::int64_t>> wanted; // offset, timestamp
    for (const auto &[lag, key, next] : candidates) {
        if (int(wanted.size()) >= options.timestampReadsPerRefresh)
            break;
        wanted.try_emplace(key, next, -2); // -2: not read yet
    }
    readTimestamps(wanted);

    for (auto &[id, gs] : groups) {
        for (auto &[key, ps] : gs.parts) {
            PartitionLag &p = ps.last;
            const std::int64_t next = p.committed >= 0 ? std::max(p.committed, p.low) : p.low;
            if (auto it = wanted.find(key);
                it != wanted.end() && it->second.second != -2 && it->second.first == next) {
                ps.tsOffset = next;
                ps.tsMs = it->second.second;
            }
            if (p.lag < 0) {
                p.lagSeconds = -1;
                p.lagSecondsMethod = LagSecondsMethod::None;
            } else if (p.lag == 0) {
                p.lagSeconds = 0;
                p.lagSecondsMethod = LagSecondsMethod::None;
            } else if (ps.tsOffset == next && ps.tsMs >= 0) {
                p.lagSeconds = double(std::max<std::int64_t>(0, nowWall - ps.tsMs)) / 1000.0;
                p.lagSecondsMethod = LagSecondsMethod::NextMessageTimestamp;
            } else {
                const double rate = ps.window.consumeRate();
                p.lagSeconds = rate > 0 ? double(p.lag) / rate : -1;
                p.lagSecondsMethod = LagSecondsMethod::ConsumeRate;
            }
        }
    }
}

std::shared_ptr<GroupsSnapshot>
GroupMonitor::Impl::assemble(const std::map<std::string, std::vector<std::string>> &follow,
                             const std::map<std::string, std::string> &groupErrors,
                             std::int64_t nowWall)
{
    auto snap = std::make_shared<GroupsSnapshot>();
    snap->takenAtMs = nowWall;
    snap->refreshes = refreshes;
    snap->embedded = embedded;
    snap->listingSupported = !embedded;
    if (embedded)
        snap->note = "the embedded broker cannot list consumer groups: showing the groups the app "
                     "knows";
    snap->listingError = listingError;
    snap->listingAnswered = listingAnswered;
    if (!readerError.empty())
        snap->note += (snap->note.empty() ? "" : "; ") + readerError;

    std::map<std::string, GroupListing> listing;
    for (const auto &l : listed)
        listing[l.groupId] = l;
    for (const auto &[id, topics] : follow) {
        GroupLag g;
        g.groupId = id;
        g.topics = topics;
        {
            std::lock_guard lock(mutex);
            g.watched = watched.count(id) > 0;
        }
        auto &entry = listing[id];
        entry.groupId = id;
        entry.watched = g.watched;
        g.listed = entry.listed;
        g.state = entry.listed ? entry.state
                  : embedded   ? "known to the app (the embedded broker cannot list groups)"
                               : "not listed by the cluster";
        if (auto e = groupErrors.find(id); e != groupErrors.end())
            g.error = e->second;
        if (auto d = described.find(id); d != described.end()) {
            g.described = true;
            g.state = d->second.state;
            g.members = d->second.members;
            g.coordinator = d->second.coordinator;
            g.assignor = d->second.assignor;
        } else if (auto e = describeErrors.find(id); e != describeErrors.end() && g.error.empty()) {
            g.error = e->second;
        }

        auto gsIt = groups.find(id);
        if (gsIt != groups.end()) {
            const GroupState &gs = gsIt->second;
            g.lastCommitSeenMs = gs.lastCommitSeenMs;
            std::vector<NamedLagEvaluation> named;
            const PartitionLag *slowest = nullptr;
            bool anyLag = false;
            for (const auto &[key, ps] : gs.parts) {
                g.partitions.push_back(ps.last);
                LagEvaluation e;
                e.status = ps.last.status;
                e.reason = ps.last.reason;
                e.lag = ps.last.lag;
                e.committed = ps.last.committed;
                named.push_back({partitionName(key), std::move(e)});
                if (ps.last.lag > 0)
                    anyLag = true;
                if (ps.last.lagSeconds >= 0 &&
                    (!slowest || ps.last.lagSeconds > slowest->lagSeconds))
                    slowest = &ps.last;
            }
            const LagEvaluation group = evaluateGroupLag(named);
            g.status = group.status;
            g.reason = group.reason;
            g.totalLag = group.lag;
            if (slowest) {
                g.lagSeconds = slowest->lagSeconds;
                g.lagSecondsMethod = slowest->lagSecondsMethod;
            } else if (anyLag) {
                g.lagSecondsMethod = LagSecondsMethod::ConsumeRate; // tried, but not consuming
            }
        }
        if (g.partitions.empty() && g.reason.empty())
            g.reason = g.error.empty() ? "no data yet" : g.error;
        snap->groups.push_back(std::move(g));
    }
    for (auto &[id, l] : listing)
        snap->listing.push_back(std::move(l));
    return snap;
}

void GroupMonitor::Impl::refresh()
{
    const std::int64_t nowWall = wallClockMs();
    ++refreshes;
    std::map<std::string, std::vector<std::string>> follow;
    {
        std::lock_guard lock(mutex);
        follow = watched;
    }
    std::map<std::string, std::string> groupErrors;
    std::string clusterError;
    auto publish = [&](std::shared_ptr<GroupsSnapshot> snap) {
        snap->error = clusterError;
        std::set<std::string> ids;
        for (auto &g : snap->groups) {
            if (g.error.empty())
                g.error = clusterError;
            ids.insert(g.groupId);
        }
        const std::int64_t second = nowWall / 1000;
        std::lock_guard lock(mutex);
        if (stopRequested && !clusterError.empty())
            return; // an aborted refresh says nothing about the cluster
        for (auto it = histories.begin(); it != histories.end();)
            it = ids.count(it->first) ? std::next(it) : histories.erase(it);
        for (const auto &g : snap->groups) {
            auto &h = histories
                          .try_emplace(g.groupId,
                                       History{TimeSeries(std::size_t(options.historySeconds)),
                                               TimeSeries(std::size_t(options.historySeconds))})
                          .first->second;
            if (g.error.empty() && g.totalLag >= 0)
                h.totalLag.add(second, double(g.totalLag));
            if (g.error.empty() && g.lagSeconds >= 0)
                h.lagSeconds.add(second, g.lagSeconds);
        }
        published = std::move(snap);
    };

    if (!ensureAdmin(&clusterError)) {
        publish(assemble(follow, groupErrors, nowWall));
        return;
    }
    if (!embedded && (lastListMs < 0 || steadyClockMs() - lastListMs >= options.listIntervalMs)) {
        listGroupsNow();
        lastListMs = steadyClockMs();
    }
    if (!embedded && options.watchListedGroups) {
        for (const auto &l : listed)
            follow.try_emplace(l.groupId); // no topics: discovered from its offsets
    }
    if (!embedded)
        describeGroupsNow(follow);
    for (auto it = groups.begin(); it != groups.end();)
        it = follow.count(it->first) ? std::next(it) : groups.erase(it);

    std::set<std::string> topics;
    for (const auto &[id, list] : follow)
        topics.insert(list.begin(), list.end());
    if (!refreshMetadata(topics, &clusterError)) {
        publish(assemble(follow, groupErrors, nowWall));
        return;
    }

    // Committed offsets, partitions named (from metadata) or discovered (real clusters).
    std::map<std::string, std::vector<PartitionKey>> requests;
    for (const auto &[id, list] : follow) {
        std::vector<std::string> problems;
        if (list.empty() && embedded) {
            groupErrors[id] = "no topics named: the embedded broker cannot tell a group's "
                              "partitions";
            continue;
        }
        auto &keys = requests[id];
        for (const auto &topic : list) {
            auto it = topicPartitions.find(topic);
            if (it == topicPartitions.end()) {
                problems.push_back("topic '" + topic + "' not found");
                continue;
            }
            for (std::int32_t p : it->second)
                keys.emplace_back(topic, p);
        }
        if (!problems.empty())
            groupErrors[id] = problems.front();
        if (keys.empty() && !list.empty())
            requests.erase(id);
    }
    CommittedOffsets fetched =
        fetchCommittedOffsets(admin.get(), requests, !embedded, options.requestTimeoutMs, stopFlag);
    if (stopFlag)
        return;
    const auto &committed = fetched.offsets;
    auto &partErrors = fetched.partitionErrors;
    groupErrors.merge(fetched.groupErrors);

    // Watermarks of every partition any group reads, in one batched query.
    std::vector<TopicPartitionWatermarks> marks;
    std::map<PartitionKey, std::size_t> markIndex;
    for (const auto &[id, offsets] : committed) {
        for (const auto &[key, offset] : offsets) {
            if (markIndex.try_emplace(key, marks.size()).second) {
                TopicPartitionWatermarks w;
                w.topic = key.first;
                w.partition = key.second;
                marks.push_back(std::move(w));
            }
        }
    }
    std::string wmError;
    if (!queryWatermarks(admin.get(), marks, options.requestTimeoutMs, &wmError)) {
        clusterError = withClientError("cannot reach the cluster: " + wmError, admin.get());
        publish(assemble(follow, groupErrors, nowWall));
        return;
    }

    std::map<std::string, std::optional<std::uint64_t>> counts;
    {
        std::lock_guard lock(hookMutex);
        for (const auto &[id, counter] : counters)
            if (counter && follow.count(id))
                counts[id] = counter();
    }

    // One sample per partition into its window, then Burrow's rules.
    const std::int64_t sampleMs = steadyClockMs();
    for (const auto &[id, list] : follow) {
        GroupState &gs = groups[id];
        auto offsets = committed.find(id);
        if (offsets == committed.end())
            continue; // the group's request failed: keep what was known, with the error
        bool commitSeen = false;
        if (auto c = counts.find(id); c != counts.end() && c->second) {
            commitSeen = gs.commits && *c->second > *gs.commits;
            gs.commits = c->second;
        }
        if (commitSeen)
            gs.lastCommitSeenMs = nowWall;
        std::set<PartitionKey> present;
        std::vector<std::string> problems;
        for (const auto &[key, error] : partErrors[id]) {
            present.insert(key); // keep its last state
            problems.push_back(partitionName(key) + ": " + error);
        }
        for (const auto &[key, offset] : offsets->second) {
            const TopicPartitionWatermarks &w = marks[markIndex.at(key)];
            present.insert(key);
            if (w.error != 0 || w.high < 0) {
                problems.push_back(partitionName(key) + ": watermarks: " +
                                   rd_kafka_err2str(rd_kafka_resp_err_t(w.error)));
                continue;
            }
            PartState &ps =
                gs.parts.try_emplace(key, PartState{LagWindow(options.windowSize), -1, -1, {}})
                    .first->second;
            if (!ps.window.samples().empty() && ps.window.samples().back().committed != offset)
                gs.lastCommitSeenMs = nowWall;
            LagSample s;
            s.timeMs = sampleMs;
            s.committed = offset;
            s.high = w.high;
            s.low = w.low;
            s.commitSeen = commitSeen;
            ps.window.add(s);
            const LagEvaluation e = ps.window.evaluate();
            PartitionLag &p = ps.last;
            p.topic = key.first;
            p.partition = key.second;
            p.committed = offset;
            p.low = w.low;
            p.high = w.high;
            p.lag = s.lag();
            p.status = e.status;
            p.reason = e.reason;
        }
        for (auto it = gs.parts.begin(); it != gs.parts.end();)
            it = present.count(it->first) ? std::next(it) : gs.parts.erase(it);
        if (!problems.empty() && !groupErrors.count(id)) {
            std::string text = problems.front();
            if (problems.size() > 1)
                text += " (and " + std::to_string(problems.size() - 1) + " more)";
            groupErrors[id] = text;
        }
    }
    updateLagSeconds(nowWall);
    publish(assemble(follow, groupErrors, nowWall));
}

void GroupMonitor::Impl::cleanup()
{
    topicHandles.clear();
    topicPartitions.clear();
    lastFullMetadataMs = -1;
    lastListMs = -1;
    groups.clear();
    // The reader never subscribed: skip the consumer close (a group round trip that a dead
    // cluster would make wait).
    // (Handing them to the assign-only owner destroys them that way.)
    KafkaAssignOnlyConsumer(reader.release()).reset();
    KafkaAssignOnlyConsumer(admin.release()).reset();
}

void GroupMonitor::Impl::run()
{
    for (;;) {
        const auto started = std::chrono::steady_clock::now();
        refresh();
        std::unique_lock lock(mutex);
        wake.wait_until(lock, started + std::chrono::milliseconds(options.refreshIntervalMs),
                        [&] { return stopRequested || wakeRequested; });
        wakeRequested = false;
        if (stopRequested)
            break;
    }
    cleanup();
}

GroupMonitor::GroupMonitor(ClusterConfig cluster, bool embedded, GroupMonitorOptions options)
    : m_impl(std::make_unique<Impl>(std::move(cluster), embedded, std::move(options)))
{
}

GroupMonitor::~GroupMonitor()
{
    stop();
}

bool GroupMonitor::start(std::string *error)
{
    Impl &d = *m_impl;
    if (d.running)
        return true;
    if (std::string e = d.cluster.validate(); !e.empty()) {
        if (error)
            *error = e;
        return false;
    }
    {
        std::lock_guard lock(d.mutex);
        d.stopRequested = false;
        d.wakeRequested = false;
    }
    d.stopFlag = false;
    d.running = true;
    d.thread = std::thread([&d] { d.run(); });
    return true;
}

void GroupMonitor::stop()
{
    Impl &d = *m_impl;
    {
        std::lock_guard lock(d.mutex);
        d.stopRequested = true;
    }
    d.stopFlag = true;
    d.wake.notify_all();
    if (d.thread.joinable())
        d.thread.join();
    d.running = false;
}

bool GroupMonitor::isRunning() const
{
    return m_impl->running;
}

void GroupMonitor::refreshNow()
{
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->wakeRequested = true;
    }
    m_impl->wake.notify_all();
}

void GroupMonitor::watchGroup(const std::string &groupId, std::vector<std::string> topics)
{
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    std::lock_guard lock(m_impl->mutex);
    m_impl->watched[groupId] = std::move(topics);
}

void GroupMonitor::unwatchGroup(const std::string &groupId)
{
    {
        std::lock_guard lock(m_impl->hookMutex);
        m_impl->counters.erase(groupId);
    }
    std::lock_guard lock(m_impl->mutex);
    m_impl->watched.erase(groupId);
    m_impl->histories.erase(groupId);
}

void GroupMonitor::setCommitCounter(const std::string &groupId,
                                    std::function<std::uint64_t()> counter)
{
    std::lock_guard lock(m_impl->hookMutex);
    if (counter)
        m_impl->counters[groupId] = std::move(counter);
    else
        m_impl->counters.erase(groupId);
}

std::vector<GroupListing> GroupMonitor::listGroups() const
{
    std::lock_guard lock(m_impl->mutex);
    std::map<std::string, GroupListing> merged;
    for (const auto &l : m_impl->published->listing)
        merged[l.groupId] = l;
    for (auto &[id, l] : merged)
        l.watched = m_impl->watched.count(id) > 0;
    for (const auto &[id, topics] : m_impl->watched) {
        GroupListing &l = merged[id];
        l.groupId = id;
        l.watched = true;
    }
    std::vector<GroupListing> out;
    for (auto &[id, l] : merged)
        out.push_back(std::move(l));
    return out;
}

std::shared_ptr<const GroupsSnapshot> GroupMonitor::snapshot() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->published;
}

GroupHistory GroupMonitor::history(const std::string &groupId, std::int64_t sinceSecond) const
{
    std::lock_guard lock(m_impl->mutex);
    GroupHistory out;
    auto it = m_impl->histories.find(groupId);
    if (it == m_impl->histories.end())
        return out;
    out.totalLag = it->second.totalLag.since(sinceSecond);
    out.lagSeconds = it->second.lagSeconds.since(sinceSecond);
    return out;
}

const GroupMonitorOptions &GroupMonitor::options() const
{
    return m_impl->options;
}

} // namespace studio::core
