#pragma once
// Config loaded from YAML text, with no environment unless one is given: for
// the config tests.

#include <string>

#include "config/config.hpp"
#include "support/helpers.hpp"

namespace patternd::config {

inline char* k_no_environment[] = {nullptr};

inline core::Result<Loaded> load_text(const testing::TempDir& dir, const std::string& text,
                                      char** environment = k_no_environment) {
  const std::string path = dir.file("c.yaml");
  testing::write_file(path, text);
  return load(path, environment);
}

}  // namespace patternd::config
