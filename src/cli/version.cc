#include <cairo.h>
#include <libpq-fe.h>
#include <libssh/libssh.h>
#include <openssl/crypto.h>
#include <pango/pango.h>
#include <poppler/cpp/poppler-version.h>
#include <qrencode.h>
#include <sqlite3.h>
#include <boost/version.hpp>

#include "cli/build_info.h"

namespace herald::cli {

std::vector<std::pair<std::string, std::string>> linked_library_versions() {
  const int pq = PQlibVersion();          // e.g. 150014 for 15.14
  std::string boost = BOOST_LIB_VERSION;  // headers only: the version compiled against
  for (char& c : boost) {
    if (c == '_') c = '.';
  }
  return {
      {"openssl", OpenSSL_version(OPENSSL_VERSION_STRING)},
      {"sqlite", sqlite3_libversion()},
      {"libpq", std::to_string(pq / 10000) + "." + std::to_string(pq % 10000)},
      {"libssh", ssh_version(0)},
      {"cairo", cairo_version_string()},
      {"pango", pango_version_string()},
      {"poppler-cpp", poppler::version_string()},
      {"libqrencode", QRcode_APIVersionString()},
      {"boost (headers)", boost},
  };
}

std::string version_text() {
  std::string text = std::string("herald ") + kBuildInfo.version + "\ncommit " + kBuildInfo.commit + "\nbuilt " +
                     kBuildInfo.date + " (the commit's date)";
  for (const auto& [name, version] : linked_library_versions()) text += "\n" + name + " " + version;
  return text;  // CLI11 ends the line
}

}  // namespace herald::cli
