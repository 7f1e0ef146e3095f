// `herald job ...`: sending a template to a list from the shell, as the admin UI's "Send to a
// list" does (the same checks, the same job, sent by the delivery nodes of `herald serve`).

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "core/time.h"
#include "domain/admin.h"
#include "domain/jobs.h"

namespace herald::cli {

namespace {

// The service's job named on the command line.
Result<store::JobRecord> find_job(domain::Jobs& jobs, ServiceId service, const std::string& job_id) {
  auto id = Uuid::parse(job_id);
  if (!id) return invalid_argument("not a job id: " + job_id);
  auto job = jobs.find(service, *id);
  if (!job) return job.error();
  if (!*job) return not_found("the service has no job " + job_id);
  return std::move(**job);
}

}  // namespace

int run_job_send(const std::string& config_path, const std::string& service, const std::string& template_id,
                 const std::string& file, bool start) {
  auto id = TemplateId::parse(template_id);
  if (!id) return fail(invalid_argument("not a template id: " + template_id));
  auto contents = read_text_file(file);
  if (!contents) return fail(contents.error());
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  auto t = context->store->find_template(found->id, *id, std::nullopt);
  if (!t) return fail(t.error());
  if (!*t || (*t)->archived) return fail(not_found("the service has no template " + template_id));
  domain::Notifications notifications(*context->store, notifications_config(*context));
  domain::Letters letters(*context->store, notifications, {context->config.letters.logo_png});
  domain::Jobs jobs(*context->store, *context->store, notifications, &letters);
  const Timestamp now = SystemClock().now();
  auto checked = jobs.check(found->id, **t, *contents, now);
  if (!checked) return fail(checked.error());
  for (const std::string& problem : checked->problems) std::cerr << "error: " << problem << "\n";
  if (!checked->problems.empty()) return 1;
  for (const auto& e : checked->row_errors) std::cerr << "row " << e.row << ": " << e.message << "\n";
  std::cerr << checked->rows << " rows: " << checked->sendable << " to send, " << checked->row_errors_total
            << " with errors (not sent)\n";
  auto job =
      jobs.upload(found->id, **t, std::filesystem::path(file).filename().string(), std::move(*contents), Uuid{}, now);
  if (!job) return fail(job.error());
  auto recorded = context->record({security::cli_actor(),
                                   "job.uploaded",
                                   {{"service_id", found->id.to_string()},
                                    {"job_id", job->id.to_string()},
                                    {"template_id", job->template_id.to_string()},
                                    {"rows", std::to_string(checked->rows)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << job->id.to_string() << "\n";
  if (!start) {
    std::cerr << "not started: run again with --start, or start it in the admin UI\n";
    return 0;
  }
  if (checked->sendable == 0) return fail(failed_precondition("no row of the file can be sent"));
  auto started = jobs.start(found->id, job->id, now);
  if (!started) return fail(started.error());
  recorded = context->record(
      {security::cli_actor(), "job.started", {{"service_id", found->id.to_string()}, {"job_id", job->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cerr << "started: the delivery nodes of `herald serve` send its rows\n";
  return 0;
}

int run_job_list(const std::string& config_path, const std::string& service) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  auto listed = context->store->jobs_for_service(found->id, 1000);
  if (!listed) return fail(listed.error());
  for (const auto& job : *listed) {
    std::cout << job.id.to_string() << " " << format_timestamp(job.created_at) << " "
              << store::job_status_name(job.status) << " " << job.next_row << "/" << job.row_count << " rows "
              << job.template_id.to_string() << "\n";
  }
  return 0;
}

int run_job_status(const std::string& config_path, const std::string& service, const std::string& job_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  domain::Notifications notifications(*context->store, notifications_config(*context));
  domain::Jobs jobs(*context->store, *context->store, notifications);
  auto job = find_job(jobs, found->id, job_id);
  if (!job) return fail(job.error());
  auto progress = jobs.progress(found->id, *job);
  if (!progress) return fail(progress.error());
  std::cout << "status " << store::job_status_name(job->status) << "\nrows " << job->next_row << "/" << job->row_count
            << "\nsent " << progress->sent << "\nsending " << progress->sending << "\ndelivered " << progress->delivered
            << "\nfailed " << progress->failed << "\n";
  return 0;
}

int run_job_cancel(const std::string& config_path, const std::string& service, const std::string& job_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  domain::Notifications notifications(*context->store, notifications_config(*context));
  domain::Jobs jobs(*context->store, *context->store, notifications);
  auto job = find_job(jobs, found->id, job_id);
  if (!job) return fail(job.error());
  auto cancelled = jobs.cancel(found->id, job->id, SystemClock().now());
  if (!cancelled) return fail(cancelled.error());
  if (!*cancelled) {
    return fail(failed_precondition("job " + job_id + " is " + store::job_status_name(job->status) +
                                    ": only a pending or in-progress job can be cancelled"));
  }
  auto recorded = context->record(
      {security::cli_actor(), "job.cancelled", {{"service_id", found->id.to_string()}, {"job_id", job_id}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

}  // namespace herald::cli
