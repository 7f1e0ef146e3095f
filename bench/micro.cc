// Micro-benchmarks of the CPU work one accepted email costs, step by step, with the heap
// allocations each step makes (the "allocs" counter, per iteration). `make bench` runs this and
// copies the table into bench/RESULTS.md; the HTTPS and SQLite costs are in bench.py's figures.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "api/govuk_v2/requests.h"
#include "api/govuk_v2/responses.h"
#include "core/hex.h"
#include "core/json.h"
#include "crypto/field_cipher.h"
#include "crypto/hmac.h"
#include "crypto/jwt.h"
#include "crypto/keyring.h"
#include "crypto/keyring_kek.h"
#include "crypto/random.h"
#include "domain/admin.h"
#include "domain/authenticator.h"
#include "domain/rendering/personalisation_json.h"
#include "domain/rendering/template_render.h"
#include "security/intrusion.h"
#include "store/sqlite/key_repository.h"
#include "tests/fakes/memory_store.h"

// Counts every allocation through operator new (the standard library's and ours).
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace herald {
namespace {

const std::string kBody =
    R"({"email_address": "someone@example.com", "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",)"
    R"( "personalisation": {"name": "Ada", "date": "1 May", "place": "Leeds"}, "reference": "ref-1"})";
const domain::EmailTemplateContent kTemplate{
    "Hello ((name))", "Dear ((name)),\n\nYour appointment is on ((date)) at ((place)).\n"};

// Reports allocations per iteration next to the time.
class AllocationCounter {
 public:
  explicit AllocationCounter(benchmark::State& state) : state_(state), start_(g_allocations.load()) {}
  ~AllocationCounter() {
    state_.counters["allocs"] = benchmark::Counter(static_cast<double>(g_allocations.load() - start_),
                                                   benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& state_;
  long start_;
};

void BM_ParseSendEmail(benchmark::State& state) {
  const Timestamp now = SystemClock().now();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto body = api::govuk_v2::parse_body(kBody);
    auto request = api::govuk_v2::parse_send_email(std::get<json::Value>(body), now);
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_ParseSendEmail);

void BM_RenderEmail(benchmark::State& state) {
  const auto personalisation =
      domain::personalisation_from_json(*json::parse(R"({"name": "Ada", "date": "1 May", "place": "Leeds"})"));
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto rendered = domain::render_email(kTemplate, personalisation, domain::RenderParts::kContent);
    benchmark::DoNotOptimize(rendered);
  }
}
BENCHMARK(BM_RenderEmail);

void BM_AuthenticateCachedKey(benchmark::State& state) {
  fakes::MemoryStore store;
  const Timestamp now = SystemClock().now();
  domain::Admin admin(store);
  const auto service = admin.create_service("S", now)->id;
  (void)admin.go_live(service);  // sends to anyone
  const auto key = admin.create_api_key(service, store::KeyType::kNormal, "k", now)->record;
  domain::Authenticator authenticator(store);
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::string token = crypto::sign_hs256(
      *json::parse(R"({"iss":")" + service.to_string() + R"(","iat":)" + std::to_string(iat) + "}"), key.secret);
  (void)authenticator.authenticate(token, now);  // warm the cache
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto caller = authenticator.authenticate(token, now, Blocking::kNotAllowed);
    benchmark::DoNotOptimize(caller);
  }
}
BENCHMARK(BM_AuthenticateCachedKey);

// What the intrusion detector adds to each authenticated API request (cli/serve.cc's wiring):
// the block check at the gate, the token's fingerprint and the detectors' bookkeeping on
// admission, and the response observer. Many keys and addresses, so the maps are not trivially
// small; the history detectors' store work is in poll, off the request path.
void BM_IntrusionPerRequest(benchmark::State& state) {
  fakes::MemoryStore store;
  SystemClock clock;
  security::IntrusionDetector detector(store, store, clock, {}, nullptr);
  std::vector<std::string> keys;
  std::vector<std::string> sources;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back("key:" + crypto::random_uuid().to_string());
    sources.push_back("192.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  }
  const std::string service = "service:" + crypto::random_uuid().to_string();
  const std::string token = std::string(180, 'j');
  std::size_t i = 0;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    const auto& source = sources[i % sources.size()];
    benchmark::DoNotOptimize(detector.blocked_until(source));
    const std::string fingerprint = hex_encode(crypto::sha256(token + std::to_string(i))).substr(0, 32);
    detector.authenticated(keys[i % keys.size()], service, fingerprint, source);
    detector.response("/v2/notifications/email", 201, source);
    if (++i % 100000 == 0) (void)detector.poll();
  }
}
BENCHMARK(BM_IntrusionPerRequest);

void BM_SealField(benchmark::State& state) {
  const crypto::FieldCipher cipher(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                   crypto::FieldCipher::Mode::kEncrypt);
  const std::string plaintext(static_cast<std::size_t>(state.range(0)), 'x');
  const std::string row = crypto::random_uuid().to_string();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto sealed = cipher.seal(plaintext, {"notifications", "body", row}, 1);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SealField)->Arg(32)->Arg(1024);

void BM_OpenField(benchmark::State& state) {
  const crypto::FieldCipher cipher(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                   crypto::FieldCipher::Mode::kEncrypt);
  const std::string row = crypto::random_uuid().to_string();
  const std::string sealed = *cipher.seal(std::string(1024, 'x'), {"notifications", "body", row}, 1);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto opened = cipher.open(sealed, {"notifications", "body", row});
    benchmark::DoNotOptimize(opened);
  }
}
BENCHMARK(BM_OpenField);

void BM_CreatedEmailJson(benchmark::State& state) {
  domain::AcceptedEmail accepted;
  accepted.record.id = NotificationId{crypto::random_uuid()};
  accepted.record.template_id = TemplateId{crypto::random_uuid()};
  accepted.record.template_version = 1;
  accepted.record.reference = "ref-1";
  accepted.record.subject = "Hello Ada";
  accepted.record.body = "Dear Ada,\n\nYour appointment is on 1 May at Leeds.";
  accepted.from_email = "bench@notifications.herald.localhost";
  const std::string root = "https://127.0.0.1:8443/";
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto body = api::govuk_v2::created_email_json(accepted, root);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_CreatedEmailJson);

void BM_NotificationId(benchmark::State& state) {
  const Timestamp now = SystemClock().now();
  AllocationCounter allocations(state);
  for (auto _ : state) benchmark::DoNotOptimize(crypto::time_ordered_uuid(now));
}
BENCHMARK(BM_NotificationId);

// Issue 5's per-notification additions: the data key of the (service, day) (scope name and a
// cached lookup in DataKeys over the real key store) and the blind index of the recipient.
void BM_DataKeyForScope(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("herald-micro-" + crypto::random_uuid().to_string());
  std::filesystem::create_directories(dir);
  const Timestamp now = SystemClock().now();
  (void)crypto::Keyring::create_file((dir / "keyring").string(), now, true);
  auto repository = store::sqlite::SqliteKeyRepository::open((dir / "keys.db").string());
  crypto::DataKeys keys(std::make_shared<crypto::KeyringKek>((dir / "keyring").string()), *repository);
  const std::string service = crypto::random_uuid().to_string();
  (void)keys.key_for_scope(crypto::notification_scope(service, now), now);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto id = keys.key_for_notification(service, now);
    benchmark::DoNotOptimize(id);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DataKeyForScope);

void BM_BlindIndex(benchmark::State& state) {
  const crypto::FieldCipher cipher(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                   crypto::FieldCipher::Mode::kEncrypt);
  const std::string service = crypto::random_uuid().to_string();
  const Timestamp now = SystemClock().now();
  (void)cipher.blind_index(service, "someone@example.com", now);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto mac = cipher.blind_index(service, "someone@example.com", now);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_BlindIndex);

}  // namespace
}  // namespace herald

BENCHMARK_MAIN();
