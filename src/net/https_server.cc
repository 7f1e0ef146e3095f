#include "net/https_server.h"

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/log.h"
#include "core/thread_name.h"

namespace herald::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// How often each network thread checks its connections' deadlines: the granularity of every
// timeout below (a timer per connection re-armed at each step of each request cost more).
constexpr auto kSweepInterval = std::chrono::milliseconds(100);

// The request target of a parser whose header has been read.
std::string_view target_of(const http::request_parser<http::string_body>& parser) {
  const auto target = parser.get().target();
  return {target.data(), target.size()};
}

// What the wait for a request's first bytes reads at most; the header read takes the rest.
constexpr std::size_t kFirstRead = 1024;
// The largest body copied into a connection's response buffer (one TLS record holds 16 KB), so
// the buffer it keeps between requests stays small.
constexpr std::size_t kInlineBody = 16 * 1024;

// Whether the buffer already holds a whole request header (so reading it cannot wait).
bool header_whole(const beast::flat_buffer& buffer) {
  const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
  return bytes.find("\r\n\r\n") != std::string_view::npos;
}

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<std::shared_ptr<ssl::context>> make_tls(const ServerOptions& options) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) return internal_error("TLS cipher list rejected");
  boost::system::error_code ec;
  context->use_certificate_chain_file(options.certificate_file, ec);
  if (ec) return unavailable("cannot load TLS certificate " + options.certificate_file);
  context->use_private_key_file(options.private_key_file, ssl::context::pem, ec);
  if (ec) return unavailable("cannot load TLS private key " + options.private_key_file);
  if (SSL_CTX_check_private_key(native) != 1) {
    return invalid_argument("TLS private key " + options.private_key_file + " does not match the certificate");
  }
  return context;
}

// asio's reactor keeps the state it makes for each descriptor in a pool it never frees. Made
// during a flood, those states sit one in each page of the connection buffers freed after it,
// and keep those pages (about 4 KB of RSS per connection of the flood's peak) from going back to
// the system. Made here, together, before any connection, they fill a few pages of their own.
// As many as the connection cap allows, or the descriptor limit (no more connections fit then).
// Descriptors this process may still open, less a margin for everything else it opens
// meanwhile (the store, logs, other threads): prewarming must never exhaust them.
std::size_t spare_descriptors() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  std::error_code ec;
  std::size_t open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open;
  }
  const std::size_t margin = 256;
  return limit.rlim_cur > open + margin ? static_cast<std::size_t>(limit.rlim_cur) - open - margin : 0;
}

void prewarm_descriptor_states(asio::io_context& io, std::size_t count) {
  std::vector<tcp::socket> sockets;
  sockets.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    socket.open(tcp::v4(), ec);
    if (ec) break;
    sockets.push_back(std::move(socket));
  }
}  // closed here: their states wait in the pool for the connections to come

// A request's response, handed from the handler to the connection's coroutine. A handler that
// answers during its call (a 404, an error, anything answered from memory) leaves the response
// here and the coroutine takes it at once: no post, no suspension. One that answers later, from
// another thread, finds the coroutine waiting and posts to it.
struct HandOff {
  std::mutex mutex;
  std::optional<ResponseMaker> made;           // guarded by mutex
  std::function<void(ResponseMaker)> waiting;  // guarded by mutex; set while the coroutine waits

  void deliver(ResponseMaker make) {
    std::unique_lock lock(mutex);
    if (!waiting) {
      made = std::move(make);
      return;
    }
    auto resume = std::move(waiting);
    lock.unlock();
    resume(std::move(make));
  }

  // Takes the response if the handler has already answered.
  std::optional<ResponseMaker> take() {
    std::lock_guard lock(mutex);
    return std::exchange(made, std::nullopt);
  }

  // Runs `resume` with the answer now if it has come, else when it comes.
  void wait(std::function<void(ResponseMaker)> resume) {
    std::unique_lock lock(mutex);
    if (auto answer = std::exchange(made, std::nullopt)) {
      lock.unlock();
      resume(std::move(*answer));
      return;
    }
    waiting = std::move(resume);
  }
};

