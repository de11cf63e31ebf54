#include "core/aggregate/interner.h"

#include <algorithm>
#include <cstring>

namespace studio::core::internal {

namespace {

__extension__ typedef unsigned __int128 Uint128;

constexpr std::uint64_t kHashK0 = 0xa0761d6478bd642fULL, kHashK1 = 0xe7037ed1a0b428dbULL;

std::uint64_t load64(const char *p)
{
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

std::uint64_t load32(const char *p)
{
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// The 128-bit product of a and b folded to 64 bits (wyhash's mixing step).
std::uint64_t mum(std::uint64_t a, std::uint64_t b)
{
    const Uint128 r = static_cast<Uint128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

// The bytes of `s` (at most 16) as two words, wyhash's way: every byte lands in one of them.
void shortWords(std::string_view s, std::uint64_t &a, std::uint64_t &b)
{
    const char *p = s.data();
    const std::size_t n = s.size();
    a = b = 0;
    if (n >= 4) {
        const std::size_t mid = (n >> 3) << 2; // 0 below 8 bytes, else 4
        a = (load32(p) << 32) | load32(p + mid);
        b = (load32(p + n - 4) << 32) | load32(p + n - 4 - mid);
    } else if (n > 0) {
        const auto byte = [&](std::size_t i) {
            return std::uint64_t(std::uint8_t(p[i]));
        };
        a = (byte(0) << 16) | (byte(n >> 1) << 8) | byte(n - 1);
    }
}

// One hash of several strings (a geo triple): a chain of one multiplication per short part.
template <class Parts> std::uint64_t hashOfParts(const Parts &parts)
{
    if (parts.size() == 1)
        return fastHash(parts[0]);
    std::uint64_t h = kHashK0;
    for (const std::string_view part : parts) {
        std::uint64_t a, b;
        if (part.size() <= 16) {
            shortWords(part, a, b);
            a ^= std::uint64_t{part.size()} << 56; // ("ab", "c") is not ("a", "bc")
        } else {
            a = fastHash(part);
            b = kHashK1;
        }
        h = mum(a ^ kHashK1, b ^ h);
    }
    return mum(h ^ kHashK1, kHashK0);
}

// Whether the n bytes at a and b are equal; short strings without a call to memcmp.
bool sameBytes(const char *a, const char *b, std::size_t n)
{
    if (n >= 8) {
        if (n > 32)
            return std::memcmp(a, b, n) == 0;
        if (n > 16)
            return load64(a) == load64(b) && load64(a + 8) == load64(b + 8) &&
                   load64(a + n - 16) == load64(b + n - 16) &&
                   load64(a + n - 8) == load64(b + n - 8);
        return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4)
        return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i])
            return false;
    }
    return true;
}

constexpr std::uint32_t kEmpty = UINT32_MAX;
constexpr std::size_t kMinSlots = 64;

} // namespace

std::uint64_t fastHash(std::string_view s)
{
    const char *p = s.data();
    const std::size_t n = s.size();
    std::uint64_t seed = kHashK0;
    std::uint64_t a, b;
    if (n <= 16) {
        shortWords(s, a, b);
    } else {
        std::size_t left = n;
        while (left > 16) {
            seed = mum(load64(p) ^ kHashK1, load64(p + 8) ^ seed);
            p += 16;
            left -= 16;
        }
        a = load64(p + left - 16);
        b = load64(p + left - 8);
    }
    return mum(kHashK1 ^ n, mum(a ^ kHashK1, b ^ seed));
}

template <std::size_t N>
Interner<N>::Interner()
    : m_slots(kMinSlots)
{
}

template <std::size_t N> std::uint64_t Interner<N>::hashOf(const KeyView &parts)
{
    return hashOfParts(parts);
}

template <std::size_t N>
std::uint32_t Interner<N>::find(const KeyView &parts, std::uint64_t h) const
{
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot &slot = m_slots[i];
        if (slot.id == kEmpty)
            return kDroppedId;
        if (slot.hash != h)
            continue;
        bool same = true;
        for (std::size_t p = 0; p < N && same; ++p) {
            const std::string &have = (*slot.key)[p];
            same = have.size() == parts[p].size() &&
                   sameBytes(have.data(), parts[p].data(), have.size());
        }
        if (same)
            return slot.id;
    }
}

namespace {
template <class Key> std::uint64_t heapBytesOf(const Key &key)
{
    std::uint64_t bytes = 0;
    for (const std::string &part : key) {
        if (part.capacity() > 15) // beyond the small-string buffer
            bytes += part.capacity() + 1;
    }
    return bytes;
}
} // namespace

template <std::size_t N> std::uint64_t Interner<N>::memoryBytes() const
{
    return m_slots.capacity() * sizeof(Slot) + m_keys.size() * sizeof(Key) + m_nameBytes;
}

