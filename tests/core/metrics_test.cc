#include "core/metrics.h"

#include <gtest/gtest.h>

namespace herald::metrics {
namespace {

TEST(Metrics, CountersGaugesAndHistogramsRenderInTheExpositionFormat) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests.", {"route", "status"});
  requests.with({"/v2/x", "201"}).inc();
  requests.with({"/v2/x", "201"}).inc(2);
  requests.with({"/v2/\"y\"\n", "400"}).inc();
  registry.gauge("test_queue", "Waiting.").with({}).set(2.5);
  auto& latency = registry.histogram("test_seconds", "Latency.", {"route"}, {0.1, 1});
  latency.with({"/a"}).observe(0.05);
  latency.with({"/a"}).observe(0.5);
  latency.with({"/a"}).observe(5);
  const std::string text = registry.render();
  EXPECT_NE(text.find("# HELP test_requests_total Requests.\n# TYPE test_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("test_requests_total{route=\"/v2/x\",status=\"201\"} 3\n"), std::string::npos) << text;
  // Label values escaped: quote, backslash, newline.
  EXPECT_NE(text.find("test_requests_total{route=\"/v2/\\\"y\\\"\\n\",status=\"400\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE test_queue gauge\ntest_queue 2.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_sum{route=\"/a\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_count{route=\"/a\"} 3\n"), std::string::npos) << text;
  // The process's own figures.
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
}

TEST(Metrics, TheSameNameGivesTheSameFamilyAndSample) {
  Registry registry;
  registry.counter("test_total", "Help.", {"a"}).with({"x"}).inc();
  Counter& again = registry.counter("test_total", "Help.", {"a"}).with({"x"});
  EXPECT_EQ(again.value(), 1u);
}

TEST(Metrics, CollectorsRunAtEachScrapeUntilTheirHandleGoes) {
  Registry registry;
  int scrapes = 0;
  {
    auto collector = registry.add_collector([&scrapes](Writer& out) {
      ++scrapes;
      out.family("test_backlog", "Backlog.", "gauge");
      out.sample({{"channel", "email"}}, 7);
    });
    const std::string text = registry.render();
    EXPECT_NE(text.find("# TYPE test_backlog gauge\ntest_backlog{channel=\"email\"} 7\n"), std::string::npos) << text;
  }
  EXPECT_EQ(registry.render().find("test_backlog"), std::string::npos);
  EXPECT_EQ(scrapes, 1);
}

}  // namespace
}  // namespace herald::metrics
