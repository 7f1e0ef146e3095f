// The code chain (docs/releases.md): release keys, signed commits, reproducible builds with an
// SBOM and provenance, verification, promotion through staging to live, and deployment.
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/build_info.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/process.h"
#include "cli/release_files.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/uuid.h"
#include "crypto/hmac.h"
#include "crypto/jwt.h"
#include "crypto/private_file.h"
#include "crypto/random.h"
#include "crypto/signing.h"
#include "net/http_client.h"
#include "release/dsse.h"
#include "release/sbom.h"
#include "release/statements.h"
#include "release/verify.h"
#include "security/audit.h"

namespace herald::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
constexpr std::size_t kMaxDocumentBytes = 16 * 1024 * 1024;
constexpr std::string_view kDeployedStateFile = "deployed.json";

Timestamp now() { return SystemClock().now(); }

// A whole file, or kNotFound/kInvalidArgument naming it.
Result<std::string> read_file(const fs::path& path, std::size_t max_bytes = kMaxDocumentBytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return not_found(path.string() + ": " + ec.message());
  if (size > max_bytes)
    return invalid_argument(path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return invalid_argument("cannot read " + path.string());
  return text;
}

// Writes `text` to `path` by a temporary file and a rename, so a reader never sees half a file.
Result<void> write_file(const fs::path& path, std::string_view text, fs::perms perms = fs::perms(0644)) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) return unavailable("cannot write " + temporary.string());
  }
  std::error_code ec;
  fs::permissions(temporary, perms, ec);
  fs::rename(temporary, path, ec);
  if (ec) return unavailable("cannot write " + path.string() + ": " + ec.message());
  return {};
}

Result<release::Artifact> measure(const fs::path& path) {
  auto digest = crypto::sha256_file(path.string());
  if (!digest) return digest.error();
  return release::Artifact{path.filename().string(), hex_encode(digest->sha256), digest->size};
}

std::string passphrase_from(const std::string& env_name) {
  const char* value = std::getenv(env_name.c_str());
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

Result<std::unique_ptr<crypto::Ed25519Signer>> load_signer(const SigningKeyOptions& key) {
  if (key.key_file.empty()) return invalid_argument("a signing key is needed: --key FILE");
  auto pem = crypto::read_private_file(key.key_file, "signing key", kMaxKeyFileBytes);
  if (!pem) return pem.error();
  std::string passphrase = passphrase_from(key.passphrase_env);
  if (passphrase.empty()) {
    crypto::wipe_string(*pem);
    return invalid_argument("the key's passphrase is read from $" + key.passphrase_env + ", which is not set");
  }
  auto seed = crypto::ed25519_seed_from_pem(*pem, passphrase);
  crypto::wipe_string(*pem);
  crypto::wipe_string(passphrase);
  if (!seed) return Error{seed.error().code, "signing key " + key.key_file + ": " + seed.error().message};
  return crypto::seed_signer(std::move(*seed), "key file " + key.key_file);
}

Result<std::vector<release::TrustedKey>> load_trust(const std::string& path) {
  if (path.empty()) return invalid_argument("the keys to trust are needed: --trust FILE");
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return invalid_argument("trust file " + path + ": " + std::string(e.description()));
  }
  const auto* keys = table["key"].as_array();
  if (keys == nullptr || keys->empty()) return invalid_argument("trust file " + path + " has no [[key]] entries");
  std::vector<release::TrustedKey> trusted;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    const std::string where = "trust file " + path + ": key " + std::to_string(i + 1);
    const auto* entry = keys->get(i)->as_table();
    const auto role = entry ? (*entry)["role"].value<std::string>() : std::nullopt;
    const auto file = entry ? (*entry)["public_key_file"].value<std::string>() : std::nullopt;
    if (!role || (*role != "release" && *role != "staging" && *role != "report")) {
      return invalid_argument(where + ": role must be release, staging or report");
    }
    if (!file) return invalid_argument(where + ": public_key_file is missing");
    const fs::path key_path = fs::path(path).parent_path() / *file;
    auto pem = read_file(key_path, kMaxKeyFileBytes);
    if (!pem) return Error{pem.error().code, where + ": " + pem.error().message};
    auto raw = crypto::ed25519_public_key_from_pem(*pem);
    if (!raw) return invalid_argument(where + " (" + key_path.string() + "): " + raw.error().message);
    trusted.push_back({*role, std::move(*raw)});
  }
  return trusted;
}

Result<void> write_release_file(const std::string& path, std::string_view text) { return write_file(path, text); }

namespace {

// Every regular file of a release directory, measured.
Result<release::ReleaseEvidence> read_evidence(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found("no release directory " + dir.string());
  release::ReleaseEvidence evidence;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.is_symlink()) continue;
    auto measured = measure(entry.path());
    if (!measured) return measured.error();
    evidence.files.push_back(std::move(*measured));
  }
  if (ec) return unavailable("cannot list " + dir.string() + ": " + ec.message());
  auto envelope = read_file(dir / release::kReleaseFile);
  if (!envelope) return not_found(dir.string() + " holds no " + std::string(release::kReleaseFile));
  evidence.release_envelope = std::move(*envelope);
  auto provenance = read_file(dir / release::kProvenanceFile);
  if (!provenance) return not_found(dir.string() + " holds no " + std::string(release::kProvenanceFile));
  evidence.provenance_envelope = std::move(*provenance);
  if (auto acceptance = read_file(dir / release::kAcceptanceFile))
    evidence.acceptance_envelope = std::move(*acceptance);
  return evidence;
}

}  // namespace

