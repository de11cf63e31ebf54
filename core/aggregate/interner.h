#pragma once

// Building blocks of the aggregator's hot path: a fast in-memory string hash, the interner that
// maps names to dense ids, and the set of a session's distinct pages. Plain values, not
// thread-safe: the aggregator uses them under its lock.

#include <array>
#include <bit>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core::internal {

/// A fast 64-bit string hash in the style of wyhash (final version 4), for names interned and
/// event ids remembered: only in memory, never persisted. Reads only the bytes of `s`. (User and
/// session ids keep MurmurHash3: the sketches need postgresql-hll's hash.)
std::uint64_t fastHash(std::string_view s);

/// A 64-bit key that is a hash already: a hash table takes it as it is.
struct PremixedHash
{
    std::size_t operator()(std::uint64_t h) const { return h; }
};

inline constexpr std::uint32_t kDroppedId = UINT32_MAX; ///< Interner::compact: a key not kept

/// Keys of N strings (a page; a country, browser and device triple) mapped to small dense ids,
/// so per-window state is a vector, not a map. Open addressing over the keys' fastHash, the
/// slots pointing at the keys themselves. Instantiated for N = 1 and 3.
template <std::size_t N> class Interner
{
public:
    using Key = std::array<std::string, N>;
    using KeyView = std::array<std::string_view, N>;

    Interner();
    /// The id of `parts`, a new one (the next dense id) the first time.
    std::uint32_t id(const KeyView &parts);
    std::uint32_t id(std::string_view s) requires(N == 1) { return id(KeyView{s}); }
    /// The same, with `hash` == hashOf(parts) computed by the caller.
    std::uint32_t id(const KeyView &parts, std::uint64_t hash);
    /// The id of `parts` if interned, else kDroppedId; `hash` == hashOf(parts).
    std::uint32_t find(const KeyView &parts, std::uint64_t hash) const;
    /// The hash the interner files `parts` under (fastHash for N == 1).
    static std::uint64_t hashOf(const KeyView &parts);
    /// Estimated heap bytes of the keys and the slot table (kept as keys come and go: O(1)).
    std::uint64_t memoryBytes() const;
    const Key &key(std::uint32_t id) const { return m_keys[id]; }
    const std::string &name(std::uint32_t id) const requires(N == 1) { return m_keys[id][0]; }
    std::size_t size() const { return m_keys.size(); }

    /// Keeps the keys whose `keep` flag is set, renumbered densely in their old order; returns
    /// old id -> new id (kDroppedId for the others).
    std::vector<std::uint32_t> compact(const std::vector<char> &keep);

private:
    struct Slot
    {
        std::uint64_t hash = 0;
        const Key *key = nullptr;      // in m_keys (a deque: it does not move)
        std::uint32_t id = UINT32_MAX; // UINT32_MAX: empty
    };
    void place(std::uint64_t h, std::uint32_t id);
    void rebuild(std::size_t slots);

    std::vector<Slot> m_slots; // a power of two, at most half full
    std::deque<Key> m_keys;
    std::uint64_t m_nameBytes = 0; // heap bytes of the keys' strings (beyond their inline buffer)
};

/// The distinct page ids of a session. Ids below 128 (the pages of most sites: ids are dense)
/// are bits inside the session itself, so the common case costs no memory access of its own;
/// higher ids are kept in the order they were added (so a checkpoint increment can write only
/// the ones added since the last), in a list scanned while short, then with an open-addressing
/// index beside it (a long session visits hundreds of pages, and every event asks).
class PageSet
{
public:
    /// Adds `id`; false if it was there already.
    bool insert(std::uint32_t id)
    {
        if (id < kInline) [[likely]] {
            std::uint64_t &word = m_low[id / 64];
            const std::uint64_t bit = std::uint64_t{1} << (id % 64);
            const bool added = (word & bit) == 0;
            word |= bit;
            return added;
        }
        return insertHigh(id);
    }
    std::size_t size() const
    {
        return static_cast<std::size_t>(std::popcount(m_low[0]) + std::popcount(m_low[1])) +
               m_highCount;
    }
    /// Calls fn(id) for every id: the low ones by value, then the high ones as added.
    template <class Fn> void forEach(Fn &&fn) const
    {
        forEachLow(fn);
        forEachHighFrom(0, fn);
    }
    /// Calls fn(id) for every id below 128.
    template <class Fn> void forEachLow(Fn &&fn) const
    {
        for (std::uint32_t w = 0; w < 2; ++w) {
            for (std::uint64_t bits = m_low[w]; bits != 0; bits &= bits - 1)
                fn(w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits)));
        }
    }
    /// How many ids from 128 up: those added after the first highCount() of an earlier call are
    /// forEachHighFrom(that count).
    std::uint32_t highCount() const { return m_highCount; }
    /// Calls fn(id) for the ids from 128 up, in the order they were added, from the `from`-th.
    template <class Fn> void forEachHighFrom(std::uint32_t from, Fn &&fn) const
    {
        for (std::uint32_t i = from; i < m_highCount; ++i)
            fn(m_high[i]);
    }
    /// Renumbers every id (after an Interner::compact that kept them all). The order of the high
    /// ids that stay high is kept; ids that become low or high move.
    void remap(const std::vector<std::uint32_t> &map);
    /// Heap bytes held (the index and list of high ids).
    std::size_t heapBytes() const { return m_high.capacity() * sizeof(std::uint32_t); }

private:
    static constexpr std::uint32_t kInline = 128;
    static constexpr std::uint32_t kScanMax = 16;
    bool insertHigh(std::uint32_t id);
    void rebuild(std::size_t tableSize);

    std::uint64_t m_low[2] = {};
    // Ids from kInline up: while m_highCount <= kScanMax just the list (in insertion order);
    // beyond, the list at [0, tableSize / 2) and an index of id + 1 (0: empty) at
    // [tableSize / 2, tableSize / 2 + tableSize), at most half full.
    std::vector<std::uint32_t> m_high;
    std::uint32_t m_highCount = 0;
};

} // namespace studio::core::internal