// Awaits the response of a handler that did not answer during its call. The response maker runs
// on this (network) thread.
template <typename Token>
auto async_wait_response(const std::shared_ptr<HandOff>& hand_off, Token&& token) {
  return asio::async_initiate<Token, void(Response)>(
      [hand_off](auto completion) {
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        auto work = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(
            asio::get_associated_executor(*shared));
        hand_off->wait([shared, work](ResponseMaker make) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, work, make = std::move(make)]() mutable { (*shared)(make()); });
        });
      },
      token);
}

// Takes the body (the message is not read again).
Request to_request(http::request<http::string_body>& in, const std::string& remote) {
  Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  const auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) out.query = out.target.substr(q + 1);
  out.headers.reserve(static_cast<std::size_t>(std::distance(in.begin(), in.end())));
  for (const auto& field : in) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (auto host = in.find(http::field::host); host != in.end()) out.host = std::string(host->value());
  out.body = std::move(in.body());
  out.remote_address = remote;
  return out;
}

}  // namespace

struct HttpsServer::Impl {
  struct Session;
  // One single-threaded io_context per network thread: a connection lives on one thread for its
  // whole life, so its reads, handler and writes never hop threads or need a strand.
  struct Loop {
    asio::io_context io{1};
    std::thread thread;
    // The connections living on this thread (touched by this thread only), whose deadlines the
    // sweep checks.
    std::unordered_set<Session*> live;
  };

  ServerOptions options;
  Handler handler;
  ProtocolErrorFormatter format_error;
  // The TLS settings new connections get; reload_tls swaps in another. Each session holds the one
  // it was made with, so a reload never pulls it from under a connection.
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;  // guarded by tls_mutex
  std::vector<std::unique_ptr<Loop>> loops;
  std::unique_ptr<tcp::acceptor> acceptor;  // on loops[0]
  std::size_t next_loop = 0;                // used by the accept loop only
  std::atomic<bool> stopping{false};
  bool stopped = false;  // stop() has run

  struct Session {
    std::shared_ptr<ssl::context> tls;  // declared before the stream, which uses it
    ssl::stream<tcp::socket> stream;
    Loop& loop;  // the thread it lives on
    std::atomic<bool> busy{false};
    std::string source;  // the peer's address, for the per-source cap
    Clock::time_point opened = Clock::now();
    // Deadlines, checked by the loop's sweep (kSweepInterval). close_at bounds whatever the
    // connection is doing (handshake, waiting for a request, writing, closing): when it passes,
    // the socket is closed. respond_by is the deadline of the request being read, set only when a
    // read must wait for the client: when it passes, the read is cancelled and the client told
    // 408 (close_at, a little later, is the backstop).
    Clock::time_point close_at = Clock::time_point::max();
    Clock::time_point respond_by = Clock::time_point::max();
    bool timed_out = false;
    std::string out;  // the response being written, reused by the next
    explicit Session(tcp::socket&& socket, std::shared_ptr<ssl::context> context, Loop& home, std::string from)
        : tls(std::move(context)), stream(std::move(socket), *tls), loop(home), source(std::move(from)) {}
    tcp::socket& socket() { return stream.next_layer(); }
    void expires_after(Clock::duration d) { close_at = Clock::now() + d; }
  };
  std::mutex sessions_mutex;
  std::condition_variable sessions_done;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by sessions_mutex
  std::unordered_map<std::string, std::size_t> per_source;        // guarded by sessions_mutex
  std::size_t peak_sessions = 0;                                  // guarded by sessions_mutex
  bool flooded = false;  // a flood's memory is being handed back; guarded by sessions_mutex
  // A descriptor held in reserve: when accept() fails for want of descriptors, it is freed to
  // accept (and at once close) the connection waiting in the backlog, which otherwise makes
  // every accept fail again at once.
  int reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Refusals logged once per interval, with the count since the last line.
  std::chrono::steady_clock::time_point last_refusal_log{};
  std::size_t refusals_unlogged = 0;

