#include "store/records.h"

namespace herald::store {

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kNormal: return "normal";
    case KeyType::kTeam: return "team";
    case KeyType::kTest: return "test";
  }
  return "normal";
}

std::optional<KeyType> parse_key_type(std::string_view name) {
  if (name == "normal" || name == "live") return KeyType::kNormal;
  if (name == "team") return KeyType::kTeam;
  if (name == "test") return KeyType::kTest;
  return std::nullopt;
}

}  // namespace herald::store
