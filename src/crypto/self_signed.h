#pragma once
// Writes a self-signed TLS certificate (ECDSA P-256, SHA-256) for local use: the demo server
// that `make run` starts and the tests. Subject alternative names: DNS:localhost,
// IP:127.0.0.1, IP:::1. The private key file is created with mode 0600.

#include <string>

#include "core/result.h"

namespace herald::crypto {

Result<void> write_self_signed_certificate(const std::string& cert_path,
                                           const std::string& key_path, int valid_days);

}  // namespace herald::crypto