  ~Impl() {
    if (reserve_fd >= 0) ::close(reserve_fd);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Impl(const ServerOptions& o, Handler h, ProtocolErrorFormatter f)
      : options(o), handler(std::move(h)), format_error(std::move(f)) {
    const std::size_t n = o.threads == 0 ? 1 : o.threads;
    for (std::size_t i = 0; i < n; ++i) loops.push_back(std::make_unique<Loop>());
    acceptor = std::make_unique<tcp::acceptor>(loops[0]->io);
  }

  // Logs a turned-away connection or a failed accept at most once every 10 s (used by the
  // accept loop only, on loops[0]).
  void note_refusal(const char* event, const std::string& why) {
    ++refusals_unlogged;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log < std::chrono::seconds(10)) return;
    log::warn(event, {{"reason", why}, {"count_since_last_log", std::to_string(refusals_unlogged)}});
    refusals_unlogged = 0;
    last_refusal_log = now;
  }

  // Cancels the oldest connection that is not in the middle of a request: a full node serves
  // the newcomer rather than a connection that only holds a slot.
  bool shed_oldest_idle() {
    std::shared_ptr<Session> oldest;
    {
      std::lock_guard lock(sessions_mutex);
      for (auto& [raw, weak] : sessions) {
        auto session = weak.lock();
        if (session && !session->busy && (!oldest || session->opened < oldest->opened)) oldest = std::move(session);
      }
    }
    if (!oldest) return false;
    asio::post(oldest->loop.io, [oldest] {
      boost::system::error_code ignored;
      oldest->socket().cancel(ignored);
    });
    return true;
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer pause(loops[0]->io);
    auto backoff = std::chrono::milliseconds(0);
    while (!stopping) {
      if (backoff.count() > 0) {
        pause.expires_after(backoff);
        co_await pause.async_wait(kNoThrow);
      }
      // Connections are dealt round-robin to the loops.
      Loop& target = *loops[next_loop++ % loops.size()];
      auto [ec, socket] = co_await acceptor->async_accept(target.io, kNoThrow);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        const bool out_of_descriptors = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                                        ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
        note_refusal("http.accept_failed", ec.message());
        if (out_of_descriptors) {
          shed_oldest_idle();
          // Turn the waiting connection away with the reserved descriptor, then take it back.
          if (reserve_fd >= 0) {
            ::close(reserve_fd);
            reserve_fd = -1;
            const int turned_away = ::accept4(acceptor->native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
            if (turned_away >= 0) ::close(turned_away);
            reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          }
        }
        // Back off (up to 1 s) instead of spinning on an accept that fails at once.
        backoff = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(1000),
            std::max<std::chrono::milliseconds>(std::chrono::milliseconds(10), backoff * 2));
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto endpoint = socket.remote_endpoint(ignored);
      std::string source = ignored ? std::string() : endpoint.address().to_string();
      bool full = false;
      bool source_full = false;
      {
        std::lock_guard lock(sessions_mutex);
        full = sessions.size() >= options.max_connections;
        const auto held = per_source.find(source);
        source_full = held != per_source.end() && held->second >= options.max_connections_per_source;
      }
      if (source_full) {
        note_refusal("http.connection_refused", "too many connections from one address");
        socket.close(ignored);
        continue;
      }
      if (full) {
        note_refusal("http.connection_refused", "connection limit reached");
        if (!shed_oldest_idle()) {
          socket.close(ignored);
          continue;
        }
      }
      std::shared_ptr<ssl::context> context;
      {
        std::lock_guard lock(tls_mutex);
        context = tls;
      }
      auto session = std::make_shared<Session>(std::move(socket), std::move(context), target, std::move(source));
      {
        std::lock_guard lock(sessions_mutex);
        sessions.emplace(session.get(), session);
        ++per_source[session->source];
        peak_sessions = std::max(peak_sessions, sessions.size());
      }
      asio::co_spawn(target.io, run_session(session), asio::detached);
    }
  }

