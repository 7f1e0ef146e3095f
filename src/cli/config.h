#pragma once
// Herald's configuration file (TOML), with secure defaults for anything left out (SC-34).
// Relative paths are resolved against the directory of the configuration file.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "delivery/smtp/smtp_client.h"
#include "delivery/worker.h"
#include "net/https_server.h"

namespace herald::cli {

struct Config {
  std::string path;  // of the file itself
  net::ServerOptions server;
  std::string public_url;  // optional; absolute URLs otherwise follow the Host header
  std::string database_path;
  Duration commit_gather = std::chrono::milliseconds(1);
  std::string keyring_path;
  std::string key_store_path;  // keys.db: data keys, wrapped under the KEK
  std::string email_domain = "notifications.herald.localhost";
  delivery::smtp::SmtpOptions smtp;
  delivery::WorkerOptions worker;
  std::size_t api_threads = 4;
  std::size_t delivery_connections = 4;  // relay connections, one delivery thread each
  std::string log_level = "info";
  bool store_plaintext_for_test = false;  // honoured only with HERALD_TESTING=1
};

Result<Config> load_config(const std::string& path);

// The configuration `herald init` writes for a new data directory.
std::string default_config_text(std::uint16_t port, std::uint16_t smtp_port);

}  // namespace herald::cli
