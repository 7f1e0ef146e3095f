// libFuzzer target: what a browser (or an attacker posing as one) sends the admin UI when it
// registers or uses a security key: CBOR attestation objects and COSE keys, authenticator data,
// client data JSON. The first byte picks the part; the rest is split at the first 0xff.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "crypto/webauthn.h"

namespace webauthn = herald::crypto::webauthn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const webauthn::RelyingParty rp{"localhost", "https://localhost:8444"};
  const auto cut = input.find('\xff');
  const std::string_view first = input.substr(0, cut);
  const std::string_view second = cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1);
  switch (data[0] % 3) {
    case 0: {
      std::size_t consumed = 0;
      auto item = webauthn::parse_cbor(input, consumed);
      if (item) HERALD_CHECK(consumed >= 1 && consumed <= input.size(), "CBOR consumed within its input");
      break;
    }
    case 1: {
      auto credential = webauthn::verify_registration(rp, "challenge", first, second);
      if (credential) HERALD_CHECK(!credential->credential_id.empty(), "a registered credential has an id");
      break;
    }
    default:
      // A COSE key (first) and authenticator data (second), with fixed client data.
      (void)webauthn::verify_assertion(
          rp, "challenge", first,
          R"({"type":"webauthn.get","challenge":"Y2hhbGxlbmdl","origin":"https://localhost:8444"})", second,
          std::string(64, '\x11'));
  }
  return 0;
}
