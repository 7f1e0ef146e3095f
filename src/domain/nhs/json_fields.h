#pragma once
// Small helpers for the NHS Notify records Herald stores as JSON (demographics records, enriched
// recipients): optional string members, written and read back.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace herald::domain::nhs {

// Writes "key": value only when there is a value.
inline void optional_member(json::Writer& w, std::string_view key, const std::optional<std::string>& value) {
  if (value) w.key(key).string(*value);
}

// The member's string, or nullopt when absent or not a string.
inline std::optional<std::string> string_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

// The strings of an array member (other items skipped); empty when absent.
inline std::vector<std::string> string_array_member(const json::Value& object, std::string_view key) {
  std::vector<std::string> out;
  const json::Value* items = object.find(key);
  if (items == nullptr || !items->is_array()) return out;
  for (const json::Value& item : items->as_array()) {
    if (item.is_string()) out.push_back(item.as_string());
  }
  return out;
}

}  // namespace herald::domain::nhs
