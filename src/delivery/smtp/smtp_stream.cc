#include "delivery/smtp/smtp_stream.h"

namespace herald::delivery::smtp {
namespace {

// net::ClientStream as an SmtpStream: the stream SmtpProvider used directly before the seam.
class TcpSmtpStream final : public SmtpStream {
 public:
  explicit TcpSmtpStream(std::unique_ptr<net::ClientStream> stream) : stream_(std::move(stream)) {}
  Result<std::string> read_line() override { return stream_->read_line(); }
  Result<void> write_all(std::string_view data) override { return stream_->write_all(data); }
  Result<void> start_tls(const net::TlsClientOptions& options) override { return stream_->start_tls(options); }
  bool is_tls() const override { return stream_->is_tls(); }

 private:
  std::unique_ptr<net::ClientStream> stream_;
};

}  // namespace

SmtpConnector tcp_connector() {
  return [](const std::string& host, std::uint16_t port,
            std::chrono::milliseconds timeout) -> Result<std::unique_ptr<SmtpStream>> {
    auto stream = net::ClientStream::connect(host, port, timeout);
    if (!stream) return stream.error();
    return std::unique_ptr<SmtpStream>(std::make_unique<TcpSmtpStream>(std::move(*stream)));
  };
}

}  // namespace herald::delivery::smtp
