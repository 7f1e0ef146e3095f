#pragma once
// Moving a service's store from the embedded SQLite file to PostgreSQL (`herald
// migrate-store`). Offline: Herald must be stopped while it runs (the source is read in one
// snapshot, but notifications accepted after it would be left behind).
//
// Rows are copied as stored: ciphertext envelopes, blind indexes and audit hashes are
// byte-identical on both backends (store/sealed_row.h), so nothing is decrypted or re-encrypted
// on the way and the audit chain stays verifiable. The data keys move with their ids (every
// envelope names its key by id) into the PostgreSQL key store, still wrapped under the same KEK.
// Everything is written in one transaction per database: a failure leaves the target empty.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace herald::store::transfer {

struct TableCount {
  std::string table;
  std::int64_t source = 0;
  std::int64_t target = 0;
};

struct TransferReport {
  std::vector<TableCount> tables;  // the data tables, then "herald_keys.data_keys"
  bool counts_match() const;
};

// Refuses a target that already holds services, notifications or data keys.
Result<TransferReport> copy_sqlite_to_postgres(const std::string& sqlite_path, const std::string& sqlite_keys_path,
                                               const std::string& pg_url, const std::string& pg_keys_url);

}  // namespace herald::store::transfer
