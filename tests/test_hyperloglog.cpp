#include "core/aggregate/hyperloglog.h"

#include <catch2/catch.hpp>

#include <string>

using namespace studio::core;

TEST_CASE("MurmurHash3 x64-128 passes SMHasher's verification", "[hll]")
{
    // SMHasher's VerificationTest: hash keys {}, {0}, {0,1}, ... {0..254} with seed 256 - i,
    // hash the concatenated results with seed 0; the first four bytes are 0x6384BA69.
    std::string key, hashes;
    for (int i = 0; i < 256; ++i) {
        const auto [h1, h2] = murmurHash128(key, static_cast<std::uint32_t>(256 - i));
        hashes.append(reinterpret_cast<const char *>(&h1), 8);
        hashes.append(reinterpret_cast<const char *>(&h2), 8);
        key.push_back(static_cast<char>(i));
    }
    const auto [h1, h2] = murmurHash128(hashes, 0);
    CHECK(static_cast<std::uint32_t>(h1) == 0x6384BA69u);
    CHECK(murmurHash64("") == 0ULL);
    CHECK(murmurHash64("hello") == 0xcbd8a7b341bd9b02ULL);
}

TEST_CASE("HyperLogLog estimates within 2% from ten to a million", "[hll]")
{
    for (const int n : {10, 100, 1000, 10'000, 100'000, 1'000'000}) {
        HyperLogLog hll;
        for (int i = 0; i < n; ++i)
            hll.add("user_" + std::to_string(i));
        // Adding again changes nothing.
        for (int i = 0; i < n; i += 7)
            hll.add("user_" + std::to_string(i));
        INFO("n = " << n << ", estimate " << hll.estimate());
        CHECK(hll.estimate() == Approx(n).epsilon(0.02));
    }
    CHECK(HyperLogLog().estimate() == 0);
    CHECK(HyperLogLog().memoryBytes() == 0);
}

TEST_CASE("merged sketches count the union", "[hll]")
{
    HyperLogLog a, b, both;
    for (int i = 0; i < 60'000; ++i) {
        const std::string v = "s" + std::to_string(i);
        (i < 40'000 ? a : b).add(v);
        if (i >= 20'000 && i < 40'000)
            b.add(v); // overlap of 20,000
        both.add(v);
    }
    HyperLogLog merged = a;
    merged.merge(b);
    CHECK(merged.registers() == both.registers());
    CHECK(merged.estimate() == Approx(both.estimate()));
    CHECK(merged.estimate() == Approx(60'000).epsilon(0.02));
    HyperLogLog empty;
    empty.merge(a);
    CHECK(empty.estimate() == Approx(a.estimate()));
}

TEST_CASE("sketches round-trip through postgresql-hll's storage format", "[hll][storage]")
{
    HyperLogLog empty;
    const std::string emptyBytes = empty.toHllBytes();
    // Schema 1 / EMPTY, regwidth 5 and log2m 14 (0x8E), SPARSE off and an explicit cutoff of
    // 2^(10-1) = 512 values.
    CHECK(emptyBytes == std::string("\x11\x8E\x0A", 3));

    HyperLogLog small, large;
    for (int i = 0; i < 300; ++i)
        small.add("u" + std::to_string(i));
    for (int i = 0; i < 50'000; ++i)
        large.add("u" + std::to_string(i));
    REQUIRE(small.isExplicit());
    REQUIRE(!large.isExplicit());
    const std::string smallBytes = small.toHllBytes();
    const std::string largeBytes = large.toHllBytes();
    CHECK(smallBytes.size() == 3 + 300 * 8);
    CHECK(static_cast<unsigned char>(smallBytes[0]) == 0x12);
    CHECK(largeBytes.size() == 3 + 16384 * 5 / 8);
    CHECK(static_cast<unsigned char>(largeBytes[0]) == 0x14);

    for (const HyperLogLog *original : {&empty, &small, &large}) {
        std::string error;
        const auto bytes = original->toHllBytes();
        const auto back = HyperLogLog::fromHllBytes(bytes, &error);
        INFO(error);
        REQUIRE(back);
        CHECK(back->estimate() == original->estimate());
        CHECK(back->registers() == original->registers());
        CHECK(back->toHllBytes() == bytes);
    }
    // EXPLICIT values are sorted as signed 64-bit integers.
    std::int64_t previous = INT64_MIN;
    for (std::size_t at = 3; at < smallBytes.size(); at += 8) {
        std::uint64_t h = 0;
        for (std::size_t i = 0; i < 8; ++i)
            h = (h << 8) | static_cast<unsigned char>(smallBytes[at + i]);
        CHECK(static_cast<std::int64_t>(h) > previous);
        previous = static_cast<std::int64_t>(h);
    }
    // A merge after the round trip counts the union as before.
    auto merged = HyperLogLog::fromHllBytes(smallBytes);
    merged->merge(*HyperLogLog::fromHllBytes(largeBytes));
    CHECK(merged->estimate() == Approx(large.estimate()));
}

TEST_CASE("the storage spec's SPARSE example and broken sketch bytes are read correctly",
          "[hll][storage]")
{
    // hll-storage-spec v1.0.0: log2m 11, regwidth 6, registers (11, 6) and (1099, 19).
    const std::string sparse("\x13\xAB\x4A\x01\x63\x44\xB4\xC0", 8);
    std::string error;
    const auto hll = HyperLogLog::fromHllBytes(sparse, &error);
    INFO(error);
    REQUIRE(hll);
    CHECK(hll->log2m() == 11);
    REQUIRE(hll->registers().size() == 2048);
    CHECK(hll->registers()[11] == 6);
    CHECK(hll->registers()[1099] == 19);
    CHECK(hll->estimate() == Approx(2).epsilon(0.01));

    for (const std::string &bad :
         {std::string("\x11\xAE", 2), std::string("\x21\xAE\x0A", 3),
          std::string("\x10\xAE\x0A", 3), std::string("\x14\xAE\x0A\x00", 4),
          std::string("\x12\xAE\x0A\x01\x02", 5), std::string("\x11\xA2\x0A", 3)}) {
        error.clear();
        CHECK_FALSE(HyperLogLog::fromHllBytes(bad, &error));
        CHECK(error.rfind("HyperLogLog bytes: ", 0) == 0);
    }
}
