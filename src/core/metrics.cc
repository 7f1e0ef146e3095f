#include "core/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/check.h"

namespace herald::metrics {
namespace {

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

std::string labels_text(const std::vector<std::string>& names, const std::vector<std::string>& values,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += (text.empty() ? "" : ",") + names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    text += (text.empty() ? "" : ",") + std::string(extra_name) + "=\"" + escape_label_value(extra_value) + "\"";
  }
  return text.empty() ? text : "{" + text + "}";
}

// Backslashes and newlines escaped, and double quotes too when `quotes` (label values; HELP text
// keeps them).
std::string escape_text(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) { return escape_text(help, false); }

}  // namespace

std::string escape_label_value(std::string_view value) { return escape_text(value, true); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {
  HERALD_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()), "histogram bounds must rise");
}

void Histogram::observe(double value) {
  const auto at = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[at].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

// Found without a copy of the values (hot paths call this per request); copied in the first time.
template <typename Sample>
Sample& Family<Sample>::with(std::initializer_list<std::string_view> values) {
  HERALD_CHECK(values.size() == label_names_.size(), "one value per label name");
  std::lock_guard lock(mutex_);
  if (auto it = samples_.find(values); it != samples_.end()) return *it->second;
  auto& slot = samples_[std::vector<std::string>(values.begin(), values.end())];
  slot = make_();
  return *slot;
}

template <typename Sample>
Sample& Family<Sample>::with(const std::vector<std::string>& values) {
  HERALD_CHECK(values.size() == label_names_.size(), "one value per label name");
  std::lock_guard lock(mutex_);
  auto& slot = samples_[values];
  if (!slot) slot = make_();
  return *slot;
}

template <typename Sample>
void Family<Sample>::each(const std::function<void(const std::vector<std::string>&, const Sample&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [values, sample] : samples_) visit(values, *sample);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Writer::family(std::string_view name, std::string_view help, std::string_view type) {
  current_ = std::string(name);
  if (std::find(written_.begin(), written_.end(), current_) != written_.end()) return;
  written_.push_back(current_);
  text_ += "# HELP " + current_ + " " + escape_help(help) + "\n# TYPE " + current_ + " " + std::string(type) + "\n";
}

void Writer::sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
  std::string text;
  for (const auto& [name, label] : labels) {
    text += (text.empty() ? "" : ",") + std::string(name) + "=\"" + escape_label_value(label) + "\"";
  }
  text_ += current_ + (text.empty() ? "" : "{" + text + "}") + " " + number(value) + "\n";
}

Registry::Entry& Registry::entry(std::string_view name, std::string_view help, std::string_view type) {
  for (auto& e : entries_) {
    if (e->name == name) {
      HERALD_CHECK(e->type == type, "a metric name has one type");
      return *e;
    }
  }
  auto made = std::make_unique<Entry>();
  made->name = std::string(name);
  made->help = std::string(help);
  made->type = std::string(type);
  entries_.push_back(std::move(made));
  return *entries_.back();
}

Family<Counter>& Registry::counter(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name, help, "counter");
  if (!e.counters) {
    e.counters = std::make_unique<Family<Counter>>(std::move(label_names), [] { return std::make_unique<Counter>(); });
  }
  return *e.counters;
}

Family<Gauge>& Registry::gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name, help, "gauge");
  if (!e.gauges) {
    e.gauges = std::make_unique<Family<Gauge>>(std::move(label_names), [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauges;
}

Family<Histogram>& Registry::histogram(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names, const std::vector<double>& bounds) {
  std::lock_guard lock(mutex_);
  Entry& e = entry(name, help, "histogram");
  if (!e.histograms) {
    e.histograms = std::make_unique<Family<Histogram>>(std::move(label_names),
                                                       [bounds] { return std::make_unique<Histogram>(bounds); });
  }
  return *e.histograms;
}

Registry::Collector& Registry::Collector::operator=(Collector&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

void Registry::Collector::reset() {
  if (registry_ == nullptr) return;
  std::lock_guard lock(registry_->collectors_mutex_);
  registry_->collectors_.erase(id_);
  registry_ = nullptr;
}

Registry::Collector Registry::add_collector(Collect collect) {
  std::lock_guard lock(collectors_mutex_);
  const std::uint64_t id = next_collector_++;
  collectors_.emplace(id, std::move(collect));
  return Collector(this, id);
}

std::string Registry::render() {
  Writer out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
      out.family(e->name, e->help, e->type);
      std::string& text = out.text_;
      if (e->counters) {
        const auto& names = e->counters->label_names();
        e->counters->each([&](const std::vector<std::string>& values, const Counter& c) {
          text += e->name + labels_text(names, values) + " " + std::to_string(c.value()) + "\n";
        });
      } else if (e->gauges) {
        const auto& names = e->gauges->label_names();
        e->gauges->each([&](const std::vector<std::string>& values, const Gauge& g) {
          text += e->name + labels_text(names, values) + " " + number(g.value()) + "\n";
        });
      } else if (e->histograms) {
        const auto& names = e->histograms->label_names();
        e->histograms->each([&](const std::vector<std::string>& values, const Histogram& h) {
          const auto counts = h.cumulative();
          for (std::size_t i = 0; i < counts.size(); ++i) {
            const std::string le = i < h.bounds().size() ? number(h.bounds()[i]) : "+Inf";
            text += e->name + "_bucket" + labels_text(names, values, "le", le) + " " + std::to_string(counts[i]) + "\n";
          }
          text += e->name + "_sum" + labels_text(names, values) + " " + number(h.sum()) + "\n";
          text += e->name + "_count" + labels_text(names, values) + " " + std::to_string(h.count()) + "\n";
        });
      }
    }
  }
  {
    std::lock_guard lock(collectors_mutex_);
    for (const auto& [id, collect] : collectors_) collect(out);
  }
  write_process_metrics(out);
  return std::move(out).text();
}

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: threads may count during exit
  return *instance;
}

void write_process_metrics(Writer& out) {
  // /proc/self/stat: fields after the command's closing parenthesis.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
  // Field numbers (1-based, proc(5)) less 3: state is field 3.
  auto field = [&f](std::size_t number) -> double {
    const std::size_t at = number - 3;
    return at < f.size() ? std::strtod(f[at].c_str(), nullptr) : 0;
  };
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  out.family("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter");
  out.sample((field(14) + field(15)) / ticks);
  out.family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
  out.sample(field(24) * page);
  out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
  out.sample(field(23));
  out.family("process_threads", "Threads of the process.", "gauge");
  out.sample(field(20));
  std::ifstream proc_stat("/proc/stat");
  std::string word;
  double boot = 0;
  while (proc_stat >> word) {
    if (word == "btime") {
      proc_stat >> boot;
      break;
    }
  }
  if (boot > 0) {
    out.family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", "gauge");
    out.sample(boot + field(22) / ticks);
  }
  std::error_code ec;
  double open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open;
  }
  out.family("process_open_fds", "Open file descriptors.", "gauge");
  out.sample(open);
  std::ifstream limits("/proc/self/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream parts(line.substr(14));
      double soft = 0;
      if (parts >> soft) {
        out.family("process_max_fds", "Maximum number of open file descriptors.", "gauge");
        out.sample(soft);
      }
    }
  }
}

}  // namespace herald::metrics
