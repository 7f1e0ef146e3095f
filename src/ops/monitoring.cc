#include "ops/monitoring.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace herald::ops {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
double unix_seconds(Timestamp t) { return seconds(t.time_since_epoch()); }
// Seconds from `since` to `now`, 0 when there is nothing (or it is in the future).
double age(std::optional<Timestamp> since, Timestamp now) { return since && *since < now ? seconds(now - *since) : 0; }

std::string human_bytes(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

Monitoring::Monitoring(store::OperationsStore& store, crypto::DataKeys& keys, const Clock& clock,
                       ReadinessOptions options, std::function<std::optional<Timestamp>()> last_audit_checkpoint)
    : store_(store),
      keys_(keys),
      clock_(clock),
      options_(std::move(options)),
      last_audit_checkpoint_(std::move(last_audit_checkpoint)) {}

std::vector<Check> Monitoring::ready() {
  const Timestamp now = clock_.now();
  std::vector<Check> checks;
  // The store: a write, committed, proves it reachable and writable in one.
  if (auto marked = store_.set_mark("heartbeat:" + options_.node, now); marked) {
    checks.push_back({"store", true, "reachable and writable"});
  } else {
    checks.push_back({"store", false, marked.error().message});
  }
  // The key-encryption key still opens the data keys (a PKCS#11 token gone, a keyring replaced).
  if (auto opened = keys_.check_kek_matches_store(); opened) {
    checks.push_back({"data_keys", true, "the newest data key opens with " + keys_.kek().description()});
  } else {
    checks.push_back({"data_keys", false, opened.error().message});
  }
  struct statvfs disk {};
  if (::statvfs(options_.disk_path.c_str(), &disk) != 0) {
    checks.push_back({"disk", false, "cannot read the free space of " + options_.disk_path});
  } else {
    const std::uint64_t free = static_cast<std::uint64_t>(disk.f_bavail) * disk.f_frsize;
    const bool enough = free >= options_.min_free_disk_bytes;
    checks.push_back({"disk", enough,
                      human_bytes(free) + " free for " + options_.disk_path + (enough ? "" : ", below ") +
                          (enough ? "" : human_bytes(options_.min_free_disk_bytes))});
  }
  // The audit checkpoint file takes appends (opened for appending, nothing written).
  {
    const std::string& path = options_.audit_checkpoint_path;
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    bool writable = fd >= 0;
    if (fd >= 0) {
      ::close(fd);
    } else if (errno == ENOENT) {  // not made yet: its directory must take it
      const std::string dir = std::filesystem::path(path).parent_path().string();
      writable = ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
    }
    checks.push_back(
        {"audit_sink", writable, writable ? "the checkpoint file takes appends" : "cannot append to " + path});
  }
  if (options_.max_backlog_age > Duration::zero()) {
    auto figures = store_.queue_figures();
    if (!figures) {
      checks.push_back({"delivery_backlog", false, figures.error().message});
    } else {
      std::optional<Timestamp> oldest;
      for (store::Channel channel : {store::Channel::kEmail, store::Channel::kSms}) {
        const auto& queue = figures->channels[static_cast<std::size_t>(channel)];
        if (queue.oldest && (!oldest || *queue.oldest < *oldest)) oldest = queue.oldest;
      }
      const Duration waited = oldest && *oldest < now ? now - *oldest : Duration::zero();
      const bool fresh = waited <= options_.max_backlog_age;
      checks.push_back(
          {"delivery_backlog", fresh,
           "oldest email or text waiting " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(waited).count()) + " s" +
               (fresh ? ""
                      : ", over the limit of " +
                            std::to_string(
                                std::chrono::duration_cast<std::chrono::seconds>(options_.max_backlog_age).count()) +
                            " s")});
    }
  }
  return checks;
}

