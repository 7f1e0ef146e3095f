#include <boost/version.hpp>

#include "api/admin/qr.h"
#include "cli/build_info.h"
#include "core/hex.h"
#include "crypto/hmac.h"
#include "crypto/secret.h"
#include "delivery/letters/sftp_supplier.h"
#include "domain/letters/letter_pdf.h"
#include "domain/letters/precompiled_letter.h"
#include "store/postgres/pg_connection.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::cli {

std::vector<std::pair<std::string, std::string>> linked_library_versions() {
  std::string boost = BOOST_LIB_VERSION;  // headers only: the version compiled against
  for (char& c : boost) {
    if (c == '_') c = '.';
  }
  std::vector<std::pair<std::string, std::string>> versions = {
      {"openssl", crypto::openssl_version()},
      {"sqlite", store::sqlite::library_version()},
      {"libpq", store::postgres::libpq_version()},
      {"libssh", delivery::letters::libssh_version()},
  };
  for (auto& drawing : domain::drawing_library_versions()) versions.push_back(std::move(drawing));
  versions.emplace_back("poppler-cpp", domain::poppler_version());
  versions.emplace_back("libqrencode", api::admin::qrencode_version());
  versions.emplace_back("boost (headers)", boost);
  return versions;
}

const std::string& running_binary_sha256() {
  static const std::string digest = [] {
    auto measured = crypto::sha256_file("/proc/self/exe");
    return measured ? hex_encode(measured->sha256) : std::string();
  }();
  return digest;
}

std::string version_text() {
  std::string text = std::string("herald ") + kBuildInfo.version + "\ncommit " + kBuildInfo.commit + "\nbuilt " +
                     kBuildInfo.date + " (the commit's date)";
  for (const auto& [name, version] : linked_library_versions()) text += "\n" + name + " " + version;
  return text;  // CLI11 ends the line
}

}  // namespace herald::cli
