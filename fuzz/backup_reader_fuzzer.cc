// libFuzzer target: reading a backup file an attacker may have crafted or damaged (header
// parsing, size and limit checks, chunk framing and authentication, section splitting).
// The key is fixed, so the seeds in corpus/backup_reader/ (written under it) decrypt and the
// fuzzer explores the paths past authentication too.
#include <cstdint>
#include <string>
#include <string_view>

#include "ops/backup_file.h"

namespace {

// The seed corpus's key: 32 bytes of 0x42 ('B').
const herald::crypto::SecretBytes& fuzz_key() {
  static const herald::crypto::SecretBytes key(std::string(32, 'B'));
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)herald::ops::parse_backup_header(bytes);
  std::uint64_t delivered = 0;
  auto read = herald::ops::read_backup_bytes(
      bytes, fuzz_key(), [&delivered](std::string_view section, std::string_view chunk) -> herald::Result<void> {
        if (!herald::ops::is_valid_backup_section_name(section)) __builtin_trap();
        delivered += chunk.size();
        return herald::ok();
      });
  // A backup that reads must have delivered exactly the sizes its header promised.
  if (read) {
    std::uint64_t promised = 0;
    for (const auto& section : read->sections) promised += section.size;
    if (promised != delivered) __builtin_trap();
  }
  return 0;
}
