#pragma once
// Where a raw row's key may be stored: for every keyed row of one table, a
// 12-bit fingerprint of its 44-bit hash and the generation it was stored in
// (row_keys.hpp), 4 bytes in an open-addressing table with linear probing.
//
// It answers "which generations may hold this hash" with no false negative,
// so that the writer probes the database only there: without it, finding a
// duplicate would need an index ordered by hash, the random-order index
// whose inserts dominated the cost of a write. A false positive (another
// hash with the same fingerprint and home) costs one probe that finds
// nothing: about one key in 1,000 at 60% load, one in 200 at 85%.
//
// It never shrinks or forgets: an entry of a deleted row costs a probe, not a
// wrong answer. It cannot grow in place either (only 12 bits of the hash are
// kept); once full() the owner builds a bigger one from the database.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace patternd::store {

class KeyDirectory {
 public:
  static constexpr int k_generation_bits = 20;
  static constexpr std::uint32_t k_generation_mask = (1u << k_generation_bits) - 1;

  // Room for `keys` entries and two thirds more (at least 2^16 slots).
  explicit KeyDirectory(std::size_t keys = 0);

  // Calls visit(generation) for every generation that may hold `hash`.
  template <class Visit>
  void candidates(std::uint64_t hash, Visit&& visit) const {
    const std::uint32_t fp = fingerprint(hash);
    for (std::size_t i = home(hash);; i = i + 1 == m_slots.size() ? 0 : i + 1) {
      const std::uint32_t entry = m_slots[i];
      if (entry == 0) return;
      if ((entry >> k_generation_bits) == fp) visit(entry & k_generation_mask);
    }
  }

  // Records that `generation` (1 .. k_generation_mask) holds `hash`; a no-op
  // when it is already recorded. The caller checks full() first.
  void add(std::uint64_t hash, std::uint32_t generation);

  bool full() const { return m_size >= m_limit; }
  std::size_t size() const { return m_size; }
  std::size_t bytes() const { return m_slots.size() * sizeof(std::uint32_t); }

 private:
  // The home slot from the low 32 bits of the hash (scaled, so any table
  // size works), the fingerprint from the 12 above them.
  std::size_t home(std::uint64_t hash) const {
    return static_cast<std::size_t>(((hash & 0xFFFF'FFFF) * m_slots.size()) >> 32);
  }
  static std::uint32_t fingerprint(std::uint64_t hash) {
    return static_cast<std::uint32_t>(hash >> 32) & 0xFFF;
  }

  std::vector<std::uint32_t> m_slots;  // 0: empty; else fingerprint << 20 | generation
  std::size_t m_size = 0;
  std::size_t m_limit = 0;  // entries before full(): 85% of the slots
};

}  // namespace patternd::store
