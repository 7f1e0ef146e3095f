#include "ops/backup_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace herald::ops {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kSmallChunk = 64;
constexpr std::string_view kCanary = "CANARY-nhs-9434765919-jane.doe@example.org";

// A fresh directory under TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/herald-backup-XXXXXX";
    HERALD_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(std::string_view name) const { return (path_ / name).string(); }
  const fs::path& root() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  HERALD_CHECK(out.good(), "cannot write test file");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Deterministic, non-repeating bytes, so a misplaced chunk cannot decrypt to the same data.
std::string pattern_bytes(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

void flip(std::string& bytes, std::size_t at, unsigned mask) {
  bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ mask);
}

crypto::SecretBytes test_key(char fill = 'k') { return crypto::SecretBytes(std::string(32, fill)); }

BackupHeader test_header() {
  BackupHeader header;
  header.created = from_micros(1'790'000'000'123'456);
  header.schema_version = 7;
  header.herald_version = "0.4.0-test";
  header.kek_id = "file-3";
  header.wrapped_key = std::string("\x00\x01wrapped\xff", 10);
  return header;
}

struct Captured {
  std::vector<std::string> order;  // section names, one entry per sink call
  std::map<std::string, std::string> bytes;
};

BackupSink capture_into(Captured& captured) {
  return [&captured](std::string_view section, std::string_view bytes) -> Result<void> {
    captured.order.emplace_back(section);
    captured.bytes[std::string(section)].append(bytes);
    return ok();
  };
}

// A backup of four sections (one empty in the middle, one empty at the end, one spanning many
// 64-byte chunks, a chunk shared by two sections) in a temp dir.
class BackupFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = pattern_bytes(1000, 1);
    database_.replace(500, kCanary.size(), kCanary);
    audit_ = "checkpoint 1 abc\ncheckpoint 2 def\n" + std::string(kCanary) + "\n";
    write_file(dir_.path("database.in"), database_);
    write_file(dir_.path("empty.in"), "");
    write_file(dir_.path("audit.in"), audit_);
    inputs_ = {{"database", dir_.path("database.in")},
               {"empty", dir_.path("empty.in")},
               {"audit-checkpoints", dir_.path("audit.in")},
               {"trailing-empty", dir_.path("empty.in")}};
  }

  std::string backup_path() const { return dir_.path("herald.backup"); }

  std::string write_small_chunks() {
    auto written = write_backup(backup_path(), test_header(), test_key(), inputs_, {kSmallChunk});
    HERALD_CHECK(written.has_value(), "write_backup failed");
    return read_file(backup_path());
  }

  // Offset of the first chunk in `file`.
  static std::size_t body_offset(const std::string& file) {
    std::size_t header_bytes = 0;
    for (std::size_t i = 9; i < 13; ++i) header_bytes = (header_bytes << 8) | static_cast<unsigned char>(file[i]);
    return 13 + header_bytes;
  }

  // Rewrites the backup with `bytes` and expects read_backup to fail with kDataLoss.
  void expect_data_loss(const std::string& bytes, const std::string& what, std::string_view message_part = "") {
    fs::remove(backup_path());
    write_file(backup_path(), bytes);
    auto read = read_backup(backup_path(), test_key(), nullptr);
    ASSERT_FALSE(read) << what;
    EXPECT_EQ(read.error().code, ErrorCode::kDataLoss) << what << ": " << read.error().message;
    EXPECT_NE(read.error().message.find(message_part), std::string::npos) << read.error().message;
    EXPECT_EQ(read.error().message.find("CANARY"), std::string::npos);
    auto in_memory = read_backup_bytes(bytes, test_key(), nullptr);
    ASSERT_FALSE(in_memory) << what;
    EXPECT_EQ(in_memory.error().code, ErrorCode::kDataLoss) << what;
  }

  TempDir dir_;
  std::string database_;
  std::string audit_;
  std::vector<BackupSection> inputs_;
};

