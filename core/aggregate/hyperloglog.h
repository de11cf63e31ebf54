#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace studio::core {

/// MurmurHash3 x64-128 (seed 0), its first 64 bits: the hash postgresql-hll's hll_hash_* use, so
/// sketches built here follow that extension's register layout.
std::uint64_t murmurHash64(std::string_view data, std::uint32_t seed = 0);
/// Both halves (h1, h2) of MurmurHash3 x64-128.
std::pair<std::uint64_t, std::uint64_t> murmurHash128(std::string_view data, std::uint32_t seed);

/// A HyperLogLog distinct counter with 2^log2m registers (default 2^14: about 0.8% standard
/// error). Like postgresql-hll it starts EXPLICIT: up to kExplicitMax distinct hashes are kept
/// exactly (so small counts are exact, not within a few units), then it turns into registers:
/// the low log2m bits of the hash pick the register, the position of the lowest set bit of the
/// rest (1-based) is its value. An empty sketch costs nothing; estimate() is O(1).
/// Not thread-safe.
class HyperLogLog
{
public:
    static constexpr int kDefaultLog2m = 14;
    static constexpr std::size_t kExplicitMax = 512;

    explicit HyperLogLog(int log2m = kDefaultLog2m);

    void addHash(std::uint64_t hash);
    void add(std::string_view value) { addHash(murmurHash64(value)); }
    /// Asks the CPU for the memory addHash(hash) will touch first, without changing anything, so
    /// a caller can overlap that cache miss with other work.
    void prefetch(std::uint64_t hash) const
    {
        if (!m_registers.empty())
            __builtin_prefetch(m_registers.data() + (hash & ((std::uint64_t{1} << m_log2m) - 1)));
        else if (!m_table.empty())
            __builtin_prefetch(m_table.data() + ((hash >> 32) & (m_table.size() - 1)));
    }
    /// Register-wise maximum; both must have the same log2m.
    void merge(const HyperLogLog &other);
    double estimate() const;

    int log2m() const { return m_log2m; }
    bool empty() const { return m_registers.empty() && m_explicitCount == 0; }
    bool isExplicit() const { return m_registers.empty(); }
    /// The distinct hashes while explicit (unordered), else empty.
    std::vector<std::uint64_t> explicitHashes() const;
    /// The registers once dense, else empty.
    const std::vector<std::uint8_t> &registers() const { return m_registers; }
    std::size_t memoryBytes() const
    {
        return m_registers.capacity() + m_table.capacity() * sizeof(std::uint64_t);
    }

    /// The sketch in postgresql-hll's storage format, schema version 1 (EMPTY, EXPLICIT = sorted
    /// signed 64-bit hashes, or FULL = 5-bit registers, values above 31 clamped as that extension
    /// does), with this log2m, an explicit cutoff of kExplicitMax and SPARSE off: the bytes cast
    /// to its `hll` type, equal to hll_add_agg(hll_hash_text(v), log2m, 5, 512, 0) of the same
    /// values, so hll_union_agg can merge sketches inside PostgreSQL.
    std::string toHllBytes() const;
    /// Reads that format back (EMPTY, EXPLICIT, SPARSE or FULL; register width 1 to 8). nullopt
    /// with a message for anything else: an undefined sketch, another schema version, a log2m
    /// outside 4..18, or a length that does not match.
    static std::optional<HyperLogLog> fromHllBytes(std::string_view bytes,
                                                   std::string *error = nullptr);

    // ---- checkpoint increments (issue 19) ----
    // What changed since the last markSaved(): while explicit, the hashes added; once dense, the
    // indices of the registers raised. An increment carries only those (a few bytes) instead of
    // the whole sketch (up to 10 KB), and applying them gives the same sketch. changedWhole():
    // too much changed (or it turned dense) to be worth listing: write it whole.

    /// Also true for a sketch never saved (nothing is logged until its first markSaved(): an
    /// aggregator that never checkpoints pays nothing).
    bool changedWhole() const { return m_logWhole || !m_tracking; }
    /// Whether changeLog() lists hashes (the sketch was explicit at the last markSaved(); it
    /// keeps listing the hashes that raise a register after it turns dense, so replaying them
    /// with addHash() turns the copy dense at the same point) rather than register indices.
    bool changeLogHashes() const { return m_logHashes; }
    const std::vector<std::uint64_t> &changeLog() const { return m_log; }
    std::uint8_t registerAt(std::size_t index) const { return m_registers[index]; }
    /// Raises register `index` to `value` (no-op when lower); a dense sketch only.
    void raiseRegister(std::size_t index, std::uint8_t value);
    void markSaved();
    /// Stops logging and frees the log: for a sketch leaving the open state (a final row kept
    /// for snapshots would otherwise hold up to 2 KB of log each).
    void dropChangeLog()
    {
        std::vector<std::uint64_t>().swap(m_log);
        m_tracking = false;
        m_logWhole = false;
    }

private:
    void addToRegisters(std::uint64_t hash, bool log = true);
    void logChange(std::uint64_t entry);
    void promote();

    int m_log2m;
    // Explicit mode: open addressing, growing to 2 * kExplicitMax slots; 0 marks an empty slot (a
    // hash of 0 is remembered by m_hasZero).
    std::vector<std::uint64_t> m_table;
    std::uint32_t m_explicitCount = 0;
    bool m_hasZero = false;
    std::vector<std::uint8_t> m_registers;
    // Kept up to date on every register change, so estimate() is O(1) (snapshots take it often).
    double m_inverseSum = 0;
    std::uint32_t m_zeros = 0;
    std::vector<std::uint64_t> m_log; // see changeLog()
    bool m_logWhole = false;
    bool m_logHashes = true; // explicit at the last markSaved()
    bool m_tracking = false; // saved once: changes are logged from then on
};

} // namespace studio::core