void Monitoring::collect(metrics::Writer& out) {
  const Timestamp now = clock_.now();
  auto figures = store_.queue_figures();
  out.family("herald_store_up", "Whether the last read of the store's figures succeeded (1) or failed (0).", "gauge");
  out.sample(figures ? 1 : 0);
  if (figures) {
    // One gauge per channel for each of the queue's figures.
    const auto per_channel = [&](const char* name, const char* help, auto figure) {
      out.family(name, help, "gauge");
      for (store::Channel channel : store::kAllChannels) {
        out.sample({{"channel", store::channel_name(channel)}},
                   figure(figures->channels[static_cast<std::size_t>(channel)]));
      }
    };
    per_channel("herald_queue_waiting",
                "Notifications Herald has yet to hand to a provider (queued, in flight or due again), by channel.",
                [](const store::ChannelQueue& q) { return static_cast<double>(q.waiting); });
    per_channel("herald_queue_retrying",
                "Waiting notifications with an attempt started (in flight, or due again after a failure), by channel.",
                [](const store::ChannelQueue& q) { return static_cast<double>(q.retrying); });
    per_channel("herald_queue_oldest_age_seconds", "Age of the oldest waiting notification, by channel (0: none).",
                [now](const store::ChannelQueue& q) { return age(q.oldest, now); });
    per_channel("herald_queue_awaiting_receipt",
                "Notifications handed to a provider whose delivery receipt has not come yet, by channel.",
                [](const store::ChannelQueue& q) { return static_cast<double>(q.awaiting_receipt); });
    out.family("herald_callbacks_due", "GOV.UK callbacks (delivery statuses, received texts) waiting to be sent.",
               "gauge");
    out.sample(static_cast<double>(figures->callbacks_due));
    out.family("herald_callbacks_oldest_due_age_seconds",
               "How long the longest-waiting GOV.UK callback has been due (0: none).", "gauge");
    out.sample(age(figures->oldest_callback_due, now));
    out.family("herald_callbacks_dead", "GOV.UK callbacks given up on (the dead list).", "gauge");
    out.sample(static_cast<double>(figures->callbacks_dead));
    out.family("herald_nhs_callbacks_pending", "NHS Notify callbacks waiting to be sent.", "gauge");
    out.sample(static_cast<double>(figures->nhs_callbacks_pending));
    out.family("herald_nhs_callbacks_oldest_age_seconds", "Age of the oldest pending NHS Notify callback (0: none).",
               "gauge");
    out.sample(age(figures->oldest_nhs_callback, now));
    out.family("herald_nhs_callbacks_dead", "NHS Notify callbacks given up on.", "gauge");
    out.sample(static_cast<double>(figures->nhs_callbacks_dead));
    out.family("herald_nhs_messages_waiting", "NHS Notify messages with a next step (a channel, a fallback) to come.",
               "gauge");
    out.sample(static_cast<double>(figures->nhs_messages_waiting));
    out.family("herald_nhs_messages_overdue_seconds",
               "How far past its time the most overdue NHS Notify message step is (0: none overdue).", "gauge");
    out.sample(age(figures->oldest_nhs_message_step, now));
  }
  // Key ages: the active key-encryption key, and the live data keys (one per service and day).
  if (auto versions = keys_.kek().versions(); versions) {
    for (const auto& version : *versions) {
      if (!version.active) continue;
      out.family("herald_kek_age_seconds", "Age of the active key-encryption key.", "gauge");
      out.sample(age(version.created, now));
    }
  }
  if (auto stored = keys_.repository().list(); stored) {
    std::optional<Timestamp> oldest;
    std::optional<Timestamp> newest;
    double live = 0;
    for (const auto& key : *stored) {
      if (key.destroyed) continue;
      ++live;
      if (!oldest || key.created < *oldest) oldest = key.created;
      if (!newest || key.created > *newest) newest = key.created;
    }
    out.family("herald_data_keys_live", "Data keys not yet destroyed by retention.", "gauge");
    out.sample(live);
    out.family("herald_data_key_newest_age_seconds", "Age of the newest live data key (0: none).", "gauge");
    out.sample(age(newest, now));
    out.family("herald_data_key_oldest_age_seconds",
               "Age of the oldest live data key: retention destroys keys past their period (0: none).", "gauge");
    out.sample(age(oldest, now));
  }
  if (auto marks = store_.marks("backup."); marks) {
    double created = 0;
    double verified = 0;
    double drilled = 0;
    for (const auto& [name, at] : *marks) {
      if (name == "backup.created") created = unix_seconds(at);
      if (name == "backup.verified") verified = unix_seconds(at);
      if (name == "backup.restore_drill") drilled = unix_seconds(at);
    }
    out.family("herald_backup_last_timestamp_seconds", "When the last backup was written (0: never).", "gauge");
    out.sample(created);
    out.family("herald_backup_last_verified_timestamp_seconds", "When a backup was last verified (0: never).", "gauge");
    out.sample(verified);
    out.family("herald_backup_last_restore_drill_timestamp_seconds",
               "When a restore drill (herald backup verify --restore-drill) last passed (0: never).", "gauge");
    out.sample(drilled);
  }
  out.family("herald_audit_checkpoint_last_timestamp_seconds",
             "When this node last checkpointed the audit chain (signed its head, or found nothing new) (0: never).",
             "gauge");
  const auto last = last_audit_checkpoint_();
  out.sample(last ? unix_seconds(*last) : 0);
}

}  // namespace herald::ops
