#pragma once
// Uuid: 128-bit identifier, and the strongly-typed ids built on it (docs/architecture.md) so that a
// ServiceId cannot be passed where a TemplateId is wanted.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Lower-case hyphenated form, 36 characters.
  std::string to_string() const;
  // Accepts what Python's uuid.UUID(str) accepts: optional "urn:uuid:" prefix, optional braces,
  // hyphens anywhere, 32 hex digits of either case.
  static std::optional<Uuid> parse(std::string_view text);
  auto operator<=>(const Uuid&) const = default;
};

// A UUID tagged with what it identifies.
template <typename Tag>
struct Id {
  Uuid uuid;
  std::string to_string() const { return uuid.to_string(); }
  static std::optional<Id> parse(std::string_view text) {
    auto u = Uuid::parse(text);
    if (!u) return std::nullopt;
    return Id{*u};
  }
  auto operator<=>(const Id&) const = default;
};

using ServiceId = Id<struct ServiceTag>;
using ApiKeyId = Id<struct ApiKeyTag>;
using TemplateId = Id<struct TemplateTag>;
using NotificationId = Id<struct NotificationTag>;

struct UuidHash {
  std::size_t operator()(const Uuid& u) const noexcept {
    std::size_t h = 0;
    for (auto b : u.bytes) h = h * 131 + b;
    return h;
  }
  template <typename Tag>
  std::size_t operator()(const Id<Tag>& id) const noexcept {
    return (*this)(id.uuid);
  }
};

}  // namespace herald