TEST_F(BackupFileTest, RoundTripsSectionsInOrder) {
  auto written = write_backup(backup_path(), test_header(), test_key(), inputs_, {kSmallChunk});
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->sections.size(), 4u);
  EXPECT_EQ(written->sections[0].name, "database");
  EXPECT_EQ(written->sections[0].size, 1000u);
  EXPECT_EQ(written->sections[1].size, 0u);
  EXPECT_EQ(written->sections[2].size, audit_.size());

  Captured captured;
  auto read = read_backup(backup_path(), test_key(), capture_into(captured));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(captured.bytes["database"], database_);
  EXPECT_EQ(captured.bytes["empty"], "");
  EXPECT_EQ(captured.bytes["audit-checkpoints"], audit_);
  EXPECT_EQ(captured.bytes["trailing-empty"], "");
  // In file order; each empty section gets exactly one call.
  std::vector<std::string> distinct;
  for (const auto& name : captured.order) {
    if (distinct.empty() || distinct.back() != name) distinct.push_back(name);
  }
  EXPECT_EQ(distinct, (std::vector<std::string>{"database", "empty", "audit-checkpoints", "trailing-empty"}));
  EXPECT_EQ(std::count(captured.order.begin(), captured.order.end(), "empty"), 1);
  EXPECT_GT(std::count(captured.order.begin(), captured.order.end(), "database"), 10);

  EXPECT_EQ(read->created, test_header().created);
  EXPECT_EQ(read->schema_version, 7);
  EXPECT_EQ(read->herald_version, "0.4.0-test");
  EXPECT_EQ(read->kek_id, "file-3");
  EXPECT_EQ(read->wrapped_key, test_header().wrapped_key);
  ASSERT_EQ(read->sections.size(), 4u);
  EXPECT_EQ(read->sections[2].name, "audit-checkpoints");
  EXPECT_EQ(read->sections[2].size, audit_.size());

  // Body: ceil(total / 64) chunks, each with a 16-byte tag.
  const std::string file = read_file(backup_path());
  const std::size_t total = database_.size() + audit_.size();
  EXPECT_EQ(file.size(), body_offset(file) + total + ((total + kSmallChunk - 1) / kSmallChunk) * 16);
}

TEST_F(BackupFileTest, HeaderReadsWithoutKeyAndMatchesTheAuthenticatedOne) {
  write_small_chunks();
  auto header = read_backup_header(backup_path());
  ASSERT_TRUE(header) << header.error().message;
  EXPECT_EQ(header->kek_id, "file-3");
  EXPECT_EQ(header->wrapped_key, test_header().wrapped_key);
  EXPECT_EQ(header->sections.size(), 4u);
  auto in_memory = parse_backup_header(read_file(backup_path()));
  ASSERT_TRUE(in_memory);
  EXPECT_EQ(in_memory->wrapped_key, header->wrapped_key);
}

TEST_F(BackupFileTest, VerifyOnlyAndInMemoryRead) {
  const std::string file = write_small_chunks();
  auto verified = read_backup(backup_path(), test_key(), nullptr);
  ASSERT_TRUE(verified) << verified.error().message;
  Captured captured;
  auto in_memory = read_backup_bytes(file, test_key(), capture_into(captured));
  ASSERT_TRUE(in_memory) << in_memory.error().message;
  EXPECT_EQ(captured.bytes["database"], database_);
}

TEST_F(BackupFileTest, MultiMebibyteSectionWithDefaultChunks) {
  const std::string big = pattern_bytes((5u << 20) / 2 + 3, 9);  // 2.5 MiB: three 1 MiB chunks
  write_file(dir_.path("big.in"), big);
  auto written = write_backup(backup_path(), test_header(), test_key(), {{"database", dir_.path("big.in")}});
  ASSERT_TRUE(written) << written.error().message;
  std::string out;
  int calls = 0;
  auto read = read_backup(backup_path(), test_key(), [&](std::string_view, std::string_view bytes) {
    out.append(bytes);
    ++calls;
    return ok();
  });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(out == big);
  const std::string file = read_file(backup_path());
  EXPECT_EQ(file.size(), body_offset(file) + big.size() + 3 * 16);
}

