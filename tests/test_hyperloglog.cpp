#include "core/hyperloglog.h"

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
