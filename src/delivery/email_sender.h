#pragma once
// Turns a claimed notification into the email to send: looks up the template version it was
// accepted with (cached: versions never change), renders the text and HTML parts from its
// personalisation, and picks the service's sender address. Thread-safe.

#include "core/result.h"
#include "delivery/email_provider.h"
#include "domain/notifications.h"
#include "store/store.h"

namespace herald::delivery {

Result<OutgoingEmail> prepare_email(domain::Notifications& notifications,
                                    const store::NotificationRecord& record, Timestamp now);

}  // namespace herald::delivery