template <std::size_t N> std::uint32_t Interner<N>::id(const KeyView &parts)
{
    return id(parts, hashOfParts(parts));
}

template <std::size_t N> std::uint32_t Interner<N>::id(const KeyView &parts, std::uint64_t h)
{
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot &slot = m_slots[i];
        if (slot.id == kEmpty)
            break;
        if (slot.hash != h)
            continue;
        bool same = true;
        for (std::size_t p = 0; p < N && same; ++p) {
            const std::string &have = (*slot.key)[p];
            same = have.size() == parts[p].size() &&
                   sameBytes(have.data(), parts[p].data(), have.size());
        }
        if (same) [[likely]]
            return slot.id;
    }
    const auto id = static_cast<std::uint32_t>(m_keys.size());
    Key &key = m_keys.emplace_back();
    for (std::size_t p = 0; p < N; ++p)
        key[p].assign(parts[p]);
    m_nameBytes += heapBytesOf(key);
    if (m_keys.size() * 2 > m_slots.size())
        rebuild(m_slots.size() * 2);
    else
        place(h, id);
    return id;
}

template <std::size_t N>
std::vector<std::uint32_t> Interner<N>::compact(const std::vector<char> &keep)
{
    std::vector<std::uint32_t> remap(m_keys.size(), kDroppedId);
    std::deque<Key> keys;
    for (std::size_t old = 0; old < m_keys.size(); ++old) {
        if (old < keep.size() && keep[old]) {
            remap[old] = static_cast<std::uint32_t>(keys.size());
            keys.push_back(std::move(m_keys[old]));
        }
    }
    m_keys.swap(keys);
    m_nameBytes = 0;
    for (const Key &key : m_keys)
        m_nameBytes += heapBytesOf(key);
    rebuild(std::max<std::size_t>(kMinSlots, std::bit_ceil(m_keys.size() * 2 + 1)));
    return remap;
}

template <std::size_t N> void Interner<N>::place(std::uint64_t h, std::uint32_t id)
{
    const std::size_t mask = m_slots.size() - 1;
    std::size_t i = h & mask;
    while (m_slots[i].id != kEmpty)
        i = (i + 1) & mask;
    m_slots[i] = {h, &m_keys[id], id};
}

template <std::size_t N> void Interner<N>::rebuild(std::size_t slots)
{
    m_slots.assign(slots, Slot{});
    for (std::uint32_t id = 0; id < m_keys.size(); ++id) {
        KeyView parts;
        for (std::size_t p = 0; p < N; ++p)
            parts[p] = m_keys[id][p];
        place(hashOfParts(parts), id);
    }
}

template class Interner<1>;
template class Interner<3>;

namespace {

std::size_t slotOf(std::uint32_t id, std::size_t mask)
{
    return static_cast<std::size_t>((std::uint64_t{id} * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

} // namespace

void PageSet::remap(const std::vector<std::uint32_t> &map)
{
    std::vector<std::uint32_t> ids;
    forEach([&](std::uint32_t id) { ids.push_back(map[id]); });
    *this = PageSet{};
    for (const std::uint32_t id : ids)
        insert(id);
}

bool PageSet::insertHigh(std::uint32_t id)
{
    if (m_highCount <= kScanMax) { // m_high is the list
        if (std::find(m_high.begin(), m_high.end(), id) != m_high.end())
            return false;
        m_high.push_back(id);
        if (++m_highCount > kScanMax)
            rebuild(std::bit_ceil(std::size_t{m_highCount} * 4));
        return true;
    }
    std::size_t tableSize = (m_high.size() / 3) * 2;
    std::uint32_t *table = m_high.data() + tableSize / 2;
    const std::size_t mask = tableSize - 1;
    std::size_t i = slotOf(id, mask);
    for (;; i = (i + 1) & mask) {
        if (table[i] == id + 1)
            return false;
        if (table[i] == 0)
            break;
    }
    if ((std::size_t{m_highCount} + 1) * 2 > tableSize) {
        rebuild(tableSize * 2);
        tableSize *= 2;
        table = m_high.data() + tableSize / 2;
        i = slotOf(id, tableSize - 1);
        while (table[i] != 0)
            i = (i + 1) & (tableSize - 1);
    }
    table[i] = id + 1;
    m_high[m_highCount++] = id;
    return true;
}

void PageSet::rebuild(std::size_t tableSize)
{
    std::vector<std::uint32_t> next(tableSize / 2 + tableSize, 0);
    std::copy(m_high.begin(), m_high.begin() + m_highCount, next.begin());
    std::uint32_t *table = next.data() + tableSize / 2;
    const std::size_t mask = tableSize - 1;
    for (std::uint32_t k = 0; k < m_highCount; ++k) {
        std::size_t i = slotOf(next[k], mask);
        while (table[i] != 0)
            i = (i + 1) & mask;
        table[i] = next[k] + 1;
    }
    m_high.swap(next);
}

} // namespace studio::core::internal