Result<release::VerifiedRelease> verify_release_directory(const std::string& dir,
                                                          const std::vector<release::TrustedKey>& keys,
                                                          release::Stage stage) {
  auto evidence = read_evidence(dir);
  if (!evidence) return evidence.error();
  return release::verify_release(*evidence, keys, stage, now());
}

namespace {

// ---- Commit signatures ---------------------------------------------------------------------

// `git verify-commit` / `verify-tag` under an allowed-signers file (git's SSH signing): good only
// when git says so and names the signer.
Result<std::string> verify_git_object(const std::string& repo, const std::string& allowed_signers,
                                      std::string_view kind, const std::string& object) {
  auto result = run_process({"git", "-C", repo, "-c", "gpg.ssh.allowedSignersFile=" + allowed_signers,
                             kind == "tag" ? "verify-tag" : "verify-commit", object});
  if (!result) return result.error();
  const std::string& said = result->err;
  const auto good = said.find("Good \"git\" signature for ");
  if (result->exit_code != 0 || good == std::string::npos) {
    std::string why =
        said.find("No principal matched") != std::string::npos || said.find("not in the allowed") != std::string::npos
            ? "signed by a key that is not in the allowed signers"
        : said.find("no signature found") != std::string::npos || said.empty() ? "not signed"
                                                                               : "its signature does not verify";
    return Error{ErrorCode::kPermissionDenied, std::string(kind) + " " + object + " is " + why};
  }
  const auto start = good + std::string_view("Good \"git\" signature for ").size();
  return said.substr(start, said.find(' ', start) - start);
}

Result<int> verify_commits(const CommitRangeOptions& range, std::string* commit_out, std::string* range_out) {
  if (range.allowed_signers.empty()) return invalid_argument("--allowed-signers FILE is needed");
  std::error_code ec;
  if (!fs::is_regular_file(range.allowed_signers, ec)) {
    return not_found("no allowed-signers file " + range.allowed_signers);
  }
  const std::string signers = fs::absolute(range.allowed_signers).string();
  auto commit = run_checked({"git", "-C", range.repo, "rev-parse", "--verify", range.commit + "^{commit}"});
  if (!commit) return commit.error();
  while (!commit->empty() && commit->back() == '\n') commit->pop_back();
  std::vector<std::string> list{"git", "-C", range.repo, "rev-list", "--reverse"};
  std::string described = *commit;
  if (!range.since.empty()) {
    auto base = run_checked({"git", "-C", range.repo, "rev-parse", "--verify", range.since + "^{commit}"});
    if (!base) return base.error();
    while (!base->empty() && base->back() == '\n') base->pop_back();
    list.push_back(*base + ".." + *commit);
    described = *base + ".." + *commit;
  } else {
    list.push_back(*commit);
  }
  auto commits = run_checked(list);
  if (!commits) return commits.error();
  int count = 0;
  std::istringstream lines(*commits);
  for (std::string sha; std::getline(lines, sha);) {
    if (sha.empty()) continue;
    auto signer = verify_git_object(range.repo, signers, "commit", sha);
    if (!signer) return signer.error();
    std::cerr << "commit " << sha.substr(0, 12) << " signed by " << *signer << "\n";
    ++count;
  }
  if (count == 0) return invalid_argument("the range " + described + " holds no commits");
  if (!range.tag.empty()) {
    auto target = run_checked({"git", "-C", range.repo, "rev-parse", "--verify", range.tag + "^{commit}"});
    if (!target) return target.error();
    if (target->substr(0, commit->size()) != *commit) {
      return Error{ErrorCode::kPermissionDenied, "tag " + range.tag + " does not point at " + *commit};
    }
    auto signer = verify_git_object(range.repo, signers, "tag", range.tag);
    if (!signer) return signer.error();
    std::cerr << "tag " << range.tag << " signed by " << *signer << "\n";
  }
  if (commit_out) *commit_out = *commit;
  if (range_out) *range_out = described;
  return count;
}

// ---- The SBOM ------------------------------------------------------------------------------

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The Debian package that installed `path`, with its version and source: dpkg -S, then
// dpkg-query. nullopt when no package owns it (a library built by hand).
std::optional<release::Component> debian_component_of(const std::string& path) {
  std::vector<std::string> candidates{path};
  std::error_code ec;
  const auto real = fs::canonical(path, ec);
  if (!ec) candidates.push_back(real.string());
  // Debian 12 is merged-/usr: dpkg may know the file under /lib or under /usr/lib.
  for (const auto& c : std::vector<std::string>(candidates)) {
    if (c.starts_with("/usr/lib/")) candidates.push_back(c.substr(4));
    if (c.starts_with("/lib/")) candidates.push_back("/usr" + c);
  }
  for (const auto& candidate : candidates) {
    auto owner = run_process({"dpkg", "-S", candidate});
    if (!owner || owner->exit_code != 0) continue;
    const std::string package = owner->out.substr(0, owner->out.find(':'));
    auto fields =
        run_process({"dpkg-query", "-W",
                     "-f=${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}", package});
    if (!fields || fields->exit_code != 0) continue;
    std::vector<std::string> parts;
    std::istringstream in(fields->out.substr(0, fields->out.find('\n')));
    for (std::string part; std::getline(in, part, '\t');) parts.push_back(part);
    if (parts.size() < 5) continue;
    release::Component c;
    c.name = parts[0];
    c.version = parts[1];
    c.ecosystem = "debian";
    c.source = parts[2];
    c.source_version = parts[3] == parts[1] ? "" : parts[3];
    c.license = "NOASSERTION";
    c.arch = parts[4];
    c.distro = "debian-12";
    return c;
  }
  return std::nullopt;
}

// The Debian packages a binary is made of: every shared library it loads (ldd), and the
// header-only libraries compiled into it.
Result<std::vector<release::Component>> debian_components(const std::string& binary) {
  auto ldd = run_checked({"ldd", binary});
  if (!ldd) return ldd.error();
  std::vector<release::Component> out;
  auto add = [&out](release::Component c) {
    for (const auto& have : out) {
      if (have.name == c.name) return;
    }
    out.push_back(std::move(c));
  };
  std::istringstream lines(*ldd);
  for (std::string line; std::getline(lines, line);) {
    // "\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
    auto arrow = line.find("=> ");
    std::string path = arrow != std::string::npos ? line.substr(arrow + 3) : line;
    path.erase(0, path.find_first_not_of(" \t"));
    path = path.substr(0, path.find(" ("));
    if (path.empty() || path.front() != '/') continue;
    if (auto c = debian_component_of(path)) add(std::move(*c));
  }
  // Compiled in from headers: they are in the binary as surely as a shared library is.
  for (const char* header :
       {"/usr/include/boost/version.hpp", "/usr/include/CLI/CLI.hpp", "/usr/include/toml++/toml.h"}) {
    if (auto c = debian_component_of(header)) add(std::move(*c));
  }
  return out;
}

std::string rfc3339(Timestamp t) {
  std::string text = format_timestamp(t);
  return text.substr(0, 19) + "Z";  // SPDX wants seconds
}

Result<std::string> make_sbom(const fs::path& binary, const release::Artifact& measured, const std::string& version,
                              const fs::path& package_lock, Timestamp created) {
  release::Sbom sbom;
  sbom.name = "herald-" + version;
  sbom.document_namespace = "urn:herald:sbom:" + version + ":" + measured.sha256;
  sbom.created = rfc3339(created);
  sbom.creator_tool = "herald-" + std::string(kBuildInfo.version);
  release::Component herald;
  herald.name = "herald";
  herald.version = version;
  herald.ecosystem = "generic";
  herald.license = "NOASSERTION";
  herald.sha256 = measured.sha256;
  sbom.components.push_back(std::move(herald));
  auto debian = debian_components(binary.string());
  if (!debian) return debian.error();
  for (auto& c : *debian) sbom.components.push_back(std::move(c));
  if (!package_lock.empty()) {
    auto lock = read_file(package_lock);
    if (!lock) return lock.error();
    auto npm = release::npm_components_from_lock(*lock);
    if (!npm) return Error{npm.error().code, package_lock.string() + ": " + npm.error().message};
    for (auto& c : *npm) sbom.components.push_back(std::move(c));
  }
  return release::to_spdx_json(sbom);
}

// ---- Building ------------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> tool_versions() {
  std::vector<std::pair<std::string, std::string>> tools;
  for (const char* package : {"g++-12", "gcc-12", "cmake", "binutils", "libc6-dev", "dpkg-dev", "nodejs"}) {
    auto version = run_process({"dpkg-query", "-W", "-f=${Version}", package});
    if (version && version->exit_code == 0 && !version->out.empty()) {
      tools.emplace_back(std::string("pkg:deb/debian/") + package, version->out);
    }
  }
  return tools;
}

