#pragma once
// Metrics in Prometheus' text exposition format (version 0.0.4), for `herald serve`'s /metrics.
//
// One process-wide registry (`metrics::registry()`): code at any layer counts what it does
// without the wiring passing a registry down. Families are made once (at first use, by name;
// asking again returns the same family) and their samples by label values; a sample's address
// never changes, so hot paths keep a reference and pay one atomic add. Figures that live
// elsewhere (the store's queue, key ages) are read at scrape time by collectors.
//
// Names follow Prometheus' conventions: snake_case, a `herald_` prefix, base units (seconds,
// bytes), `_total` on counters. Label values are escaped; label names are fixed per family.
// Thread-safe.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace herald::metrics {

class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value);
  // Cumulative counts per bound (the last: +Inf), the sum and the count.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
const std::vector<double>& latency_buckets();

// Samples of one metric, one per combination of label values.
template <typename Sample>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<Sample>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The sample for these label values (as many as the family has label names), made at first use.
  Sample& with(std::initializer_list<std::string_view> values);
  Sample& with(const std::vector<std::string>& values);
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Every sample with its label values, sorted by them.
  void each(const std::function<void(const std::vector<std::string>&, const Sample&)>& visit) const;

 private:
  // Orders label values, and finds them from views without copying them into strings.
  struct ValuesLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };

  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Sample>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Sample>, ValuesLess> samples_;  // guarded by mutex_
};

// What a collector writes at scrape time: a family's header, then its samples.
class Writer {
 public:
  // `type`: "gauge" or "counter". A family written twice (by two collectors) is one family.
  void family(std::string_view name, std::string_view help, std::string_view type);
  // A sample of the family last named; `labels` as (name, value) pairs.
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value);
  void sample(double value) { sample({}, value); }
  std::string text() && { return std::move(text_); }

 private:
  friend class Registry;
  std::string text_;
  std::string current_;
  std::vector<std::string> written_;
};

class Registry {
 public:
  Family<Counter>& counter(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                               const std::vector<double>& bounds);

  // A function called at every scrape, until the returned handle is destroyed (or reset).
  using Collect = std::function<void(Writer&)>;
  class Collector {
   public:
    Collector() = default;
    Collector(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
    Collector(Collector&& other) noexcept : registry_(other.registry_), id_(other.id_) { other.registry_ = nullptr; }
    Collector& operator=(Collector&& other) noexcept;
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;
    ~Collector() { reset(); }
    void reset();

   private:
    Registry* registry_ = nullptr;
    std::uint64_t id_ = 0;
  };
  [[nodiscard]] Collector add_collector(Collect collect);

  // Every family and collector, in the text exposition format.
  std::string render();

 private:
  struct Entry {
    std::string name;
    std::string help;
    std::string type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& entry(std::string_view name, std::string_view help, std::string_view type);
  std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;  // guarded by mutex_; registration order
  std::mutex collectors_mutex_;                  // held while collectors run, so a handle never outlives its call
  std::map<std::uint64_t, Collect> collectors_;  // guarded by collectors_mutex_
  std::uint64_t next_collector_ = 1;             // guarded by collectors_mutex_
};

// The process's registry.
Registry& registry();

// The process's own figures (CPU seconds, resident memory, descriptors, threads, start time), in
// the names Prometheus' client libraries use (process_*), from /proc/self.
void write_process_metrics(Writer& out);

// A label value or help text escaped for the exposition format.
std::string escape_label_value(std::string_view value);

}  // namespace herald::metrics
