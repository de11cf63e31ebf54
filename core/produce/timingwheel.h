#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace studio::core {

/// A hashed timing wheel of small records (the generator's users) keyed by a due time in ms: a
/// ring of buckets `width` ms wide, each a queue of records in push order. The records live in
/// the wheel and move through it: pushing appends to a bucket, popping reads the cursor's bucket
/// front to back, so with millions of users every access is sequential (an index into one big
/// array of users would miss the cache on nearly every event). A bucket is a chain of fixed-size
/// chunks that go back to a free list once read, so the memory is the records scheduled plus a
/// chunk per bucket, and once the wheel has seen its load nothing allocates. Order within a
/// bucket is first in, first out (keys are exact to `width`).
/// A key before the cursor goes to the cursor's bucket (due at once); a key past the ring's span
/// goes to its last bucket, so callers keep keys within span() of the time they push at.
/// Not thread-safe.
template <typename T> class TimingWheel
{
public:
    /// `widthMs` and `bucketCount` are rounded up to powers of two.
    TimingWheel(std::int64_t widthMs, std::uint32_t bucketCount)
        : m_buckets(std::bit_ceil(std::max<std::uint32_t>(bucketCount, 2)))
        , m_shift(std::countr_zero(
              std::bit_ceil(static_cast<std::uint64_t>(std::max<std::int64_t>(widthMs, 1)))))
        , m_width(std::int64_t{1} << m_shift)
        , m_mask(static_cast<std::uint32_t>(m_buckets.size() - 1))
    {
    }

    std::int64_t span() const { return m_width * static_cast<std::int64_t>(m_buckets.size()); }
    std::size_t size() const { return m_size; }

    void push(const T &item, std::int64_t keyMs)
    {
        if (!m_started) {
            m_cursorMs = floorTo(keyMs);
            m_started = true;
        }
        const auto last = static_cast<std::int64_t>(m_mask);
        const std::int64_t offset =
            std::clamp<std::int64_t>((keyMs - m_cursorMs) >> m_shift, 0, last);
        Bucket &b = m_buckets[(m_cursor + static_cast<std::uint32_t>(offset)) & m_mask];
        if (!b.tail || b.write == kChunk) {
            Chunk *c = takeChunk();
            if (b.tail)
                b.tail->next = c;
            else
                b.head = c;
            b.tail = c;
            b.write = 0;
        }
        b.tail->items[b.write++] = item;
        ++m_size;
    }

    /// Takes an item whose bucket ended by `nowMs` (due, at most `width` ms late); false if none.
    bool popDue(std::int64_t nowMs, T &out)
    {
        if (!m_started)
            return false;
        while (m_cursorMs + m_width <= nowMs) {
            if (m_size == 0) { // nothing scheduled: jump instead of walking empty buckets
                m_cursorMs = floorTo(nowMs);
                return false;
            }
            if (!m_buckets[m_cursor].empty()) {
                out = popFront();
                return true;
            }
            advance();
        }
        return false;
    }

    /// The start of the earliest non-empty bucket (the key popEarliest would give); false if empty.
    bool peekEarliest(std::int64_t &keyMs) const
    {
        if (m_size == 0)
            return false;
        std::uint32_t i = m_cursor;
        std::int64_t t = m_cursorMs;
        while (m_buckets[i].empty()) {
            i = (i + 1) & m_mask;
            t += m_width;
        }
        keyMs = t;
        return true;
    }

    /// Takes the item with the earliest key, due or not, with the start of its bucket in `keyMs`;
    /// false when empty.
    bool popEarliest(std::int64_t &keyMs, T &out)
    {
        if (m_size == 0)
            return false;
        while (m_buckets[m_cursor].empty())
            advance();
        keyMs = m_cursorMs;
        out = popFront();
        return true;
    }

private:
    static constexpr std::size_t kChunk = 256; // records per chunk
    struct Chunk
    {
        T items[kChunk];
        Chunk *next = nullptr;
    };
    struct Bucket
    {
        Chunk *head = nullptr;
        Chunk *tail = nullptr;
        std::size_t read = 0;  // next to pop in head
        std::size_t write = 0; // next free slot in tail
        bool empty() const { return !head; }
    };

    std::int64_t floorTo(std::int64_t ms) const { return ms & ~(m_width - 1); }
    Chunk *takeChunk()
    {
        if (!m_free) {
            m_chunks.push_back(std::make_unique<Chunk>());
            return m_chunks.back().get();
        }
        Chunk *c = m_free;
        m_free = c->next;
        c->next = nullptr;
        return c;
    }
    void giveChunk(Chunk *c)
    {
        c->next = m_free;
        m_free = c;
    }
    T popFront()
    {
        Bucket &b = m_buckets[m_cursor];
        const T item = b.head->items[b.read++];
        if (b.head == b.tail && b.read == b.write) { // the bucket is empty
            giveChunk(b.head);
            b = Bucket{};
        } else if (b.read == kChunk) {
            Chunk *done = b.head;
            b.head = done->next;
            b.read = 0;
            giveChunk(done);
        }
        --m_size;
        return item;
    }
    void advance()
    {
        m_cursor = (m_cursor + 1) & m_mask;
        m_cursorMs += m_width;
    }

    std::vector<Bucket> m_buckets;
    int m_shift;
    std::int64_t m_width;
    std::uint32_t m_mask;
    std::uint32_t m_cursor = 0;  // index of the bucket that starts at m_cursorMs
    std::int64_t m_cursorMs = 0; // aligned to m_width once started
    bool m_started = false;
    std::size_t m_size = 0;
    std::vector<std::unique_ptr<Chunk>> m_chunks; // every chunk made, owned here
    Chunk *m_free = nullptr;
};

/// A first-in, first-out queue of small records in one ring buffer that doubles when full (never
/// shrinks), so a steady flow through it allocates nothing. Not thread-safe.
template <typename T> class RingQueue
{
public:
    bool empty() const { return m_size == 0; }
    std::size_t size() const { return m_size; }
    const T &front() const { return m_ring[m_head]; }

    void push(const T &item)
    {
        if (m_size == m_ring.size())
            grow();
        m_ring[(m_head + m_size) & (m_ring.size() - 1)] = item;
        ++m_size;
    }
    T pop()
    {
        T item = m_ring[m_head];
        m_head = (m_head + 1) & (m_ring.size() - 1);
        --m_size;
        return item;
    }

private:
    void grow()
    {
        std::vector<T> bigger(std::max<std::size_t>(64, m_ring.size() * 2));
        for (std::size_t i = 0; i < m_size; ++i)
            bigger[i] = m_ring[(m_head + i) & (m_ring.size() - 1)];
        m_ring = std::move(bigger);
        m_head = 0;
    }

    std::vector<T> m_ring;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

} // namespace studio::core
