#pragma once
// Emails: each one made from what was stored when it was accepted (domain::Outgoing) and handed
// to an EmailProvider (an SMTP relay). One per worker thread, since the provider keeps its
// connection open between claims.

#include <memory>

#include "delivery/dispatcher.h"
#include "delivery/email_provider.h"
#include "domain/rendering/outgoing.h"

namespace herald::delivery {

class EmailDispatcher final : public Dispatcher {
 public:
  EmailDispatcher(std::unique_ptr<EmailProvider> provider, domain::Outgoing& outgoing)
      : provider_(std::move(provider)), outgoing_(outgoing) {}
  void dispatch(const std::vector<const store::NotificationRecord*>& claimed, const DispatchContext& context) override;
  void close() override { provider_->close(); }

 private:
  std::unique_ptr<EmailProvider> provider_;
  domain::Outgoing& outgoing_;
};

}  // namespace herald::delivery
