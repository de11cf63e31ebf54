#include "core/hyperloglog.h"

#include <algorithm>
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

} // namespace

// Austin Appleby's MurmurHash3_x64_128 (public domain), returning h1.
std::uint64_t murmurHash64(std::string_view data, std::uint32_t seed)
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
    case 15: k2 ^= std::uint64_t(tail[14]) << 48; [[fallthrough]];
    case 14: k2 ^= std::uint64_t(tail[13]) << 40; [[fallthrough]];
    case 13: k2 ^= std::uint64_t(tail[12]) << 32; [[fallthrough]];
    case 12: k2 ^= std::uint64_t(tail[11]) << 24; [[fallthrough]];
    case 11: k2 ^= std::uint64_t(tail[10]) << 16; [[fallthrough]];
    case 10: k2 ^= std::uint64_t(tail[9]) << 8; [[fallthrough]];
    case 9:
        k2 ^= std::uint64_t(tail[8]);
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        [[fallthrough]];
    case 8: k1 ^= std::uint64_t(tail[7]) << 56; [[fallthrough]];
    case 7: k1 ^= std::uint64_t(tail[6]) << 48; [[fallthrough]];
    case 6: k1 ^= std::uint64_t(tail[5]) << 40; [[fallthrough]];
    case 5: k1 ^= std::uint64_t(tail[4]) << 32; [[fallthrough]];
    case 4: k1 ^= std::uint64_t(tail[3]) << 24; [[fallthrough]];
    case 3: k1 ^= std::uint64_t(tail[2]) << 16; [[fallthrough]];
    case 2: k1 ^= std::uint64_t(tail[1]) << 8; [[fallthrough]];
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
    return h1;
}

HyperLogLog::HyperLogLog(int log2m)
    : m_log2m(std::clamp(log2m, 4, 18))
{}

void HyperLogLog::addHash(std::uint64_t hash)
{
    if (m_registers.empty()) {
        m_registers.assign(std::size_t{1} << m_log2m, 0);
        m_inverseSum = static_cast<double>(m_registers.size());
        m_zeros = static_cast<std::uint32_t>(m_registers.size());
    }
    const std::size_t index = hash & ((std::uint64_t{1} << m_log2m) - 1);
    const std::uint64_t rest = hash >> m_log2m;
    // 1-based position of the lowest set bit; all-zero rest gets the largest possible value.
    const auto rho = static_cast<std::uint8_t>(rest == 0 ? 64 - m_log2m + 1
                                                         : std::countr_zero(rest) + 1);
    const std::uint8_t old = m_registers[index];
    if (rho > old) {
        m_inverseSum += std::ldexp(1.0, -rho) - std::ldexp(1.0, -old);
        m_zeros -= old == 0;
        m_registers[index] = rho;
    }
}

void HyperLogLog::merge(const HyperLogLog &other)
{
    if (other.m_registers.empty() || other.m_log2m != m_log2m)
        return;
    if (m_registers.empty()) {
        *this = other;
        return;
    }
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
        return 0;
    const double m = static_cast<double>(m_registers.size());
    const double sum = m_inverseSum;
    const double zeros = m_zeros;
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    const double raw = alpha * m * m / sum;
    if (raw <= 2.5 * m && zeros > 0)
        return m * std::log(m / zeros); // linear counting, small range
    return raw;
}

} // namespace studio::core