  void forget(Session* session) {
    bool shrunk = false;
    {
      std::lock_guard lock(sessions_mutex);
      sessions.erase(session);
      if (auto it = per_source.find(session->source); it != per_source.end() && --it->second == 0) per_source.erase(it);
      if (sessions.empty()) sessions_done.notify_all();
      // After a flood (at least 256 connections), each time they fall to a quarter, and when the
      // last closes, hand the freed connection buffers back to the system: glibc keeps them
      // otherwise, and RSS stays at the flood's peak (measured: 5,000 idle TLS connections left
      // 383 MB after they closed).
      flooded = flooded || peak_sessions >= 256;
      if (flooded && sessions.size() * 4 < peak_sessions) {
        peak_sessions = sessions.size();
        flooded = !sessions.empty();
        shrunk = true;
      }
    }
    if (shrunk) ::malloc_trim(0);
  }

  // The response as one buffer, in one write (one TLS record when it fits): Beast's message and
  // serializer cost an allocation per header and a write per part. A large body (a file) is
  // written from where it is, after the head, not copied.
  asio::awaitable<void> write(Session& s, Response&& response, unsigned version, bool keep_alive, bool head = false) {
    s.out.clear();
    const unsigned minor = version == 10 ? 0 : 1;
    const bool large = !head && status_has_body(response.status) && response.body.size() > kInlineBody;
    s.expires_after(options.request_timeout);
    if (large) {
      // Two writes, not one of two buffers: a TLS stream given a sequence whose first buffer is
      // spent and whose next is over 16 KB has been seen to write nothing (Beast's ssl_stream,
      // used before), and asio::async_write then asks again for ever.
      serialize_response_head(response, minor, keep_alive, s.out);
      auto [ec, written] = co_await asio::async_write(s.stream, asio::buffer(s.out), kNoThrow);
      if (!ec) co_await asio::async_write(s.stream, asio::buffer(response.body), kNoThrow);
    } else {
      serialize_response(response, minor, keep_alive, head, s.out);
      co_await asio::async_write(s.stream, asio::buffer(s.out), kNoThrow);
    }
  }

