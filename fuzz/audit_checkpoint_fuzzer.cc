// libFuzzer target: one line of the audit checkpoint file (docs/formats/audit.md), which
// `herald audit verify` reads from disk and must not trust.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "crypto/audit_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = herald::crypto::parse_checkpoint_line(line, 1);
  if (!parsed) return 0;
  // Whatever parses must write back to a line that parses to the same checkpoint.
  auto again = herald::crypto::parse_checkpoint_line(herald::crypto::checkpoint_line(*parsed), 1);
  HERALD_CHECK(again && again->seq == parsed->seq && again->hash == parsed->hash &&
                   again->at == parsed->at && again->key_id == parsed->key_id &&
                   again->signature == parsed->signature,
               "checkpoint line does not round-trip");
  herald::crypto::AuditVerifier verifier({{"audit-1", std::string(32, '\x01')}});
  verifier.add_checkpoint(*parsed);
  (void)verifier.finish();
  return 0;
}
