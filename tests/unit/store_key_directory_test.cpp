#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "store/key_directory.hpp"

namespace patternd::store {
namespace {

std::set<std::uint32_t> candidates(const KeyDirectory& directory, std::uint64_t hash) {
  std::set<std::uint32_t> out;
  directory.candidates(hash, [&](std::uint32_t generation) { out.insert(generation); });
  return out;
}

TEST(StoreKeyDirectory, NamesEveryGenerationOfAHashAndRarelyAnyOther) {
  std::mt19937_64 random(42);
  KeyDirectory directory;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> added;
  while (!directory.full()) {
    const std::uint64_t hash = random() >> 20;
    const auto generation = static_cast<std::uint32_t>(1 + added.size() / 4096);
    directory.add(hash, generation);
    added.emplace_back(hash, generation);
  }
  // Two hashes whose fingerprint and generation agree, met on one probe
  // path, share an entry: both still find it.
  EXPECT_LE(directory.size(), added.size());
  EXPECT_GE(directory.size(), 55'000u);  // 85% of 2^16 slots
  for (const auto& [hash, generation] : added)
    ASSERT_TRUE(candidates(directory, hash).contains(generation));

  // The same hash in a second generation is a second entry; the same pair again is none.
  const std::size_t before = directory.size();
  directory.add(added.front().first, 500);
  directory.add(added.front().first, 500);
  EXPECT_EQ(directory.size(), before + 1);
  EXPECT_TRUE(candidates(directory, added.front().first).contains(500));

  // Hashes never added: at full load, about one in 200 is sent to probe.
  int named = 0;
  for (int i = 0; i < 100'000; ++i) named += candidates(directory, random() >> 20).empty() ? 0 : 1;
  EXPECT_LT(named, 1'500);
}

TEST(StoreKeyDirectory, IsBuiltWithRoomForTheKeysAskedFor) {
  KeyDirectory directory(1'000'000);
  EXPECT_GE(directory.bytes(), 1'000'000u * 4 * 3 / 2);
  EXPECT_LT(directory.bytes(), 1'000'000u * 4 * 2);
  std::mt19937_64 random(7);
  for (int i = 0; i < 1'000'000; ++i) directory.add(random() >> 20, 1);
  EXPECT_FALSE(directory.full());
  EXPECT_THROW(directory.add(1, 0), std::out_of_range);
}

}  // namespace
}  // namespace patternd::store