// One clean build of `commit` in `dir`: a fresh clone, its own build directory, no compiler
// cache, the commit's date as SOURCE_DATE_EPOCH.
Result<void> clean_build(const ReleaseBuildOptions& options, const std::string& commit, const std::string& epoch,
                         const fs::path& dir, bool package) {
  std::cerr << "building " << commit.substr(0, 12) << " in " << dir.string() << "\n";
  HERALD_TRY(run_checked(
      {"git", "clone", "--quiet", "--no-hardlinks", fs::absolute(options.range.repo).string(), dir.string()}));
  HERALD_TRY(run_checked({"git", "-C", dir.string(), "checkout", "--quiet", "--detach", commit}));
  const ProcessOptions env{
      dir.string(),
      {{"SOURCE_DATE_EPOCH", epoch}, {"CCACHE_DISABLE", "1"}, {"LC_ALL", "C.UTF-8"}, {"TZ", "UTC"}},
      {},
      options.verbose};
  // The dependencies `make deps` would fetch: libphonenumber's headers from the source
  // checkout's copy, the admin UI's npm packages by `npm ci` from the lock file.
  const fs::path third_party =
      fs::absolute(options.third_party.empty() ? fs::path(options.range.repo) / "build/third_party"
                                               : fs::path(options.third_party)) /
      "libphonenumber/usr/include";
  std::vector<std::string> configure{"cmake",
                                     "-S",
                                     ".",
                                     "-B",
                                     "build/release",
                                     "-DCMAKE_BUILD_TYPE=Release",
                                     "-DHERALD_TESTS=OFF",
                                     "-DPHONENUMBER_INCLUDE_DIR=" + third_party.string()};
  if (package) {
    HERALD_TRY(run_checked({"npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"},
                           {(dir / "ui").string(), env.env, {}, options.verbose}));
  }
  HERALD_TRY(run_checked(configure, env));
  std::vector<std::string> build{"cmake", "--build", "build/release", "-j", std::to_string(options.jobs), "--target"};
  for (const auto& t : options.targets) build.push_back(t);
  if (package) build.emplace_back("herald_package_files");
  HERALD_TRY(run_checked(build, env));
  if (package)
    HERALD_TRY(run_checked({"cpack", "-G", "DEB"}, {(dir / "build/release").string(), env.env, {}, options.verbose}));
  return {};
}

