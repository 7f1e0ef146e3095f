#pragma once
// Reading a file that holds secrets (the keyring, a PKCS#11 PIN): it must be a regular file, not
// a symlink, with no group or other permission bits (SC-17), and at most `max_bytes` long.
// Errors name the file (as "<what> <path>") and its mode, never its content. The caller wipes
// the returned content after use.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace herald::crypto {

Result<std::string> read_private_file(const std::string& path, std::string_view what, std::size_t max_bytes);

}  // namespace herald::crypto
