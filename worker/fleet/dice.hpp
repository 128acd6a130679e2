#pragma once
// The fleet's source of chance: a seeded generator and the draws the fleet
// makes from it. Each draw takes exactly one number from the generator, so
// that a seed's messages stay what they were as long as the draws made for
// them do.

#include <cstdint>
#include <random>
#include <string>

namespace patternd::fleet {

class Dice {
 public:
  explicit Dice(std::uint64_t seed) : m_engine(seed) {}

  std::uint64_t below(std::uint64_t n) { return m_engine() % n; }
  // Uniform in [0, 1).
  double fraction() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return fraction() < p; }
  std::string hex_id(std::size_t length) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out(length, '0');
    for (auto& c : out) c = k_hex[below(16)];
    return out;
  }
  void skip(std::uint64_t draws) { m_engine.discard(draws); }

 private:
  std::mt19937_64 m_engine;
};

}  // namespace patternd::fleet