// The files a build made that the release carries: the binary and the package (full build), or
// the named targets' outputs (a partial build).
std::vector<fs::path> build_outputs(const fs::path& dir, const ReleaseBuildOptions& options, bool package) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (package) {
    out.push_back(dir / "build/release/herald");
    for (const auto& entry : fs::directory_iterator(dir / "build/deb", ec)) {
      if (entry.path().extension() == ".deb") out.push_back(entry.path());
    }
  } else {
    for (const auto& t : options.targets) {
      for (const auto& candidate : {dir / "build/release" / t, dir / "build/release" / ("lib" + t + ".a")}) {
        if (fs::is_regular_file(candidate, ec)) out.push_back(candidate);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

// Signs what `dir` holds (the artifacts already copied in) and writes the SBOM, provenance and
// release metadata beside them.
Result<void> sign_release(const fs::path& dir, const std::vector<release::Artifact>& artifacts,
                          release::Provenance provenance, const std::string& version, Duration valid_for,
                          const fs::path& package_lock, Timestamp source_date, crypto::Ed25519Signer& signer) {
  std::vector<release::Artifact> listed = artifacts;
  const release::Artifact* binary = release::find_artifact(artifacts, release::kBinaryFile);
  if (binary != nullptr) {
    auto sbom = make_sbom(dir / release::kBinaryFile, *binary, version, package_lock, source_date);
    if (!sbom) return sbom.error();
    HERALD_TRY(write_file(dir / release::kSbomFile, *sbom));
    auto measured = measure(dir / release::kSbomFile);
    if (!measured) return measured.error();
    listed.push_back(*measured);
  }
  provenance.subjects = listed;
  auto statement = release::sign_envelope(std::string(release::kInTotoPayloadType),
                                          release::provenance_statement_json(provenance), signer);
  if (!statement) return statement.error();
  HERALD_TRY(write_file(dir / release::kProvenanceFile, release::envelope_json(*statement)));
  auto provenance_file = measure(dir / release::kProvenanceFile);
  if (!provenance_file) return provenance_file.error();
  listed.push_back(*provenance_file);
  const release::ReleaseMetadata metadata{version, provenance.commit, now(), now() + valid_for, listed};
  auto envelope = release::sign_envelope(std::string(release::kReleasePayloadType),
                                         release::release_metadata_json(metadata), signer);
  if (!envelope) return envelope.error();
  return write_file(dir / release::kReleaseFile, release::envelope_json(*envelope));
}

std::string builder_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return "urn:herald:builder:" + std::string(host);
}

// Copies a file into a release directory, readable by every host that installs from it (the
// binary executable too), whatever the build's umask was.
Result<void> copy_into(const fs::path& from, const fs::path& target) {
  std::error_code ec;
  fs::copy_file(from, target, fs::copy_options::overwrite_existing, ec);
  if (ec) return unavailable("cannot copy " + from.string() + ": " + ec.message());
  fs::permissions(target, target.filename() == release::kBinaryFile ? fs::perms(0755) : fs::perms(0644), ec);
  if (ec) return unavailable("cannot set the mode of " + target.string() + ": " + ec.message());
  return {};
}

// ---- Deployment ----------------------------------------------------------------------------

struct Deployed {
  std::string version;
  std::string binary_sha256;
};

std::optional<Deployed> read_deployed(const fs::path& install_dir) {
  auto text = read_file(install_dir / kDeployedStateFile);
  if (!text) return std::nullopt;
  auto doc = json::parse(*text);
  if (!doc) return std::nullopt;
  const auto* version = doc->find("version");
  const auto* digest = doc->find("binary_sha256");
  if (!version || !version->is_string() || !digest || !digest->is_string()) return std::nullopt;
  return Deployed{version->as_string(), digest->as_string()};
}

// The highest-versioned release directory in a channel directory that verifies for `stage`;
// every one that does not is reported and skipped.
Result<fs::path> newest_verified(const fs::path& channel, const std::vector<release::TrustedKey>& keys,
                                 release::Stage stage) {
  std::error_code ec;
  std::vector<std::pair<std::string, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(channel, ec)) {
    if (!entry.is_directory()) continue;
    auto verified = verify_release_directory(entry.path(), keys, stage);
    if (!verified) {
      std::cerr << "skipping " << entry.path().string() << ": " << verified.error().message << "\n";
      continue;
    }
    found.emplace_back(verified->metadata.version, entry.path());
  }
  if (ec) return unavailable("cannot list " + channel.string() + ": " + ec.message());
  if (found.empty()) return not_found("no release in " + channel.string() + " verifies");
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    auto order = release::compare_release_versions(a.first, b.first);
    return order && *order < 0;
  });
  return found.back().second;
}

Result<void> record_deploy(const std::string& config_path, security::AuditEvent event) {
  if (config_path.empty()) return {};
  auto context = open_context(config_path);
  if (!context) return context.error();
  return context->record(std::move(event));
}

// Installs the verified binary: copied beside the old one, made executable, renamed over it.
Result<void> install_binary(const fs::path& release_dir, const fs::path& install_dir) {
  std::error_code ec;
  fs::create_directories(install_dir, ec);
  const fs::path temporary = install_dir / ".herald.new";
  fs::copy_file(release_dir / release::kBinaryFile, temporary, fs::copy_options::overwrite_existing, ec);
  if (ec) return unavailable("cannot copy the binary into " + install_dir.string() + ": " + ec.message());
  fs::permissions(temporary, fs::perms(0755), ec);
  fs::rename(temporary, install_dir / "herald", ec);
  if (ec) return unavailable("cannot install into " + install_dir.string() + ": " + ec.message());
  return {};
}

