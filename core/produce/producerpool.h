#pragma once

#include "core/produce/producer.h"

#include <memory>
#include <mutex>
#include <vector>

namespace studio::core {

/// Several producers at once, each with its own settings, started, paused and stopped on its own.
/// Ids are stable and never reused. Thread-safe; the producers themselves do the work.
class ProducerPool
{
public:
    ProducerPool() = default;
    ~ProducerPool();

    /// Takes ownership; returns the new producer's id.
    int add(std::unique_ptr<KafkaProducer> producer);
    /// Stops and removes a producer; false if there is no such id.
    bool remove(int id);
    /// The producer with `id`, or null. The shared pointer keeps it alive even if another thread
    /// removes it meanwhile (a scrape or a GUI refresh never reads a freed producer).
    std::shared_ptr<KafkaProducer> find(int id) const;
    /// Every producer with its id, in the order they were added (same lifetime guarantee).
    std::vector<std::pair<int, std::shared_ptr<KafkaProducer>>> entries() const;
    std::vector<int> ids() const;
    std::size_t size() const;

    /// Stops every producer, all at once (each waits for its in-flight deliveries up to
    /// `flushTimeout`, by default their delivery timeout, see KafkaProducer::stop).
    void stopAll(std::chrono::milliseconds flushTimeout = KafkaProducer::kUntilDeliveryTimeout);

private:
    mutable std::mutex m_mutex;
    std::vector<std::pair<int, std::shared_ptr<KafkaProducer>>> m_producers;
    int m_nextId = 1;
};

} // namespace studio::core
