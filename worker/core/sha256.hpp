#pragma once
// SHA-256 (OpenSSL) for event identities and code-block digests.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace patternd::core {

using Digest = std::array<std::uint8_t, 32>;

std::string to_hex(const Digest& digest);

// Incremental hashing. Not thread-safe; cheap to reuse (one per thread).
// Each field is length-prefixed, so ("ab","c") and ("a","bc") never collide.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& reset();
  Sha256& add_field(std::string_view bytes);
  Sha256& add_bytes(std::string_view bytes);
  Digest finish();

 private:
  EVP_MD_CTX* m_ctx;
};

}  // namespace patternd::core
