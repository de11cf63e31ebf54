#include "core/aggregate/hyperloglog.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

namespace studio::core {

namespace {

inline std::uint64_t rotl64(std::uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

inline std::uint64_t fmix64(std::uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

// 2^-k for every register value, so updates need no ldexp.
const std::array<double, 66> kInversePowers = [] {
    std::array<double, 66> t{};
    for (std::size_t k = 0; k < t.size(); ++k)
        t[k] = std::ldexp(1.0, -static_cast<int>(k));
    return t;
}();

// Open addressing with linear probing; false if `hash` was there already.
bool insertExplicit(std::vector<std::uint64_t> &table, std::uint64_t hash)
{
    const std::size_t mask = table.size() - 1;
    std::size_t slot = (hash >> 32) & mask; // the high bits: the low ones pick registers
    while (table[slot] != 0 && table[slot] != hash)
        slot = (slot + 1) & mask;
    if (table[slot] == hash)
        return false;
    table[slot] = hash;
    return true;
}

} // namespace

std::uint64_t murmurHash64(std::string_view data, std::uint32_t seed)
{
    return murmurHash128(data, seed).first;
}

// Austin Appleby's MurmurHash3_x64_128 (public domain).
std::pair<std::uint64_t, std::uint64_t> murmurHash128(std::string_view data, std::uint32_t seed)
{
    const auto *bytes = reinterpret_cast<const std::uint8_t *>(data.data());
    const std::size_t len = data.size();
    const std::size_t nblocks = len / 16;
    std::uint64_t h1 = seed;
    std::uint64_t h2 = seed;
    constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
    constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;

    for (std::size_t i = 0; i < nblocks; ++i) {
        std::uint64_t k1, k2;
        std::memcpy(&k1, bytes + i * 16, 8);
        std::memcpy(&k2, bytes + i * 16 + 8, 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    const std::uint8_t *tail = bytes + nblocks * 16;
    std::uint64_t k1 = 0, k2 = 0;
    switch (len & 15) {
    case 15:
        k2 ^= std::uint64_t(tail[14]) << 48;
        [[fallthrough]];
    case 14:
        k2 ^= std::uint64_t(tail[13]) << 40;
        [[fallthrough]];
    case 13:
        k2 ^= std::uint64_t(tail[12]) << 32;
        [[fallthrough]];
    case 12:
        k2 ^= std::uint64_t(tail[11]) << 24;
        [[fallthrough]];
    case 11:
        k2 ^= std::uint64_t(tail[10]) << 16;
        [[fallthrough]];
    case 10:
        k2 ^= std::uint64_t(tail[9]) << 8;
        [[fallthrough]];
    case 9:
        k2 ^= std::uint64_t(tail[8]);
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        [[fallthrough]];
    case 8:
        k1 ^= std::uint64_t(tail[7]) << 56;
        [[fallthrough]];
    case 7:
        k1 ^= std::uint64_t(tail[6]) << 48;
        [[fallthrough]];
    case 6:
        k1 ^= std::uint64_t(tail[5]) << 40;
        [[fallthrough]];
    case 5:
        k1 ^= std::uint64_t(tail[4]) << 32;
        [[fallthrough]];
    case 4:
        k1 ^= std::uint64_t(tail[3]) << 24;
        [[fallthrough]];
    case 3:
        k1 ^= std::uint64_t(tail[2]) << 16;
        [[fallthrough]];
    case 2:
        k1 ^= std::uint64_t(tail[1]) << 8;
        [[fallthrough]];
    case 1:
        k1 ^= std::uint64_t(tail[0]);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        break;
    default:
        break;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    return {h1, h2};
}

HyperLogLog::HyperLogLog(int log2m)
    : m_log2m(std::clamp(log2m, 4, 18))
{
}

std::vector<std::uint64_t> HyperLogLog::explicitHashes() const
{
    std::vector<std::uint64_t> out;
    if (!isExplicit())
        return out;
    if (m_hasZero)
        out.push_back(0);
    for (const std::uint64_t h : m_table) {
        if (h != 0)
            out.push_back(h);
    }
    return out;
}

void HyperLogLog::addHash(std::uint64_t hash)
{
    if (!m_registers.empty()) {
        addToRegisters(hash);
        return;
    }
    if (hash == 0) {
        if (!m_hasZero)
            logChange(0);
        m_explicitCount += !m_hasZero;
        m_hasZero = true;
    } else {
        if (m_table.empty())
            m_table.assign(16, 0);
        if (!insertExplicit(m_table, hash))
            return;
        ++m_explicitCount;
        logChange(hash);
        if (m_explicitCount * 2 > m_table.size() && m_explicitCount <= kExplicitMax) {
            // Grow (at most to 2 * kExplicitMax slots): small sketches stay small.
            std::vector<std::uint64_t> bigger(m_table.size() * 2, 0);
            for (const std::uint64_t h : m_table) {
                if (h != 0)
                    insertExplicit(bigger, h);
            }
            m_table.swap(bigger);
        }
    }
    if (m_explicitCount > kExplicitMax)
        promote();
}

void HyperLogLog::promote()
{
    // The change log goes on listing hashes (changeLogHashes()): replayed on a copy, they turn
    // it dense at this same point. The hashes folded in here are not changes.
    const std::vector<std::uint64_t> hashes = explicitHashes();
    m_registers.assign(std::size_t{1} << m_log2m, 0);
    m_inverseSum = static_cast<double>(m_registers.size());
    m_zeros = static_cast<std::uint32_t>(m_registers.size());
    for (const std::uint64_t h : hashes)
        addToRegisters(h, false);
    std::vector<std::uint64_t>().swap(m_table);
    m_explicitCount = 0;
    m_hasZero = false;
}

void HyperLogLog::logChange(std::uint64_t entry)
{
    // Listing more than an eighth of the registers (or 256 changes: 2 KB) costs about what the
    // whole sketch does, and would hold memory for it.
    if (m_logWhole || !m_tracking)
        return;
    if (m_log.size() >= std::min<std::size_t>(256, (std::size_t{1} << m_log2m) / 8)) {
        m_logWhole = true;
        std::vector<std::uint64_t>().swap(m_log);
        return;
    }
    m_log.push_back(entry);
}

void HyperLogLog::markSaved()
{
    m_tracking = true;
    m_logWhole = false;
    m_logHashes = isExplicit();
    if (m_log.capacity() > 64)
        std::vector<std::uint64_t>().swap(m_log);
    else
        m_log.clear();
}

void HyperLogLog::raiseRegister(std::size_t index, std::uint8_t value)
{
    if (index >= m_registers.size())
        return;
    const std::uint8_t old = m_registers[index];
    if (value > old) {
        m_inverseSum += kInversePowers[value] - kInversePowers[old];
        m_zeros -= old == 0;
        m_registers[index] = value;
    }
}

void HyperLogLog::addToRegisters(std::uint64_t hash, bool log)
{
    const std::size_t index = hash & ((std::uint64_t{1} << m_log2m) - 1);
    const std::uint64_t rest = hash >> m_log2m;
    // 1-based position of the lowest set bit; all-zero rest gets the largest possible value.
    const auto rho =
        static_cast<std::uint8_t>(rest == 0 ? 64 - m_log2m + 1 : std::countr_zero(rest) + 1);
    const std::uint8_t old = m_registers[index];
    if (rho > old) {
        m_inverseSum += kInversePowers[rho] - kInversePowers[old];
        m_zeros -= old == 0;
        m_registers[index] = rho;
        if (log)
            logChange(m_logHashes ? hash : index);
    }
}

void HyperLogLog::merge(const HyperLogLog &other)
{
    if (other.empty() || other.m_log2m != m_log2m)
        return;
    if (other.isExplicit()) {
        if (other.m_hasZero)
            addHash(0);
        for (const std::uint64_t h : other.m_table) { // no copy: snapshots merge thousands
            if (h != 0)
                addHash(h);
        }
        return;
    }
    if (isExplicit())
        promote();
    m_logWhole = true;
    std::vector<std::uint64_t>().swap(m_log);
    m_inverseSum = 0;
    m_zeros = 0;
    for (std::size_t i = 0; i < m_registers.size(); ++i) {
        m_registers[i] = std::max(m_registers[i], other.m_registers[i]);
        m_inverseSum += std::ldexp(1.0, -m_registers[i]);
        m_zeros += m_registers[i] == 0;
    }
}

double HyperLogLog::estimate() const
{
    if (m_registers.empty())
        return m_explicitCount;
    const double m = static_cast<double>(m_registers.size());
    const double sum = m_inverseSum;
    const double zeros = m_zeros;
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    const double raw = alpha * m * m / sum;
    if (raw <= 2.5 * m && zeros > 0)
        return m * std::log(m / zeros); // linear counting, small range
    return raw;
}

// ---- postgresql-hll storage format, schema version 1 --------------------------------------------
// Byte 0: schema version (high nibble) and type (low nibble: 0 undefined, 1 EMPTY, 2 EXPLICIT,
// 3 SPARSE, 4 FULL); byte 1: (regwidth - 1) << 5 | log2m; byte 2: sparse-enabled bit (0x40) and the
// explicit cutoff c (the set turns into registers past 2^(c-1) values; 0 none, 63 auto). Then the
// data: EXPLICIT 8-byte big-endian signed values in ascending order, SPARSE bit-packed
// (index, value) words, FULL bit-packed registers; bits packed from the top of each byte down.

namespace {

// postgresql-hll's default register width. Its hll_cardinality overflows (NaN) past the linear
// counting range with 6-bit registers, so ours are written in 5 bits, values above 31 clamped to
// 31 as that extension clamps them: such a value needs 31 trailing zero bits (p = 2^-31).
constexpr int kHllRegWidth = 5;
constexpr std::uint8_t kHllMaxRegister = (1u << kHllRegWidth) - 1;

void setHllError(std::string *error, std::string message)
{
    if (error)
        *error = "HyperLogLog bytes: " + std::move(message);
}

std::uint64_t readBits(std::string_view data, std::size_t bitOffset, int width)
{
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i) {
        const std::size_t bit = bitOffset + static_cast<std::size_t>(i);
        const auto byte = static_cast<std::uint8_t>(data[bit / 8]);
        value = (value << 1) | ((byte >> (7 - bit % 8)) & 1u);
    }
    return value;
}

} // namespace

std::string HyperLogLog::toHllBytes() const
{
    const int type = empty() ? 1 : isExplicit() ? 2 : 4;
    int cutoff = 1;
    while ((std::size_t{1} << (cutoff - 1)) < kExplicitMax)
        ++cutoff;
    std::string out;
    out.push_back(static_cast<char>(0x10 | type));
    out.push_back(static_cast<char>(((kHllRegWidth - 1) << 5) | m_log2m));
    out.push_back(static_cast<char>(cutoff)); // SPARSE off
    if (type == 2) {
        std::vector<std::uint64_t> hashes = explicitHashes();
        std::sort(hashes.begin(), hashes.end(), [](std::uint64_t a, std::uint64_t b) {
            return static_cast<std::int64_t>(a) < static_cast<std::int64_t>(b);
        });
        for (const std::uint64_t h : hashes) {
            for (int shift = 56; shift >= 0; shift -= 8)
                out.push_back(static_cast<char>((h >> shift) & 0xff));
        }
    } else if (type == 4) {
        const std::size_t bits = m_registers.size() * kHllRegWidth;
        const std::size_t base = out.size();
        out.resize(base + (bits + 7) / 8, '\0');
        std::size_t bit = 0;
        for (const std::uint8_t value : m_registers) {
            const std::uint8_t reg = std::min(value, kHllMaxRegister);
            for (int i = kHllRegWidth - 1; i >= 0; --i, ++bit) {
                if ((reg >> i) & 1u)
                    out[base + bit / 8] = static_cast<char>(
                        static_cast<std::uint8_t>(out[base + bit / 8]) | (0x80u >> (bit % 8)));
            }
        }
    }
    return out;
}

std::optional<HyperLogLog> HyperLogLog::fromHllBytes(std::string_view bytes, std::string *error)
{
    if (bytes.size() < 3)
        return setHllError(error, "shorter than the 3 header bytes"), std::nullopt;
    const auto version = static_cast<std::uint8_t>(bytes[0]) >> 4;
    const auto type = static_cast<std::uint8_t>(bytes[0]) & 0x0f;
    const int regWidth = (static_cast<std::uint8_t>(bytes[1]) >> 5) + 1;
    const int log2m = static_cast<std::uint8_t>(bytes[1]) & 0x1f;
    if (version != 1)
        return setHllError(error, "schema version " + std::to_string(version) +
                                      " is not supported (only 1)"),
               std::nullopt;
    if (log2m < 4 || log2m > 18)
        return setHllError(error, "log2m " + std::to_string(log2m) + " is outside 4..18"),
               std::nullopt;
    const std::string_view data = bytes.substr(3);
    HyperLogLog hll(log2m);
    const std::size_t m = std::size_t{1} << log2m;
    const auto maxValue = static_cast<std::uint8_t>(64 - log2m + 1);
    auto setRegisters = [&](auto &&forEach) {
        hll.m_registers.assign(m, 0);
        forEach([&](std::size_t index, std::uint64_t value) {
            hll.m_registers[index] =
                std::max(hll.m_registers[index],
                         static_cast<std::uint8_t>(std::min<std::uint64_t>(value, maxValue)));
        });
        hll.m_inverseSum = 0;
        hll.m_zeros = 0;
        for (const std::uint8_t r : hll.m_registers) {
            hll.m_inverseSum += kInversePowers[r];
            hll.m_zeros += r == 0;
        }
    };
    switch (type) {
    case 1:
        if (!data.empty())
            return setHllError(error, "an EMPTY sketch with data bytes"), std::nullopt;
        return hll;
    case 2:
        if (data.size() % 8 != 0)
            return setHllError(error, "EXPLICIT data is not a whole number of 8-byte values"),
                   std::nullopt;
        for (std::size_t at = 0; at < data.size(); at += 8) {
            std::uint64_t h = 0;
            for (std::size_t i = 0; i < 8; ++i)
                h = (h << 8) | static_cast<std::uint8_t>(data[at + i]);
            hll.addHash(h);
        }
        return hll;
    case 3: {
        const int wordBits = log2m + regWidth;
        const std::size_t words = data.size() * 8 / static_cast<std::size_t>(wordBits);
        // Padding is less than one byte, so no full word fits in it.
        if ((data.size() * 8) % static_cast<std::size_t>(wordBits) >= 8)
            return setHllError(error, "SPARSE data has a partial word"), std::nullopt;
        setRegisters([&](auto &&set) {
            for (std::size_t w = 0; w < words; ++w) {
                const std::uint64_t word = readBits(data, w * wordBits, wordBits);
                set(static_cast<std::size_t>(word >> regWidth), word & ((1u << regWidth) - 1));
            }
        });
        return hll;
    }
    case 4:
        if (data.size() != (m * static_cast<std::size_t>(regWidth) + 7) / 8)
            return setHllError(error, "FULL data has " + std::to_string(data.size()) +
                                          " bytes, expected " +
                                          std::to_string((m * regWidth + 7) / 8)),
                   std::nullopt;
        setRegisters([&](auto &&set) {
            for (std::size_t i = 0; i < m; ++i)
                set(i, readBits(data, i * static_cast<std::size_t>(regWidth), regWidth));
        });
        return hll;
    default:
        return setHllError(error, type == 0 ? "the sketch is UNDEFINED"
                                            : "unknown type " + std::to_string(type)),
               std::nullopt;
    }
}

} // namespace studio::core
