#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// A reusable batch of Kafka records (key, value, event time, and where they came from: partition
/// and offset, -1 when unknown) stored in one contiguous buffer, so
/// a source can fill thousands of records without an allocation per record once warmed up.
/// Not thread-safe.
class RecordBatch
{
public:
    void clear()
    {
        m_data.clear();
        m_entries.clear();
    }
    std::size_t size() const { return m_entries.size(); }
    bool empty() const { return m_entries.empty(); }
    std::size_t bytes() const { return m_data.size(); }

    void add(std::string_view key, std::string_view value, std::int64_t timestampMs = 0)
    {
        beginRecord(key);
        m_data.append(value);
        endRecord(timestampMs);
    }
    /// A record read from Kafka: its partition and offset go with it.
    void addFrom(std::int32_t partition, std::int64_t offset, std::string_view key,
                 std::string_view value)
    {
        beginRecord(key);
        m_data.append(value);
        endRecord(0);
        m_entries.back().partition = partition;
        m_entries.back().offset = offset;
    }

    /// Streaming form for writers that serialise straight into the buffer: beginRecord(key), then
    /// append to buffer(), then endRecord().
    void beginRecord(std::string_view key)
    {
        m_open.keyOffset = static_cast<std::uint32_t>(m_data.size());
        m_open.keyLength = static_cast<std::uint32_t>(key.size());
        m_data.append(key);
        m_open.valueOffset = static_cast<std::uint32_t>(m_data.size());
    }
    std::string &buffer() { return m_data; }
    void endRecord(std::int64_t timestampMs = 0)
    {
        m_open.valueLength = static_cast<std::uint32_t>(m_data.size() - m_open.valueOffset);
        m_open.timestampMs = timestampMs;
        m_open.offset = -1;
        m_open.partition = -1;
        m_entries.push_back(m_open);
    }

    std::string_view key(std::size_t i) const
    {
        return {m_data.data() + m_entries[i].keyOffset, m_entries[i].keyLength};
    }
    std::string_view value(std::size_t i) const
    {
        return {m_data.data() + m_entries[i].valueOffset, m_entries[i].valueLength};
    }
    std::int64_t timestampMs(std::size_t i) const { return m_entries[i].timestampMs; }
    std::int32_t partition(std::size_t i) const { return m_entries[i].partition; }
    std::int64_t offset(std::size_t i) const { return m_entries[i].offset; }
    /// Bytes of the buffer readable after value(i): the records that follow it.
    std::size_t bytesAfterValue(std::size_t i) const
    {
        return m_data.size() - m_entries[i].valueOffset - m_entries[i].valueLength;
    }

private:
    struct Entry
    {
        std::uint32_t keyOffset = 0;
        std::uint32_t keyLength = 0;
        std::uint32_t valueOffset = 0;
        std::uint32_t valueLength = 0;
        std::int64_t timestampMs = 0;
        std::int64_t offset = -1;
        std::int32_t partition = -1;
    };
    std::string m_data;
    std::vector<Entry> m_entries;
    Entry m_open;
};

} // namespace studio::core
