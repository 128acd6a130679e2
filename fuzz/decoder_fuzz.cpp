// libFuzzer target: arbitrary bytes through the decoder (both message kinds)
// and, for what decodes, through failure normalization, the other code that
// takes message text apart. Built with clang and AddressSanitizer +
// UndefinedBehaviorSanitizer by fuzz/run; any crash, leak, sanitizer report,
// exception or broken invariant is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "decode/decoder.hpp"
#include "detect/failure.hpp"

namespace {

constexpr std::size_t k_limit = 64 * 1024;  // also exercises the too_large path

// A broken invariant: say which, then abort (libFuzzer keeps the input).
#define require(condition)                                                            \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "invariant broken: %s (line %d)\n", #condition, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace patternd;
  static decode::Decoder decoder(k_limit);
  const std::string_view payload(reinterpret_cast<const char*>(data), size);

  auto workflow = decoder.decode_workflow(payload, 1'700'000'000'000);
  if (workflow.ok()) {
    require(!workflow.value().workflow_id.empty());
    require(size <= k_limit);
  } else {
    require(!workflow.error().detail.empty());  // a reason a person can act on
  }

  auto extraction = decoder.decode_extraction(payload, 1'700'000'000'000);
  if (extraction.ok()) {
    require(size <= k_limit);
    const std::string signature = detect::normalize_failure(extraction.value().matched_value.empty()
                                                                ? extraction.value().original_line
                                                                : extraction.value().matched_value);
    require(signature.size() <= detect::k_max_signature_bytes);
    require(!detect::failure_type(signature).empty());
  } else {
    require(!extraction.error().detail.empty());
  }

  // The normalizer on raw bytes too (error lines come from agents' output).
  // (Not idempotent, and need not be: "{/<str>" normalizes again to
  // "<path>>". Signatures are only ever computed from the original text.)
  require(detect::normalize_failure(payload).size() <= detect::k_max_signature_bytes);
  return 0;
}