TEST_F(BackupFileTest, WrongKeyIsDataLoss) {
  write_small_chunks();
  auto read = read_backup(backup_path(), test_key('j'), nullptr);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(read.error().message.find("key"), std::string::npos);
  EXPECT_EQ(read.error().message.find("kkkk"), std::string::npos);
  auto short_key = read_backup(backup_path(), crypto::SecretBytes(std::string(16, 'k')), nullptr);
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(BackupFileTest, AnyFlippedBitAnywhereIsDataLoss) {
  const std::string file = write_small_chunks();
  for (std::size_t i = 0; i < file.size(); ++i) {
    std::string tampered = file;
    flip(tampered, i, 0x04);
    auto read = read_backup_bytes(tampered, test_key(), nullptr);
    ASSERT_FALSE(read) << "byte " << i;
    ASSERT_EQ(read.error().code, ErrorCode::kDataLoss) << "byte " << i << ": " << read.error().message;
  }
}

TEST_F(BackupFileTest, FlippedHeaderBodyAndTagBytesAreNamed) {
  const std::string file = write_small_chunks();
  const std::size_t body = body_offset(file);
  const std::size_t sealed_chunk = kSmallChunk + 16;

  std::string header_flip = file;
  const std::size_t kek = file.find("file-3");
  ASSERT_NE(kek, std::string::npos);
  header_flip[kek + 5] = '4';  // file-3 -> file-4: parses, but every chunk's AAD changes
  expect_data_loss(header_flip, "header", "chunk 0 of");

  std::string body_flip = file;
  flip(body_flip, body + 2 * sealed_chunk + 10, 0x01);
  expect_data_loss(body_flip, "chunk body", "chunk 2 of");

  std::string tag_flip = file;
  flip(tag_flip, body + 4 * sealed_chunk - 1, 0x80);
  expect_data_loss(tag_flip, "tag", "chunk 3 of");
}

TEST_F(BackupFileTest, TruncationIsDataLoss) {
  const std::string file = write_small_chunks();
  const std::size_t body = body_offset(file);
  const std::size_t sealed_chunk = kSmallChunk + 16;
  expect_data_loss(file.substr(0, file.size() - 1), "last byte", "truncated");
  expect_data_loss(file.substr(0, body + 3 * sealed_chunk + 7), "inside a chunk", "truncated");
  // Exactly at the boundary before the final chunk: every chunk left is whole and authentic.
  const std::size_t total = database_.size() + audit_.size();
  const std::size_t last_chunk_bytes = total % kSmallChunk == 0 ? kSmallChunk : total % kSmallChunk;
  expect_data_loss(file.substr(0, file.size() - last_chunk_bytes - 16), "before the final chunk", "truncated");
  expect_data_loss(file.substr(0, body), "header only", "truncated");
  expect_data_loss(file.substr(0, body - 1), "inside the header", "truncated");
  expect_data_loss(file.substr(0, 5), "inside the magic", "HERALDBK");
  expect_data_loss("", "empty file", "HERALDBK");
}

TEST_F(BackupFileTest, ReorderedOrRepeatedChunksAreDataLoss) {
  const std::string file = write_small_chunks();
  const std::size_t body = body_offset(file);
  const std::size_t sealed_chunk = kSmallChunk + 16;
  std::string swapped = file;
  for (std::size_t i = 0; i < sealed_chunk; ++i) {
    std::swap(swapped[body + 1 * sealed_chunk + i], swapped[body + 2 * sealed_chunk + i]);
  }
  expect_data_loss(swapped, "swapped chunks 1 and 2", "chunk 1 of");

  std::string repeated = file;  // chunk 1 copied over chunk 2
  repeated.replace(body + 2 * sealed_chunk, sealed_chunk, file.substr(body + sealed_chunk, sealed_chunk));
  expect_data_loss(repeated, "repeated chunk", "chunk 2 of");
}

TEST_F(BackupFileTest, TrailingDataIsDataLoss) {
  const std::string file = write_small_chunks();
  expect_data_loss(file + "x", "one byte", "trailing");
  const std::size_t body = body_offset(file);
  expect_data_loss(file + file.substr(body, kSmallChunk + 16), "a whole extra chunk", "trailing");
}

TEST_F(BackupFileTest, ChunksFromAnotherBackupUnderTheSameKeyDoNotOpen) {
  const std::string first = write_small_chunks();
  fs::remove(backup_path());
  const std::string second = write_small_chunks();
  ASSERT_EQ(first.size(), second.size());
  EXPECT_NE(first, second) << "each file must draw its own nonce prefix";
  const std::size_t body = body_offset(first);
  expect_data_loss(first.substr(0, body) + second.substr(body), "spliced body", "chunk 0 of");
}

TEST_F(BackupFileTest, InvalidSectionNamesAreRefused) {
  for (const std::string& name : std::vector<std::string>{"../etc", "a/b", "", "Database", "db.sqlite", std::string(65, 'a'), std::string("a\0b", 3)}) {
    auto written = write_backup(backup_path(), test_header(), test_key(), {{name, dir_.path("audit.in")}});
    ASSERT_FALSE(written) << name;
    EXPECT_EQ(written.error().code, ErrorCode::kInvalidArgument);
  }
  auto repeated = write_backup(backup_path(), test_header(), test_key(),
                               {{"a", dir_.path("audit.in")}, {"a", dir_.path("audit.in")}});
  ASSERT_FALSE(repeated);
  EXPECT_EQ(repeated.error().code, ErrorCode::kInvalidArgument);
  auto none = write_backup(backup_path(), test_header(), test_key(), {});
  ASSERT_FALSE(none);
  EXPECT_FALSE(fs::exists(backup_path()));
  EXPECT_FALSE(fs::exists(backup_path() + ".partial"));
  EXPECT_TRUE(is_valid_backup_section_name(std::string(64, 'z')));
  EXPECT_TRUE(is_valid_backup_section_name("audit-checkpoints-2"));
}

TEST_F(BackupFileTest, CraftedTraversalNameInHeaderWritesNothingOutsideDir) {
  write_file(dir_.path("x.in"), "payload");
  ASSERT_TRUE(write_backup(backup_path(), test_header(), test_key(), {{"zzevil", dir_.path("x.in")}}));
  std::string file = read_file(backup_path());
  const std::size_t at = file.find("\"zzevil\"");
  ASSERT_NE(at, std::string::npos);
  file.replace(at + 1, 6, "../evl");  // same length: the header length still matches
  fs::remove(backup_path());
  write_file(backup_path(), file);
  fs::create_directory(dir_.path("out"));

  auto header = read_backup_header(backup_path());
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, ErrorCode::kDataLoss);
  auto extracted = extract_backup(backup_path(), test_key(), dir_.path("out"));
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().code, ErrorCode::kDataLoss);
  EXPECT_FALSE(fs::exists(dir_.path("evl")));
  EXPECT_TRUE(fs::is_empty(dir_.path("out")));
}