// One deployment: 0 installed (or already there), 1 refused.
int deploy_once(const DeployOptions& options, const std::vector<release::TrustedKey>& keys, const fs::path& dir) {
  const auto stage = options.stage == "live" ? release::Stage::kLive : release::Stage::kStaging;
  auto refuse = [&](const Error& error, const std::string& version) {
    (void)record_deploy(options.config_path,
                        {security::cli_actor(),
                         "release.deploy_refused",
                         {{"release", dir.string()}, {"version", version}, {"reason", error.message}},
                         "failure"});
    return fail(error);
  };
  auto verified = verify_release_directory(dir, keys, stage);
  if (!verified) return refuse(verified.error(), "");
  const auto& metadata = verified->metadata;
  const auto installed = read_deployed(options.install_dir);
  if (installed) {
    auto order = release::compare_release_versions(metadata.version, installed->version);
    if (!order) return refuse(order.error(), metadata.version);
    if (*order < 0) {
      return refuse(Error{ErrorCode::kFailedPrecondition, "release " + metadata.version + " is older than " +
                                                              installed->version + ", which is installed: no rollback"},
                    metadata.version);
    }
    if (*order == 0) {
      if (installed->binary_sha256 == verified->binary().sha256) {
        std::cerr << "release " << metadata.version << " is already installed\n";
        return 0;
      }
      return refuse(
          Error{ErrorCode::kFailedPrecondition,
                "release " + metadata.version + " is installed with another binary: a version is never replaced"},
          metadata.version);
    }
  }
  if (auto installed_ok = install_binary(dir, options.install_dir); !installed_ok) {
    return refuse(installed_ok.error(), metadata.version);
  }
  json::Writer state;
  state.begin_object().key("version").string(metadata.version).key("commit").string(metadata.commit);
  state.key("binary_sha256").string(verified->binary().sha256).key("stage").string(options.stage);
  state.key("deployed_at").string(format_timestamp(now())).end_object();
  if (auto written = write_file(fs::path(options.install_dir) / kDeployedStateFile, state.take() + "\n"); !written) {
    return fail(written.error());
  }
  if (auto recorded =
          record_deploy(options.config_path, {security::cli_actor(),
                                              "release.deployed",
                                              {{"version", metadata.version},
                                               {"commit", metadata.commit},
                                               {"binary_sha256", verified->binary().sha256},
                                               {"stage", options.stage},
                                               {"from", installed ? installed->version : std::string("none")}}});
      !recorded) {
    return fail(recorded.error());
  }
  std::cout << "deployed " << metadata.version << " (" << options.stage << ", binary sha256 "
            << verified->binary().sha256 << ")\n";
  return 0;
}

// ---- Staging acceptance --------------------------------------------------------------------

// The smoke suite: each check is recorded, passed or not, with what was seen.
class AcceptanceSuite {
 public:
  AcceptanceSuite(const AcceptanceOptions& options, std::string api_key)
      : options_(options), api_key_(std::move(api_key)) {
    http_.policy = net::AddressPolicy::kAny;  // staging is an operator's own host
    http_.ca_file = options.ca_file;
    http_.timeout = std::chrono::milliseconds(10000);
  }