  // Reads and discards what the client is still sending (bounded in bytes and time), so that
  // closing does not reset the connection before the client has read our error response: a
  // close with unread bytes makes the kernel send a reset, which can destroy the response in
  // the client's buffer. `remaining`: the body bytes the client announced and has yet to send,
  // when known: the drain stops there, the client having nothing left to send. When the client
  // has `finished_sending` (a malformed request), a FIN tells it the response is whole and the
  // drain ends at its EOF; not while it may still be sending a body (clients take that FIN as
  // an error and stop before reading the response). Otherwise the drain ends after seconds.
  asio::awaitable<void> drain(Session& s, std::optional<std::uint64_t> remaining, bool finished_sending) {
    if (finished_sending) {
      boost::system::error_code ignored;
      s.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    s.expires_after(std::chrono::seconds(remaining ? 10 : 3));
    constexpr std::uint64_t kMostDrained = 256ull << 20;
    const std::uint64_t limit = std::min<std::uint64_t>(kMostDrained, remaining.value_or(4 * options.max_body_bytes));
    std::vector<char> sink(64 * 1024);
    std::uint64_t total = 0;
    while (total < limit) {
      auto [ec, n] = co_await s.stream.async_read_some(asio::buffer(sink), kNoThrow);
      if (ec) break;
      total += n;
    }
  }

  // A request the parser refused for its form (not a closed or timed-out connection).
  static bool malformed(const boost::system::error_code& ec) {
    if (ec.category() != make_error_code(http::error::bad_method).category()) return false;  // Beast's HTTP errors
    return ec != http::error::end_of_stream && ec != http::error::partial_message && ec != http::error::body_limit;
  }

  // Arms the request's deadline before a read that waits for the client.
  static void arm_deadline(Session& s, Clock::time_point at) { s.respond_by = at; }

  // The request has been read (or abandoned): its deadline no longer applies.
  static void disarm_deadline(Session& s) {
    s.respond_by = Clock::time_point::max();
    s.timed_out = false;
  }

  // Every kSweepInterval, on each network thread: a connection past its request's deadline has
  // its read cancelled (and is answered 408); one past close_at is closed.
  asio::awaitable<void> sweep(Loop& loop) {
    asio::steady_timer tick(loop.io);
    while (true) {
      tick.expires_after(kSweepInterval);
      auto [ec] = co_await tick.async_wait(kNoThrow);
      if (ec) co_return;
      const auto now = Clock::now();
      for (Session* s : loop.live) {
        boost::system::error_code ignored;
        if (now >= s->close_at) {
          s->close_at = Clock::time_point::max();
          s->socket().close(ignored);
        } else if (now >= s->respond_by) {
          s->respond_by = Clock::time_point::max();
          s->timed_out = true;
          s->socket().cancel(ignored);
        }
      }
    }
  }

  // Answers 408 to a request that did not arrive whole within request_timeout, and closes.
  asio::awaitable<void> answer_timeout(Session& s, std::string_view target, unsigned version) {
    disarm_deadline(s);
    co_await write(s, format_error(408, "Request timeout", target), version == 0 ? 11 : version, false);
  }

  asio::awaitable<void> run_session(std::shared_ptr<Session> session) {
    session->loop.live.insert(session.get());
    co_await serve(*session);
    disarm_deadline(*session);
    session->expires_after(std::chrono::seconds(2));
    co_await session->stream.async_shutdown(kNoThrow);
    boost::system::error_code ignored;
    session->socket().close(ignored);
    session->loop.live.erase(session.get());
    forget(session.get());
  }

  asio::awaitable<void> serve(Session& s) {
    std::string remote;
    {
      boost::system::error_code ec;
      auto endpoint = s.socket().remote_endpoint(ec);
      if (!ec) remote = endpoint.address().to_string();
    }
    s.expires_after(options.handshake_timeout);
    auto [handshake_ec] = co_await s.stream.async_handshake(ssl::stream_base::server, kNoThrow);
    if (handshake_ec) co_return;
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      // The body limit is checked once the header is whole (below): Beast checks it while still
      // reading the header, where the declared length is not yet known to us.
      parser.body_limit(boost::none);
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      if (buffer.size() == 0) {
        // Idle until the next request's first bytes; then the request has request_timeout.
        s.expires_after(options.idle_timeout);
        auto [idle_ec, got] = co_await s.stream.async_read_some(buffer.prepare(kFirstRead), kNoThrow);
        if (idle_ec) co_return;  // closed, timed out, or cancelled while idle
        buffer.commit(got);
      }
      // The stream's timeout closes the socket; the request's own deadline, just before it,
      // cancels the read and answers 408. It is armed only for a read that has to wait.
      const auto deadline = Clock::now() + options.request_timeout;
      s.close_at = deadline + std::chrono::seconds(2);
      if (!header_whole(buffer)) arm_deadline(s, deadline);
      auto [ec, bytes] = co_await http::async_read_header(s.stream, buffer, parser, kNoThrow);
      if (ec && s.timed_out) {
        co_await answer_timeout(s, target_of(parser), parser.get().version());
        co_return;
      }
      disarm_deadline(s);  // re-armed for the body if it has to be waited for
      // Malformed: a bad request line, header or length (a negative or repeated Content-Length,
      // a header line without a colon, a NUL), a bad chunk. Answered, never a silent close.
      if (malformed(ec)) {
        co_await write(s, format_error(400, "Malformed HTTP request", {}), 11, false);
        co_await drain(s, std::nullopt, true);
        co_return;
      }
      if (ec) co_return;  // closed, timed out, or cancelled while idle
      if (const auto declared = parser.content_length(); declared && *declared > options.max_body_bytes) {
        co_await write(s, format_error(413, "Request body is too large", target_of(parser)), parser.get().version(),
                       false);
        co_await drain(s, *declared > buffer.size() ? *declared - buffer.size() : 0, false);
        co_return;
      }
      // Content-Length beside Transfer-Encoding is how requests are smuggled past a proxy that
      // reads the other one (RFC 9112 6.1): refused before the body, and the connection closed.
      if (parser.get().count(http::field::content_length) != 0 &&
          parser.get().count(http::field::transfer_encoding) != 0) {
        co_await write(s, format_error(400, "Malformed HTTP request", target_of(parser)), parser.get().version(),
                       false);
        co_await drain(s, std::nullopt, true);
        co_return;
      }
      parser.body_limit(options.max_body_bytes);  // a chunked body is counted as it comes
      if (const auto declared = parser.content_length(); !parser.is_done() && (!declared || buffer.size() < *declared))
        arm_deadline(s, deadline);
      std::tie(ec, bytes) = co_await http::async_read(s.stream, buffer, parser, kNoThrow);
      if (ec && s.timed_out) {
        co_await answer_timeout(s, target_of(parser), parser.get().version());
        co_return;
      }
      disarm_deadline(s);
      if (ec == http::error::body_limit) {
        co_await write(s, format_error(413, "Request body is too large", target_of(parser)), parser.get().version(),
                       false);
        co_await drain(s, std::nullopt, false);
        co_return;
      }
      if (malformed(ec)) {
        co_await write(s, format_error(400, "Malformed HTTP request", {}), 11, false);
        co_await drain(s, std::nullopt, true);
        co_return;
      }
      if (ec) co_return;
      auto& message = parser.get();
      s.busy = true;
      s.close_at = Clock::time_point::max();  // the handler takes the time it needs; the write has its own
      const unsigned version = message.version();
      const bool keep_alive = message.keep_alive();
      const bool head = message.method() == http::verb::head;
      auto hand_off = std::make_shared<HandOff>();
      handler(to_request(message, remote),
              Responder([hand_off](ResponseMaker make) { hand_off->deliver(std::move(make)); }));
      Response response;
      // Not a conditional expression: GCC 12 miscompiles co_await inside one.
      if (auto made = hand_off->take()) {
        response = (*made)();
      } else {
        response = co_await async_wait_response(hand_off, asio::use_awaitable);
      }
      const bool keep = keep_alive && !stopping;
      co_await write(s, std::move(response), version, keep, head);
      s.busy = false;
      if (!keep) co_return;
    }
  }

