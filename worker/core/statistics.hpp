#pragma once
// How much to trust a success rate measured on few attempts.

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace patternd::core {

// The lower bound of the Wilson score interval for successes out of
// attempts, at z = 1.96 (95%): 3 of 3 gives 0.44, 40 of 45 gives 0.77, so a
// fix that worked often ranks above one that worked a few times. 0 without
// attempts. schema/008 computes the same expression, term for term, for the
// stored aggregates; this one serves sums made on read.
inline double wilson_lower_bound(std::int64_t successes, std::int64_t attempts) {
  if (attempts <= 0) return 0;
  const auto s = static_cast<double>(successes), n = static_cast<double>(attempts);
  // Clamped: with no success the two terms cancel to a rounding error.
  return std::max(0.0,
                  (s + 1.9208 - 1.96 * std::sqrt(s * (n - s) * 1.0 / n + 0.9604)) / (n + 3.8416));
}

}  // namespace patternd::core
