#include "store/key_directory.hpp"

#include <algorithm>
#include <stdexcept>

namespace patternd::store {

KeyDirectory::KeyDirectory(std::size_t keys) {
  // Built at 60% load, full at 85%: a probe scans a few entries of one or
  // two cache lines (about 20 at 85%).
  const std::size_t slots = std::max<std::size_t>(keys + keys * 2 / 3, 1u << 16);
  if (slots >= (std::size_t{1} << 32)) throw std::length_error("key directory: too many keys");
  m_slots.assign(slots, 0);
  m_limit = slots / 20 * 17;
}

void KeyDirectory::add(std::uint64_t hash, std::uint32_t generation) {
  if (generation == 0 || generation > k_generation_mask)
    throw std::out_of_range("key directory: generation out of range");
  const std::uint32_t entry = fingerprint(hash) << k_generation_bits | generation;
  for (std::size_t i = home(hash);; i = i + 1 == m_slots.size() ? 0 : i + 1) {
    if (m_slots[i] == entry) return;
    if (m_slots[i] == 0) {
      m_slots[i] = entry;
      ++m_size;
      return;
    }
  }
}

}  // namespace patternd::store
