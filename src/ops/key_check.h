#pragma once
// Data keys against the data they protect. A database restored beside the wrong key store (a
// keys.db copied without its WAL, an older key backup) used to start, make new keys for days that
// already had data, and answer 500 for every old notification. Two checks prevent that:
//  * check_keys_open_data, run by `backup restore` and at `serve` start: every (service, day)
//    that has sealed notifications has its data key, and one of that day's notifications opens;
//  * new_key_guard, installed on crypto::DataKeys: a data key is never created for a (service,
//    day) whose notifications are already sealed (under a key the key store no longer has).

#include <functional>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "crypto/data_keys.h"
#include "store/store.h"

namespace herald::ops {

struct KeyCheckReport {
  int services = 0;
  int days = 0;           // (service, day) scopes with sealed notifications: each had its key and opened
  int shredded_days = 0;  // ... whose key retention destroyed (an older backup's data): left unread
};

// kDataLoss naming the first (service, day) whose key is missing or does not open its data, and
// what to do; store errors as they come. A day whose key was destroyed (crypto-shredded after
// the backup was taken) is counted, not refused.
Result<KeyCheckReport> check_keys_open_data(store::ServiceDirectory& services, store::RetentionStore& retention,
                                            store::NotificationStore& notifications, crypto::DataKeyRepository& keys);

// For crypto::DataKeys::set_new_key_guard: refuses (kDataLoss) a new key for a notification scope
// ("notifications/<service>/<day>") whose day already holds sealed notifications that do not
// open (their key is not in the key store). Other scopes pass. The stores must outlive the
// DataKeys it is installed on (or the guard be removed first).
std::function<Result<void>(std::string_view scope)> new_key_guard(store::RetentionStore& retention,
                                                                  store::NotificationStore& notifications);

}  // namespace herald::ops
