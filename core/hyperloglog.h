#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace studio::core {

/// MurmurHash3 x64-128 (seed 0), its first 64 bits: the hash postgresql-hll's hll_hash_* use, so
/// sketches built here follow that extension's register layout.
std::uint64_t murmurHash64(std::string_view data, std::uint32_t seed = 0);

/// A HyperLogLog distinct counter with 2^log2m registers (default 2^14: about 0.8% standard
/// error). Registers follow postgresql-hll: the low log2m bits of the hash pick the register, the
/// position of the lowest set bit of the rest (1-based) is its value. Registers are allocated on
/// the first add, so an empty sketch costs nothing; estimate() is O(1). Not thread-safe.
class HyperLogLog
{
public:
    static constexpr int kDefaultLog2m = 14;

    explicit HyperLogLog(int log2m = kDefaultLog2m);

    void addHash(std::uint64_t hash);
    void add(std::string_view value) { addHash(murmurHash64(value)); }
    /// Register-wise maximum; both must have the same log2m.
    void merge(const HyperLogLog &other);
    double estimate() const;

    int log2m() const { return m_log2m; }
    bool empty() const { return m_registers.empty(); }
    const std::vector<std::uint8_t> &registers() const { return m_registers; }
    std::size_t memoryBytes() const { return m_registers.capacity(); }

private:
    int m_log2m;
    std::vector<std::uint8_t> m_registers;
    // Kept up to date on every register change, so estimate() is O(1) (snapshots take it often).
    double m_inverseSum = 0;
    std::uint32_t m_zeros = 0;
};

} // namespace studio::core
