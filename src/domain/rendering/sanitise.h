#pragma once
// GOV.UK's sanitise_content_for (post_notifications.py): a personalisation value a service
// does not trust (a name typed by a member of the public, say) is made inert before it goes
// into an email: anything that looks like a link is removed, except a bare domain, which is
// broken up ("evil.link" -> "evil. link") so mail clients do not link it; then every markdown
// character is backslash-escaped, so the value cannot add links, headings or lists. The URL
// test follows notifications-utils' `url` pattern, hand-written as a linear scan. Pure.

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::domain {

std::string sanitise_personalisation_value(std::string_view value);

// Test-only: the scan steps (characters examined) sanitise_personalisation_value has taken on
// the calling thread so far, so that a test can check the work is linear in the input without
// timing it.
std::uint64_t sanitise_steps_for_test();

}  // namespace herald::domain