  std::vector<release::AcceptanceCheck> run(const release::ReleaseMetadata& metadata, std::string* binary_sha256) {
    check_version(metadata, binary_sha256);
    check("ready", [&]() -> Result<std::string> {
      auto r = net::https_request("GET", options_.ops_url + "/health/ready", {}, "", http_);
      if (!r) return r.error();
      if (r->status != 200)
        return failed_precondition("/health/ready answered " + std::to_string(r->status) + ": " + r->body);
      return std::string("ready");
    });
    check("authentication_enforced", [&]() -> Result<std::string> {
      auto r = net::https_request("GET", options_.api_url + "/v2/templates", {{"Authorization", "Bearer not-a-token"}},
                                  "", http_);
      if (!r) return r.error();
      if (r->status != 403 && r->status != 401)
        return failed_precondition("a bad token got " + std::to_string(r->status));
      return "a bad token is refused with " + std::to_string(r->status);
    });
    check("templates", [&]() -> Result<std::string> {
      auto r = api("GET", "/v2/templates", "");
      if (!r) return r.error();
      if (r->status != 200) return failed_precondition("GET /v2/templates answered " + std::to_string(r->status));
      return std::string("listed");
    });
    std::string id;
    check("send_email", [&]() -> Result<std::string> {
      json::Writer body;
      body.begin_object()
          .key("email_address")
          .string(options_.email_address)
          .key("template_id")
          .string(options_.template_id);
      body.key("reference").string("acceptance-" + metadata.version).end_object();
      auto r = api("POST", "/v2/notifications/email", body.take());
      if (!r) return r.error();
      if (r->status != 201)
        return failed_precondition("POST /v2/notifications/email answered " + std::to_string(r->status) + ": " +
                                   r->body);
      auto doc = json::parse(r->body);
      const auto* field = doc ? doc->find("id") : nullptr;
      if (!field || !field->is_string()) return failed_precondition("the answer has no id");
      id = field->as_string();
      return "accepted " + id;
    });
    check("delivered", [&]() -> Result<std::string> {
      if (id.empty()) return failed_precondition("nothing was sent");
      if (options_.email_address.starts_with("simulate-delivered")) {
        return std::string("a simulated address: accepted and never sent, so delivery is not shown");
      }
      std::string status;
      for (int waited = 0; waited <= options_.timeout_seconds * 4; ++waited) {
        auto r = api("GET", "/v2/notifications/" + id, "");
        if (!r) return r.error();
        auto doc = json::parse(r->body);
        const auto* field = doc ? doc->find("status") : nullptr;
        status = field && field->is_string() ? field->as_string() : "";
        if (status == "delivered") return std::string("delivered");
        if (status.find("failure") != std::string::npos) return failed_precondition("the email ended " + status);
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      return failed_precondition("not delivered within " + std::to_string(options_.timeout_seconds) + " s (" + status +
                                 ")");
    });
    return std::move(checks_);
  }

 private:
  void check(std::string name, const std::function<Result<std::string>()>& body) {
    auto outcome = body();
    const bool passed = outcome.has_value();
    std::string detail = passed ? *outcome : outcome.error().message;
    std::cerr << (passed ? "pass " : "FAIL ") << name << ": " << detail << "\n";
    checks_.push_back({std::move(name), passed, std::move(detail)});
  }

  void check_version(const release::ReleaseMetadata& metadata, std::string* binary_sha256) {
    check("runs_release", [&]() -> Result<std::string> {
      auto r = net::https_request("GET", options_.ops_url + "/version", {}, "", http_);
      if (!r) return r.error();
      auto doc = json::parse(r->body);
      const auto* digest = doc ? doc->find("binary_sha256") : nullptr;
      if (r->status != 200 || !digest || !digest->is_string())
        return failed_precondition("/version gave no binary digest");
      *binary_sha256 = digest->as_string();
      const auto* expected = release::find_artifact(metadata.artifacts, release::kBinaryFile);
      if (expected == nullptr || expected->sha256 != *binary_sha256) {
        return failed_precondition("the staging node runs binary " + *binary_sha256 + ", not release " +
                                   metadata.version + "'s");
      }
      return "runs " + metadata.version + " (" + *binary_sha256 + ")";
    });
  }

  Result<net::HttpResponse> api(std::string_view method, const std::string& path, const std::string& body) {
    // A GOV.UK API key ends "<service id>-<secret>", each a 36-character UUID.
    if (api_key_.size() < 74) return invalid_argument("the API key is not a GOV.UK Notify key");
    const std::string service = api_key_.substr(api_key_.size() - 73, 36);
    const std::string secret = api_key_.substr(api_key_.size() - 36);
    const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    const std::string token = crypto::sign_hs256(
        json::Value::object({{"iss", json::Value::string(service)}, {"iat", json::Value::number(std::to_string(iat))}}),
        secret);
    net::Headers headers{{"Authorization", "Bearer " + token}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return net::https_request(method, options_.api_url + path, headers, body, http_);
  }

  const AcceptanceOptions& options_;
  std::string api_key_;
  net::HttpClientOptions http_;
  std::vector<release::AcceptanceCheck> checks_;
};

}  // namespace

// ---- Commands ------------------------------------------------------------------------------

int run_acceptance(const AcceptanceOptions& options) {
  if (options.api_url.empty() || options.ops_url.empty() || options.template_id.empty() ||
      options.release_dir.empty()) {
    return fail(invalid_argument("--release, --api-url, --ops-url and --template-id are needed"));
  }
  auto keys = load_trust(options.trust);
  if (!keys) return fail(keys.error());
  // The release must verify for staging first: acceptance is recorded only for a signed release.
  auto verified = verify_release_directory(options.release_dir, *keys, release::Stage::kStaging);
  if (!verified) return fail(verified.error());
  auto signer = load_signer(options.key);
  if (!signer) return fail(signer.error());
  const std::string api_key = passphrase_from(options.api_key_env);
  if (api_key.empty())
    return fail(invalid_argument("the staging API key is read from $" + options.api_key_env + ", which is not set"));
  release::AcceptanceRecord record;
  record.version = verified->metadata.version;
  record.commit = verified->metadata.commit;
  record.staging_url = options.api_url;
  record.staging_node = options.node.empty() ? builder_id() : options.node;
  record.ran_at = now();
  AcceptanceSuite suite(options, api_key);
  std::string running;
  record.checks = suite.run(verified->metadata, &running);
  record.binary_sha256 = running.size() == 64 ? running : std::string(64, '0');
  auto envelope = release::sign_envelope(std::string(release::kAcceptancePayloadType),
                                         release::acceptance_record_json(record), **signer);
  if (!envelope) return fail(envelope.error());
  if (auto written =
          write_file(fs::path(options.release_dir) / release::kAcceptanceFile, release::envelope_json(*envelope));
      !written) {
    return fail(written.error());
  }
  if (!record.passed()) {
    std::cerr << "herald: release " << record.version << " failed staging acceptance (recorded)\n";
    return 1;
  }
  std::cout << "release " << record.version << " passed staging acceptance on " << record.staging_node << "\n";
  return 0;
}

int run_release_keygen(const ReleaseKeygenOptions& options) {
  if (options.out.empty() || options.public_out.empty()) {
    return fail(invalid_argument("--out and --public-out are needed"));
  }
  std::string passphrase = passphrase_from(options.key.passphrase_env);
  if (passphrase.empty()) return fail(invalid_argument("set the key's passphrase in $" + options.key.passphrase_env));
  auto seed = crypto::generate_ed25519_seed();
  if (!seed) return fail(seed.error());
  auto pem = crypto::ed25519_private_key_pem(*seed, passphrase);
  crypto::wipe_string(passphrase);
  if (!pem) return fail(pem.error());
  auto public_key = crypto::ed25519_public_key(*seed);
  if (!public_key) return fail(public_key.error());
  auto public_pem = crypto::ed25519_public_key_pem(*public_key);
  if (!public_pem) return fail(public_pem.error());
  std::error_code ec;
  if (fs::exists(options.out, ec)) return fail(failed_precondition(options.out + " exists: not overwriting a key"));
  if (auto written = write_file(options.out, *pem, fs::perms(0600)); !written) return fail(written.error());
  if (auto written = write_file(options.public_out, *public_pem); !written) return fail(written.error());
  std::cout << crypto::ed25519_key_id(*public_key) << "\n";
  return 0;
}

int run_release_verify_commits(const CommitRangeOptions& options) {
  auto count = verify_commits(options, nullptr, nullptr);
  if (!count) return fail(count.error());
  std::cout << *count << " commit" << (*count == 1 ? "" : "s") << " signed by allowed signers\n";
  return 0;
}

int run_release_build(const ReleaseBuildOptions& options) {
  if (options.out.empty()) return fail(invalid_argument("--out DIR is needed"));
  if (options.builds < 1) return fail(invalid_argument("--builds must be at least 1"));
  const bool package = options.targets.size() == 1 && options.targets.front() == "herald";
  std::string commit;
  std::string range;
  if (auto signed_range = verify_commits(options.range, &commit, &range); !signed_range) {
    return fail(signed_range.error());
  }
  auto signer = load_signer(options.key);
  if (!signer) return fail(signer.error());
  auto epoch = run_checked({"git", "-C", options.range.repo, "log", "-1", "--format=%ct", commit});
  if (!epoch) return fail(epoch.error());
  *epoch = trimmed(*epoch);
  auto version = run_checked({"git", "-C", options.range.repo, "show", commit + ":CMakeLists.txt"});
  if (!version) return fail(version.error());
  const auto at = version->find("project(herald VERSION ");
  if (at == std::string::npos) return fail(invalid_argument("CMakeLists.txt at " + commit + " names no version"));
  const std::string release_version = version->substr(at + 23, version->find_first_of(" )", at + 23) - (at + 23));

  const Timestamp started = now();
  const fs::path work = options.work_dir.empty()
                            ? fs::temp_directory_path() / ("herald-release-" + commit.substr(0, 12))
                            : fs::path(options.work_dir);
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  // Different paths of different lengths: a path that leaked into an output would differ.
  std::vector<std::vector<fs::path>> outputs;
  for (int i = 0; i < options.builds; ++i) {
    const fs::path dir = work / ("build-" + std::to_string(i + 1) + std::string(static_cast<std::size_t>(i) * 7, 'x'));
    if (auto built = clean_build(options, commit, *epoch, dir, package); !built) return fail(built.error());
    outputs.push_back(build_outputs(dir, options, package));
    if (outputs.back().empty()) return fail(internal_error("the build in " + dir.string() + " made nothing"));
  }
  std::vector<release::Artifact> first;
  for (const auto& path : outputs.front()) {
    auto measured = measure(path);
    if (!measured) return fail(measured.error());
    first.push_back(*measured);
  }
  for (std::size_t b = 1; b < outputs.size(); ++b) {
    if (outputs[b].size() != first.size())
      return fail(data_loss("build " + std::to_string(b + 1) + " made other files"));
    for (std::size_t i = 0; i < first.size(); ++i) {
      auto measured = measure(outputs[b][i]);
      if (!measured) return fail(measured.error());
      if (measured->name != first[i].name || measured->sha256 != first[i].sha256) {
        return fail(data_loss("not reproducible: " + first[i].name + " is " + first[i].sha256 + " in build 1 and " +
                              measured->sha256 + " in build " + std::to_string(b + 1)));
      }
    }
  }
  std::cerr << "reproducible: " << options.builds << " clean builds gave identical files\n";
  fs::create_directories(options.out, ec);
  for (const auto& path : outputs.front()) {
    if (auto copied = copy_into(path, fs::path(options.out) / path.filename()); !copied) return fail(copied.error());
  }
  release::Provenance provenance;
  provenance.repository = fs::absolute(options.range.repo).lexically_normal().string();
  provenance.commit = commit;
  provenance.commit_range = range;
  provenance.build_command = "herald release build --targets";
  for (const auto& t : options.targets) provenance.build_command += " " + t;
  provenance.source_date_epoch = *epoch;
  provenance.tools = tool_versions();
  provenance.builder_id = builder_id();
  provenance.invocation_id = crypto::random_uuid().to_string();
  provenance.started_on = started;
  provenance.finished_on = now();
  provenance.reproduced_builds = options.builds;
  // The npm packages are the admin UI's, built into the binary: only a full build has them.
  const fs::path lock = package ? fs::path(options.range.repo) / "ui/package-lock.json" : fs::path();
  const Timestamp source_date = from_micros(std::stoll(*epoch) * 1'000'000);
  if (auto signed_release = sign_release(options.out, first, provenance, release_version,
                                         std::chrono::days(options.valid_days), lock, source_date, **signer);
      !signed_release) {
    return fail(signed_release.error());
  }
  if (!options.keep_work) fs::remove_all(work, ec);
  std::cout << "release " << release_version << " (" << commit << ") in " << options.out << "\n";
  return 0;
}

int run_release_assemble(const ReleaseAssembleOptions& options) {
  if (options.out.empty() || options.binary.empty() || options.version.empty() || options.commit.empty()) {
    return fail(invalid_argument("--binary, --version, --commit and --out are needed"));
  }
  if (auto ok = release::compare_release_versions(options.version, options.version); !ok) return fail(ok.error());
  auto signer = load_signer(options.key);
  if (!signer) return fail(signer.error());
  std::error_code ec;
  fs::create_directories(options.out, ec);
  const Timestamp started = now();
  std::vector<release::Artifact> artifacts;
  std::vector<std::string> files{options.binary};
  files.insert(files.end(), options.extra.begin(), options.extra.end());
  for (const auto& file : files) {
    const fs::path target = fs::path(options.out) / (file == options.binary ? std::string(release::kBinaryFile)
                                                                            : fs::path(file).filename().string());
    if (auto copied = copy_into(file, target); !copied) return fail(copied.error());
    auto measured = measure(target);
    if (!measured) return fail(measured.error());
    artifacts.push_back(*measured);
  }
  release::Provenance provenance;
  provenance.repository = options.repository;
  provenance.commit = options.commit;
  provenance.commit_range = options.commit;
  provenance.build_command = "herald release assemble (built elsewhere; not reproduced here)";
  provenance.source_date_epoch = "";
  provenance.builder_id = builder_id();
  provenance.invocation_id = crypto::random_uuid().to_string();
  provenance.started_on = started;
  provenance.finished_on = now();
  provenance.reproduced_builds = 0;
  if (auto signed_release =
          sign_release(options.out, artifacts, provenance, options.version, std::chrono::days(options.valid_days),
                       options.package_lock, started, **signer);
      !signed_release) {
    return fail(signed_release.error());
  }
  std::cout << "release " << options.version << " in " << options.out << "\n";
  return 0;
}

int run_release_verify(const ReleaseVerifyOptions& options) {
  auto keys = load_trust(options.trust);
  if (!keys) return fail(keys.error());
  const auto stage = options.stage == "live" ? release::Stage::kLive : release::Stage::kStaging;
  auto verified = verify_release_directory(options.release_dir, *keys, stage);
  if (!verified) return fail(verified.error());
  const auto& m = verified->metadata;
  std::cout << "release " << m.version << " (" << m.commit << ") verifies for " << options.stage << "\n"
            << "  binary sha256 " << verified->binary().sha256 << "\n"
            << "  expires " << format_timestamp(m.expires) << "\n"
            << "  built by " << verified->provenance.builder_id << ", reproduced by "
            << verified->provenance.reproduced_builds << " clean builds, signed range "
            << verified->provenance.commit_range << "\n";
  if (verified->acceptance) {
    std::cout << "  passed staging on " << verified->acceptance->staging_node << " at "
              << format_timestamp(verified->acceptance->ran_at) << "\n";
  }
  return 0;
}

int run_promote(const PromoteOptions& options) {
  if (options.to != "staging" && options.to != "live") return fail(invalid_argument("--to must be staging or live"));
  if (options.channels.empty()) return fail(invalid_argument("--channels DIR is needed"));
  auto keys = load_trust(options.trust);
  if (!keys) return fail(keys.error());
  const auto stage = options.to == "live" ? release::Stage::kLive : release::Stage::kStaging;
  auto verified = verify_release_directory(options.release_dir, *keys, stage);
  if (!verified) return fail(verified.error());
  const auto& version = verified->metadata.version;
  const fs::path channel = fs::path(options.channels) / options.to;
  const fs::path target = channel / version;
  std::error_code ec;
  fs::create_directories(channel, ec);
  if (fs::exists(target, ec)) {
    auto existing = verify_release_directory(target, *keys, stage);
    if (existing && existing->binary().sha256 == verified->binary().sha256) {
      std::cerr << version << " is already in " << options.to << "\n";
      return 0;
    }
    return fail(failed_precondition(target.string() + " exists with other content: a version is never replaced"));
  }
  // Copied whole into a hidden directory, then renamed into place: a host polling the channel
  // never sees half a release.
  const fs::path staging_dir = channel / ("." + version + ".incoming");
  fs::remove_all(staging_dir, ec);
  fs::copy(options.release_dir, staging_dir, fs::copy_options::recursive, ec);
  if (ec) return fail(unavailable("cannot copy the release: " + ec.message()));
  auto copied = verify_release_directory(staging_dir, *keys, stage);
  if (!copied) return fail(copied.error());
  fs::rename(staging_dir, target, ec);
  if (ec) return fail(unavailable("cannot publish " + target.string() + ": " + ec.message()));
  std::cout << "promoted " << version << " to " << options.to << " (" << target.string() << ")\n";
  return 0;
}

int run_deploy(const DeployOptions& options) {
  if (options.stage != "staging" && options.stage != "live")
    return fail(invalid_argument("--stage must be staging or live"));
  if (options.install_dir.empty()) return fail(invalid_argument("--install-dir DIR is needed"));
  if (options.release_dir.empty() == options.watch.empty()) {
    return fail(invalid_argument("give a release directory, or --watch CHANNEL_DIR"));
  }
  auto keys = load_trust(options.trust);
  if (!keys) return fail(keys.error());
  if (!options.release_dir.empty()) return deploy_once(options, *keys, options.release_dir);
  // Polling a channel: whatever verifies and is newer than what is installed goes in.
  const auto stage = options.stage == "live" ? release::Stage::kLive : release::Stage::kStaging;
  for (int round = 0; options.rounds == 0 || round < options.rounds; ++round) {
    if (round > 0) std::this_thread::sleep_for(std::chrono::seconds(options.interval_seconds));
    auto newest = newest_verified(options.watch, *keys, stage);
    if (!newest) {
      std::cerr << newest.error().message << "\n";
      continue;
    }
    const auto installed = read_deployed(options.install_dir);
    auto verified = verify_release_directory(*newest, *keys, stage);
    if (verified && installed && verified->metadata.version == installed->version) continue;
    (void)deploy_once(options, *keys, *newest);
  }
  return 0;
}

}  // namespace herald::cli
