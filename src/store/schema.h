#pragma once
// The schema version every backend's migrations reach (store/sqlite/migrations.cc and
// store/postgres/migrations.cc express the same numbered migrations; both check this).

namespace herald::store {

inline constexpr int kSchemaVersion = 12;

}  // namespace herald::store
