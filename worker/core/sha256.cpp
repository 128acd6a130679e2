#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <new>

namespace patternd::core {

std::string to_hex(const Digest& digest) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (const std::uint8_t byte : digest) {
    out.push_back(k_hex[byte >> 4]);
    out.push_back(k_hex[byte & 0xF]);
  }
  return out;
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr) throw std::bad_alloc();
  reset();
}

Sha256::~Sha256() { EVP_MD_CTX_free(m_ctx); }

Sha256& Sha256::reset() {
  EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr);
  return *this;
}

Sha256& Sha256::add_field(std::string_view bytes) {
  const std::uint64_t size = bytes.size();
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(size >> (8 * i));
  EVP_DigestUpdate(m_ctx, prefix, sizeof prefix);
  EVP_DigestUpdate(m_ctx, bytes.data(), bytes.size());
  return *this;
}

Sha256& Sha256::add_bytes(std::string_view bytes) {
  EVP_DigestUpdate(m_ctx, bytes.data(), bytes.size());
  return *this;
}

Digest Sha256::finish() {
  Digest digest{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(m_ctx, digest.data(), &size);
  reset();
  return digest;
}

}  // namespace patternd::core