TEST_F(BackupFileTest, FileIsPrivateAndNoPartialIsLeft) {
  write_small_chunks();
  struct stat st {};
  ASSERT_EQ(::stat(backup_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(backup_path() + ".partial"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.root())) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names.size(), 4u);  // three inputs and the backup
}

TEST_F(BackupFileTest, NeverReplacesAFileOrAStalePartial) {
  write_file(backup_path(), "an older backup");
  auto over_file = write_backup(backup_path(), test_header(), test_key(), inputs_);
  ASSERT_FALSE(over_file);
  EXPECT_EQ(over_file.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(read_file(backup_path()), "an older backup");

  fs::remove(backup_path());
  write_file(backup_path() + ".partial", "crashed");
  auto over_partial = write_backup(backup_path(), test_header(), test_key(), inputs_);
  ASSERT_FALSE(over_partial);
  EXPECT_EQ(over_partial.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(read_file(backup_path() + ".partial"), "crashed");  // left for the operator
  EXPECT_FALSE(fs::exists(backup_path()));
}

TEST_F(BackupFileTest, FailedWriteLeavesNothing) {
  auto missing = write_backup(backup_path(), test_header(), test_key(),
                              {{"database", dir_.path("database.in")}, {"audit", dir_.path("no-such-file")}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(backup_path()));
  EXPECT_FALSE(fs::exists(backup_path() + ".partial"));

  auto directory = write_backup(backup_path(), test_header(), test_key(), {{"database", dir_.root().string()}});
  ASSERT_FALSE(directory);
  EXPECT_FALSE(fs::exists(backup_path() + ".partial"));

  BackupHeader bad = test_header();
  bad.kek_id = "";
  EXPECT_FALSE(write_backup(backup_path(), bad, test_key(), inputs_));
  bad = test_header();
  bad.wrapped_key = std::string(1025, 'w');
  EXPECT_FALSE(write_backup(backup_path(), bad, test_key(), inputs_));
  EXPECT_FALSE(write_backup(backup_path(), test_header(), test_key(), inputs_, {8}));  // chunk too small
  EXPECT_FALSE(write_backup(backup_path(), test_header(), crypto::SecretBytes(std::string(31, 'k')), inputs_));
  EXPECT_FALSE(fs::exists(backup_path()));
  EXPECT_FALSE(fs::exists(backup_path() + ".partial"));
}

TEST_F(BackupFileTest, PlaintextCanaryNeverAppearsInTheFile) {
  ASSERT_NE(read_file(dir_.path("database.in")).find(kCanary), std::string::npos);  // the scan can see it
  const std::string file = write_small_chunks();
  EXPECT_EQ(file.find(kCanary), std::string::npos);
  EXPECT_EQ(file.find("CANARY"), std::string::npos);
  EXPECT_EQ(file.find("checkpoint 1 abc"), std::string::npos);  // section names are public
  EXPECT_EQ(file.find(std::string(32, 'k')), std::string::npos);  // nor the key
}

TEST_F(BackupFileTest, SinkErrorStopsTheRead) {
  write_small_chunks();
  int calls = 0;
  auto read = read_backup(backup_path(), test_key(), [&](std::string_view, std::string_view) -> Result<void> {
    ++calls;
    return unavailable("disk full");
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST_F(BackupFileTest, ExtractWritesPrivateFiles) {
  write_small_chunks();
  fs::create_directory(dir_.path("out"));
  auto extracted = extract_backup(backup_path(), test_key(), dir_.path("out"));
  ASSERT_TRUE(extracted) << extracted.error().message;
  EXPECT_EQ(read_file(dir_.path("out/database")), database_);
  EXPECT_EQ(read_file(dir_.path("out/audit-checkpoints")), audit_);
  EXPECT_TRUE(fs::exists(dir_.path("out/empty")));
  EXPECT_EQ(fs::file_size(dir_.path("out/empty")), 0u);
  EXPECT_TRUE(fs::exists(dir_.path("out/trailing-empty")));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.path("out/database").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(BackupFileTest, FailedExtractLeavesNothingBehind) {
  std::string file = write_small_chunks();
  flip(file, file.size() - 3, 0x01);  // the final chunk's tag: every section is written first
  fs::remove(backup_path());
  write_file(backup_path(), file);
  fs::create_directory(dir_.path("out"));
  auto extracted = extract_backup(backup_path(), test_key(), dir_.path("out"));
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().code, ErrorCode::kDataLoss);
  EXPECT_TRUE(fs::is_empty(dir_.path("out")));

  // A file already there is neither overwritten nor removed; the sections before it are.
  fs::remove(backup_path());
  write_small_chunks();
  write_file(dir_.path("out/audit-checkpoints"), "someone else's");
  auto clash = extract_backup(backup_path(), test_key(), dir_.path("out"));
  ASSERT_FALSE(clash);
  EXPECT_EQ(read_file(dir_.path("out/audit-checkpoints")), "someone else's");
  EXPECT_FALSE(fs::exists(dir_.path("out/database")));
  EXPECT_FALSE(fs::exists(dir_.path("out/empty")));

  auto no_dir = extract_backup(backup_path(), test_key(), dir_.path("missing"));
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code, ErrorCode::kNotFound);
}

TEST_F(BackupFileTest, MalformedHeadersAreDataLoss) {
  const std::string file = write_small_chunks();
  std::string version = file;
  version[8] = 2;
  expect_data_loss(version, "format version", "version 2");
  std::string length = file;
  length[9] = 0x7f;  // a header of 2 GiB
  expect_data_loss(length, "header length", "out of range");
  std::string zero_length = file;
  for (std::size_t i = 9; i < 13; ++i) zero_length[i] = 0;
  expect_data_loss(zero_length, "empty header", "out of range");
}

}  // namespace
}  // namespace herald::ops
