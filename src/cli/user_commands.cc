// `herald user ...`: the admin web UI's users from the shell (the first platform admin is made
// here; every admin action has a CLI equivalent). Each action is in the audit log.

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "domain/users/users.h"

namespace herald::cli {
namespace {

// The user with this email, normalised as Users::create_user stored it.
Result<store::AdminUserRecord> find_user(Context& context, const std::string& email) {
  SystemClock clock;
  auto found = domain::users::Users(*context.store, clock).find_user_by_email(email);
  if (!found) return found.error();
  if (!*found) return not_found("no user " + email);
  return std::move(**found);
}

std::string enrolment_link(const Context& context, const std::string& token) {
  return context.config.admin.url(context.config.admin.port) + "enrol/" + token;
}

}  // namespace

int run_user_create(const std::string& config_path, const UserOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  SystemClock clock;
  domain::users::Users users(*context->store, clock);
  auto created = users.create_user(options.email, options.name, options.platform_admin);
  if (!created) return fail(created.error());
  auto recorded = context->record(
      {security::cli_actor(),
       "user.created",
       {{"user_id", created->user.id.to_string()}, {"platform_admin", options.platform_admin ? "true" : "false"}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "user " << created->user.id.to_string() << (options.platform_admin ? " (platform admin)" : "")
            << "\none-time enrolment link (valid 72 hours; set a password and an authenticator app there):\n"
            << enrolment_link(*context, created->enrolment_token) << "\n";
  return 0;
}

int run_user_link(const std::string& config_path, const UserOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto user = find_user(*context, options.email);
  if (!user) return fail(user.error());
  SystemClock clock;
  domain::users::Users users(*context->store, clock);
  auto token = users.issue_enrolment(user->id);
  if (!token) return fail(token.error());
  auto recorded =
      context->record({security::cli_actor(), "user.enrolment_link_issued", {{"user_id", user->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "one-time enrolment link (valid 72 hours; enrolling replaces the password, authenticator and "
               "recovery codes, and signs the user out everywhere):\n"
            << enrolment_link(*context, *token) << "\n";
  return 0;
}

int run_user_list(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto users = context->store->list_admin_users();
  if (!users) return fail(users.error());
  SystemClock clock;
  const Timestamp now = clock.now();
  for (const auto& u : *users) {
    std::cout << u.id.to_string() << "  " << u.email << "  \"" << u.name << "\""
              << (u.platform_admin ? "  platform admin" : "") << (u.enrolled_at ? "" : "  NOT ENROLLED")
              << (u.locked_until && *u.locked_until > now ? "  LOCKED until " + format_timestamp(*u.locked_until) : "")
              << (u.disabled_at ? "  DISABLED" : "") << "\n";
    auto memberships = context->store->admin_memberships(u.id, std::nullopt);
    if (!memberships) return fail(memberships.error());
    for (const auto& m : *memberships) {
      std::cout << "    service " << m.service.to_string() << ":";
      for (const auto& p : m.permissions) std::cout << " " << p;
      std::cout << "\n";
    }
  }
  return 0;
}

int run_user_disable(const std::string& config_path, const UserOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto user = find_user(*context, options.email);
  if (!user) return fail(user.error());
  SystemClock clock;
  domain::users::Users users(*context->store, clock);
  auto disabled = users.disable(user->id);
  if (!disabled) return fail(disabled.error());
  auto recorded = context->record({security::cli_actor(), "user.disabled", {{"user_id", user->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "disabled " << user->id.to_string() << " and ended their sessions\n";
  return 0;
}

int run_user_grant(const std::string& config_path, const UserOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto user = find_user(*context, options.email);
  if (!user) return fail(user.error());
  auto service = ServiceId::parse(options.service);
  if (!service) return fail(invalid_argument("--service must be a service id"));
  auto found = context->store->find_service(*service);
  if (!found) return fail(found.error());
  if (!*found) return fail(not_found("no service " + options.service));
  std::vector<domain::users::Permission> permissions;
  std::string names;
  for (const auto& name : options.permissions) {
    auto p = domain::users::parse_permission(name);
    if (!p) {
      return fail(invalid_argument("unknown permission " + name +
                                   " (view, send, manage_templates, manage_api_keys, manage_team, manage_settings)"));
    }
    permissions.push_back(*p);
    names += (names.empty() ? "" : ",") + name;
  }
  SystemClock clock;
  domain::users::Users users(*context->store, clock);
  auto set = users.set_permissions(user->id, *service, permissions);
  if (!set) return fail(set.error());
  auto recorded = context->record({security::cli_actor(),
                                   "user.permissions_set",
                                   {{"user_id", user->id.to_string()},
                                    {"service_id", service->to_string()},
                                    {"permissions", names.empty() ? "(none)" : names}}});
  if (!recorded) return fail(recorded.error());
  std::cout << (permissions.empty() ? "removed from the service\n" : "permissions set\n");
  return 0;
}

}  // namespace herald::cli