  // Closes the listener and idle connections; busy ones finish their request and then close.
  void begin_shutdown() {
    stopping = true;
    asio::post(loops[0]->io, [this] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
    std::lock_guard lock(sessions_mutex);
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) {
        asio::post(session->loop.io, [session] {
          boost::system::error_code ignored;
          if (!session->busy) session->socket().cancel(ignored);
        });
      }
    }
  }
};

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() { stop(); }

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(const ServerOptions& options,
                                                        Handler handler,
                                                        ProtocolErrorFormatter format_error) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(format_error));
  auto tls = make_tls(options);
  if (!tls) return tls.error();
  impl->tls = std::move(*tls);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) return invalid_argument("bad listen address " + options.address);
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor& acceptor = *impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return unavailable("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  Impl* raw = impl.get();
  const std::size_t states = std::min(options.max_connections, spare_descriptors()) / raw->loops.size();
  for (const auto& loop : raw->loops) prewarm_descriptor_states(loop->io, states);
  asio::co_spawn(raw->loops[0]->io, raw->accept_loop(), asio::detached);
  for (const auto& loop : raw->loops) asio::co_spawn(loop->io, raw->sweep(*loop), asio::detached);
  for (std::size_t i = 0; i < raw->loops.size(); ++i) {
    Impl::Loop* loop = raw->loops[i].get();
    loop->thread = std::thread([loop, i] {
      set_thread_name("https-" + std::to_string(i));
      auto guard = asio::make_work_guard(loop->io);  // runs while it has no connection
      loop->io.run();
    });
  }
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

std::uint16_t HttpsServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

Result<void> HttpsServer::reload_tls(const std::string& certificate_file, const std::string& private_key_file) {
  ServerOptions options = impl_->options;
  options.certificate_file = certificate_file;
  options.private_key_file = private_key_file;
  auto tls = make_tls(options);
  if (!tls) return tls.error();
  std::lock_guard lock(impl_->tls_mutex);
  impl_->tls = std::move(*tls);
  return ok();
}

void HttpsServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->begin_shutdown();
  {
    std::unique_lock lock(impl_->sessions_mutex);
    const bool drained = impl_->sessions_done.wait_for(lock, impl_->options.shutdown_grace,
                                                       [this] { return impl_->sessions.empty(); });
    if (!drained) log::warn("http.shutdown_grace_expired");
  }
  for (auto& loop : impl_->loops) loop->io.stop();
  for (auto& loop : impl_->loops) loop->thread.join();
}

}  // namespace herald::net
