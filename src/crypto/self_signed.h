#pragma once
// Writes a self-signed TLS certificate (ECDSA P-256, SHA-256) for local use: the demo server
// that `make run` starts and the tests. Subject alternative names: DNS:localhost,
// IP:127.0.0.1, IP:::1. The private key file is created with mode 0600.

// Also reads what a certificate says of itself, for `herald config check`.

#include <string>

#include "core/result.h"
#include "core/time.h"

namespace herald::crypto {

struct CertificateFacts {
  std::string subject;  // one line, e.g. "CN=localhost"
  std::string issuer;
  Timestamp not_before;
  Timestamp not_after;
  bool self_signed = false;  // issued by its own subject and signed by its own key
  std::string key_type;      // "EC", "RSA", "ED25519"...
  int key_bits = 0;
};
// The first certificate of a PEM file (the leaf of a chain).
Result<CertificateFacts> read_certificate(const std::string& pem_path);

Result<void> write_self_signed_certificate(const std::string& cert_path,
                                           const std::string& key_path, int valid_days);

}  // namespace herald::crypto
