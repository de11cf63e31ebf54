#include "core/produce/producerpool.h"

#include <algorithm>
#include <thread>

namespace studio::core {

ProducerPool::~ProducerPool()
{
    stopAll();
}

int ProducerPool::add(std::unique_ptr<KafkaProducer> producer)
{
    std::lock_guard lock(m_mutex);
    const int id = m_nextId++;
    m_producers.emplace_back(id, std::shared_ptr<KafkaProducer>(std::move(producer)));
    return id;
}

bool ProducerPool::remove(int id)
{
    std::shared_ptr<KafkaProducer> removed;
    {
        std::lock_guard lock(m_mutex);
        auto it = std::find_if(m_producers.begin(), m_producers.end(),
                               [id](const auto &p) { return p.first == id; });
        if (it == m_producers.end())
            return false;
        removed = std::move(it->second);
        m_producers.erase(it);
    }
    removed->stop(); // outside the lock: stopping waits for deliveries
    return true;
}

std::shared_ptr<KafkaProducer> ProducerPool::find(int id) const
{
    std::lock_guard lock(m_mutex);
    for (const auto &[pid, producer] : m_producers) {
        if (pid == id)
            return producer;
    }
    return nullptr;
}

std::vector<std::pair<int, std::shared_ptr<KafkaProducer>>> ProducerPool::entries() const
{
    std::lock_guard lock(m_mutex);
    return m_producers;
}

std::vector<int> ProducerPool::ids() const
{
    std::lock_guard lock(m_mutex);
    std::vector<int> out;
    for (const auto &p : m_producers)
        out.push_back(p.first);
    return out;
}

std::size_t ProducerPool::size() const
{
    std::lock_guard lock(m_mutex);
    return m_producers.size();
}

void ProducerPool::stopAll(std::chrono::milliseconds flushTimeout)
{
    std::vector<std::shared_ptr<KafkaProducer>> all;
    {
        std::lock_guard lock(m_mutex);
        for (const auto &p : m_producers)
            all.push_back(p.second);
    }
    // All at once: each stop() may wait up to its delivery timeout for acks (a broker failover),
    // and one after the other those waits would add up.
    std::vector<std::thread> stopping;
    for (std::size_t i = 1; i < all.size(); ++i)
        stopping.emplace_back([producer = all[i], flushTimeout] { producer->stop(flushTimeout); });
    if (!all.empty())
        all.front()->stop(flushTimeout);
    for (std::thread &t : stopping)
        t.join();
}

} // namespace studio::core
