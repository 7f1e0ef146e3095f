// The ServiceDirectory contract (store/store.h) for a service's settings as its team changes
// them: contacts updated and removed, callbacks deleted, the guest list listed and entries
// removed. Run against every backend as store_contract_test.cc runs the rest (SQLite,
// PostgreSQL, and the in-memory store other unit tests use); sealed bytes and disk scans are
// checked where there is a database (`on_disk()`). Every call names a service: another
// service's id never reaches, nor changes, the first one's rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

template <typename Record>
std::vector<std::string> ids_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.id.to_string());
  return out;
}

// The values of the defaults among `contacts`.
std::vector<std::string> defaults_of(const std::vector<ServiceContact>& contacts) {
  std::vector<std::string> out;
  for (const ServiceContact& c : contacts) {
    if (c.is_default) out.push_back(c.value);
  }
  return out;
}

class ServiceSettingsContract : public testing::TwoServicesContract {
 protected:
  // The store opened again, with cipher_ as it is now (another process, or a restart).
  void reopen() {
    store_.reset();
    auto opened = backend_->open(cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  // A stored contact of `service`, created `offset` after now_.
  ServiceContact contact(const ServiceRecord& service, ContactKind kind, std::string value, bool is_default,
                         Duration offset = Duration::zero()) {
    ServiceContact c{crypto::random_uuid(), service.id, kind, std::move(value), is_default, now_ + offset};
    auto added = store_->add_service_contact(c);
    EXPECT_TRUE(added) << added.error().message;
    return c;
  }
  // The service's contacts of `kind`, as another node reads them.
  std::vector<ServiceContact> contacts(const ServiceRecord& service, ContactKind kind) {
    auto listed = another()->service_contacts(service.id, kind);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<ServiceContact>{};
  }
  ServiceCallback callback(const ServiceRecord& service, CallbackKind kind, const std::string& name) {
    ServiceCallback c{service.id, kind, "https://" + name + ".example/callbacks", "bearer-token-of-" + name, now_};
    auto set = store_->set_service_callback(c);
    EXPECT_TRUE(set) << set.error().message;
    return c;
  }
  // A stored guest-list entry of `service`, created `offset` after now_.
  GuestListEntry guest(const ServiceRecord& service, const std::string& type, const std::string& recipient,
                       const std::string& normalised, Duration offset = Duration::zero()) {
    GuestListEntry entry{crypto::random_uuid(), service.id, type, recipient, normalised, now_ + offset};
    auto added = store_->add_guest_list_entry(entry);
    EXPECT_TRUE(added) << added.error().message;
    return entry;
  }
  std::vector<GuestListEntry> guests(const ServiceRecord& service) {
    auto listed = another()->guest_list(service.id);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<GuestListEntry>{};
  }
};

// Contacts.

TEST_P(ServiceSettingsContract, UpdatedContactHasItsNewValueAndKeepsItsCreationTime) {
  const ServiceContact first = contact(service_a_, ContactKind::kSmsSender, "Herald", true);
  const ServiceContact second = contact(service_a_, ContactKind::kSmsSender, "Clinic", false, 1s);

  ServiceContact changed = second;
  changed.value = "Surgery";
  changed.created_at = now_ + 5h;  // not stored: the creation time stays
  ASSERT_TRUE(store_->update_service_contact(changed));

  const auto listed = contacts(service_a_, ContactKind::kSmsSender);
  ASSERT_EQ(ids_of(listed), (std::vector<std::string>{first.id.to_string(), second.id.to_string()}))
      << "still listed in order of creation";
  EXPECT_EQ(listed[1].value, "Surgery");
  EXPECT_FALSE(listed[1].is_default);
  EXPECT_EQ(listed[1].created_at, second.created_at);
  EXPECT_EQ(listed[1].kind, ContactKind::kSmsSender);
  EXPECT_EQ(listed[1].service, service_a_.id);
  EXPECT_EQ(listed[0].value, "Herald") << "the other contact is untouched";
  EXPECT_TRUE(listed[0].is_default);
}

TEST_P(ServiceSettingsContract, UpdatingAContactToTheDefaultClearsTheOldDefaultOfThatKindOnly) {
  const ServiceContact old_default = contact(service_a_, ContactKind::kSmsSender, "Herald", true);
  ServiceContact next = contact(service_a_, ContactKind::kSmsSender, "Clinic", false, 1s);
  contact(service_a_, ContactKind::kEmailReplyTo, "replies@example.org", true, 2s);
  contact(service_b_, ContactKind::kSmsSender, "OtherSvc", true, 3s);

  next.is_default = true;
  ASSERT_TRUE(store_->update_service_contact(next));
  auto sms = contacts(service_a_, ContactKind::kSmsSender);
  EXPECT_EQ(defaults_of(sms), (std::vector<std::string>{"Clinic"})) << "one default: the old one stopped being it";
  ASSERT_EQ(sms.size(), 2u);
  EXPECT_EQ(sms[0].id, old_default.id);
  EXPECT_FALSE(sms[0].is_default);
  EXPECT_EQ(sms[0].value, "Herald");
  EXPECT_EQ(defaults_of(contacts(service_a_, ContactKind::kEmailReplyTo)),
            (std::vector<std::string>{"replies@example.org"}))
      << "another kind's default stays";
  EXPECT_EQ(defaults_of(contacts(service_b_, ContactKind::kSmsSender)), (std::vector<std::string>{"OtherSvc"}))
      << "another service's default stays";

  // Updating the default again (same value, still the default) keeps it the only one.
  ASSERT_TRUE(store_->update_service_contact(next));
  EXPECT_EQ(defaults_of(contacts(service_a_, ContactKind::kSmsSender)), (std::vector<std::string>{"Clinic"}));

  // No longer the default: the kind has none (the old default does not come back).
  next.is_default = false;
  ASSERT_TRUE(store_->update_service_contact(next));
  sms = contacts(service_a_, ContactKind::kSmsSender);
  EXPECT_EQ(sms.size(), 2u);
  EXPECT_TRUE(defaults_of(sms).empty());
  EXPECT_EQ(defaults_of(contacts(service_a_, ContactKind::kEmailReplyTo)),
            (std::vector<std::string>{"replies@example.org"}));
  EXPECT_EQ(defaults_of(contacts(service_b_, ContactKind::kSmsSender)), (std::vector<std::string>{"OtherSvc"}));
}

TEST_P(ServiceSettingsContract, UpdateOfAContactTheServiceDoesNotHaveIsNotFoundAndChangesNothing) {
  const ServiceContact of_a = contact(service_a_, ContactKind::kSmsSender, "Herald", false);
  const ServiceContact default_of_a = contact(service_a_, ContactKind::kSmsSender, "Clinic", true, 1s);
  const ServiceContact default_of_b = contact(service_b_, ContactKind::kSmsSender, "OtherSvc", true, 2s);

  // A's contact named with B's id, made the default: B's default must stay (nothing commits).
  ServiceContact as_b = of_a;
  as_b.service = service_b_.id;
  as_b.value = "Hijacked";
  as_b.is_default = true;
  auto updated = store_->update_service_contact(as_b);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);

  // B's contact named with A's id.
  ServiceContact b_as_a = default_of_b;
  b_as_a.service = service_a_.id;
  b_as_a.value = "Hijacked";
  b_as_a.is_default = true;
  updated = store_->update_service_contact(b_as_a);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);

  // A's own contact under another kind, and an id nobody has.
  ServiceContact other_kind = of_a;
  other_kind.kind = ContactKind::kEmailReplyTo;
  other_kind.value = "hijacked@example.org";
  other_kind.is_default = true;
  updated = store_->update_service_contact(other_kind);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
  ServiceContact unknown = of_a;
  unknown.id = crypto::random_uuid();
  unknown.is_default = true;
  updated = store_->update_service_contact(unknown);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);

  const auto of_a_now = contacts(service_a_, ContactKind::kSmsSender);
  ASSERT_EQ(ids_of(of_a_now), (std::vector<std::string>{of_a.id.to_string(), default_of_a.id.to_string()}));
  EXPECT_EQ(of_a_now[0].value, "Herald");
  EXPECT_FALSE(of_a_now[0].is_default);
  EXPECT_EQ(defaults_of(of_a_now), (std::vector<std::string>{"Clinic"}));
  EXPECT_TRUE(contacts(service_a_, ContactKind::kEmailReplyTo).empty());
  const auto of_b_now = contacts(service_b_, ContactKind::kSmsSender);
  ASSERT_EQ(ids_of(of_b_now), (std::vector<std::string>{default_of_b.id.to_string()}));
  EXPECT_EQ(of_b_now[0].value, "OtherSvc");
  EXPECT_TRUE(of_b_now[0].is_default);
  EXPECT_TRUE(contacts(service_b_, ContactKind::kEmailReplyTo).empty());
}

TEST_P(ServiceSettingsContract, RemovedContactIsNoLongerListedAndASecondRemoveIsFalse) {
  const ServiceContact reply_to = contact(service_a_, ContactKind::kEmailReplyTo, "replies@example.org", true);
  const ServiceContact other_reply_to = contact(service_a_, ContactKind::kEmailReplyTo, "help@example.org", false, 1s);
  const ServiceContact letter = contact(service_a_, ContactKind::kLetterContact, "1 High Street", true, 2s);

  auto removed = store_->remove_service_contact(service_a_.id, reply_to.id);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(ids_of(contacts(service_a_, ContactKind::kEmailReplyTo)),
            (std::vector<std::string>{other_reply_to.id.to_string()}));
  removed = another()->remove_service_contact(service_a_.id, reply_to.id);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed) << "already removed";

  // Any kind: a letter contact block too.
  removed = store_->remove_service_contact(service_a_.id, letter.id);
  ASSERT_TRUE(removed && *removed);
  EXPECT_TRUE(contacts(service_a_, ContactKind::kLetterContact).empty());
  removed = store_->remove_service_contact(service_a_.id, crypto::random_uuid());
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed) << "no such contact";
}

TEST_P(ServiceSettingsContract, AnotherServiceCannotRemoveAContact) {
  const ServiceContact of_a = contact(service_a_, ContactKind::kSmsSender, "Herald", true);
  const ServiceContact of_b = contact(service_b_, ContactKind::kSmsSender, "OtherSvc", true, 1s);

  auto removed = store_->remove_service_contact(service_b_.id, of_a.id);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  removed = store_->remove_service_contact(ServiceId{crypto::random_uuid()}, of_a.id);
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  const auto of_a_now = contacts(service_a_, ContactKind::kSmsSender);
  ASSERT_EQ(ids_of(of_a_now), (std::vector<std::string>{of_a.id.to_string()}));
  EXPECT_TRUE(of_a_now[0].is_default);

  // Its own goes, and A's stays.
  removed = store_->remove_service_contact(service_b_.id, of_b.id);
  ASSERT_TRUE(removed && *removed);
  EXPECT_TRUE(contacts(service_b_, ContactKind::kSmsSender).empty());
  EXPECT_EQ(ids_of(contacts(service_a_, ContactKind::kSmsSender)), (std::vector<std::string>{of_a.id.to_string()}));
}

// Callbacks.

TEST_P(ServiceSettingsContract, DeletedCallbackIsNotFoundAndTheOtherKindStays) {
  callback(service_a_, CallbackKind::kDeliveryStatus, "status-a");
  callback(service_a_, CallbackKind::kInboundSms, "inbound-a");
  callback(service_b_, CallbackKind::kDeliveryStatus, "status-b");

  auto deleted = store_->delete_service_callback(service_a_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  auto found = another()->find_service_callback(service_a_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
  deleted = another()->delete_service_callback(service_a_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_FALSE(*deleted) << "it has none now";

  auto inbound = store_->find_service_callback(service_a_.id, CallbackKind::kInboundSms);
  ASSERT_TRUE(inbound && *inbound) << "the other kind stays";
  EXPECT_EQ((*inbound)->url, "https://inbound-a.example/callbacks");
  EXPECT_EQ((*inbound)->bearer_token, "bearer-token-of-inbound-a");
  auto of_b = store_->find_service_callback(service_b_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(of_b && *of_b) << "another service's stays";
  EXPECT_EQ((*of_b)->url, "https://status-b.example/callbacks");

  // Set again after the delete: found as set.
  callback(service_a_, CallbackKind::kDeliveryStatus, "status-a-again");
  found = store_->find_service_callback(service_a_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->url, "https://status-a-again.example/callbacks");
  EXPECT_EQ((*found)->bearer_token, "bearer-token-of-status-a-again");
}

TEST_P(ServiceSettingsContract, AnotherServiceCannotDeleteACallback) {
  callback(service_a_, CallbackKind::kDeliveryStatus, "status-a");
  callback(service_a_, CallbackKind::kInboundSms, "inbound-a");

  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    for (const ServiceId other : {service_b_.id, ServiceId{crypto::random_uuid()}}) {
      auto deleted = store_->delete_service_callback(other, kind);
      ASSERT_TRUE(deleted) << deleted.error().message;
      EXPECT_FALSE(*deleted) << callback_kind_name(kind);
    }
  }
  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    auto found = store_->find_service_callback(service_a_.id, kind);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_TRUE(*found) << callback_kind_name(kind) << " is still set";
  }
}

// The guest list.

TEST_P(ServiceSettingsContract, GuestListIsOpenedOldestFirstWithTiesById) {
  const GuestListEntry later = guest(service_a_, "email", "Later.Person@Example.org", "later.person@example.org", 1h);
  const GuestListEntry earliest = guest(service_a_, "mobile", "07700 900111", "447700900111", -1h);
  const GuestListEntry tie_one = guest(service_a_, "email", "tie.one@example.org", "tie.one@example.org");
  const GuestListEntry tie_two = guest(service_a_, "email", "tie.two@example.org", "tie.two@example.org");
  const GuestListEntry of_b = guest(service_b_, "email", "b.person@example.org", "b.person@example.org");

  std::vector<std::string> ties{tie_one.id.to_string(), tie_two.id.to_string()};
  std::sort(ties.begin(), ties.end());
  const auto listed = guests(service_a_);
  EXPECT_EQ(ids_of(listed), (std::vector<std::string>{earliest.id.to_string(), ties[0], ties[1], later.id.to_string()}))
      << "oldest first, ties by id; none of another service's";
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].recipient, "07700 900111") << "recipients come opened, as added";
  EXPECT_EQ(listed[0].recipient_type, "mobile");
  EXPECT_EQ(listed[0].service, service_a_.id);
  EXPECT_EQ(listed[0].created_at, earliest.created_at);
  EXPECT_EQ(listed[3].recipient, "Later.Person@Example.org");
  EXPECT_EQ(listed[3].recipient_type, "email");
  EXPECT_EQ(listed[3].created_at, later.created_at);
  // Only the blind index of the normalised form is stored: it cannot be read back.
  for (const GuestListEntry& entry : listed) EXPECT_EQ(entry.recipient_normalised, "") << entry.recipient;

  const auto listed_b = guests(service_b_);
  ASSERT_EQ(ids_of(listed_b), (std::vector<std::string>{of_b.id.to_string()}));
  EXPECT_EQ(listed_b[0].recipient, "b.person@example.org");
  auto unknown = store_->guest_list(ServiceId{crypto::random_uuid()});
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_TRUE(unknown->empty());
}

TEST_P(ServiceSettingsContract, RemovedGuestListEntryIsNoLongerOnTheList) {
  const GuestListEntry email = guest(service_a_, "email", "Guest.Person@Example.org", "guest.person@example.org");
  const GuestListEntry mobile = guest(service_a_, "mobile", "+447700900222", "447700900222", 1s);
  const GuestListEntry same_in_b = guest(service_b_, "email", "guest.person@example.org", "guest.person@example.org");

  auto removed = store_->remove_guest_list_entry(service_a_.id, email.id);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*another()->on_guest_list(service_a_.id, "guest.person@example.org")) << "its blind index went with it";
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "447700900222")) << "another entry stays";
  EXPECT_TRUE(store_->find_guest_list_entries(service_a_.id, "guest.person@example.org")->empty());
  EXPECT_EQ(ids_of(guests(service_a_)), (std::vector<std::string>{mobile.id.to_string()}));
  EXPECT_TRUE(*store_->on_guest_list(service_b_.id, "guest.person@example.org"))
      << "another service's entry for the same person stays";
  EXPECT_EQ(ids_of(guests(service_b_)), (std::vector<std::string>{same_in_b.id.to_string()}));

  removed = another()->remove_guest_list_entry(service_a_.id, email.id);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed) << "already removed";
  removed = store_->remove_guest_list_entry(service_a_.id, crypto::random_uuid());
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed) << "no such entry";
}

TEST_P(ServiceSettingsContract, AnotherServiceCannotRemoveAGuestListEntry) {
  const GuestListEntry of_a = guest(service_a_, "email", "guest.person@example.org", "guest.person@example.org");

  for (const ServiceId other : {service_b_.id, ServiceId{crypto::random_uuid()}}) {
    auto removed = store_->remove_guest_list_entry(other, of_a.id);
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_FALSE(*removed);
  }
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "guest.person@example.org"));
  const auto listed = guests(service_a_);
  ASSERT_EQ(ids_of(listed), (std::vector<std::string>{of_a.id.to_string()}));
  EXPECT_EQ(listed[0].recipient, "guest.person@example.org");
}

// The guest list is sealed under the long-lived "secrets" key; should that key be destroyed, its
// entries are left out of the list, not failed on (and are there again when the key is back:
// passed over, not deleted).
TEST_P(ServiceSettingsContract, GuestListLeavesOutEntriesWhoseDataKeyIsGone) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about sealed bytes; the in-memory store seals nothing";
  auto keys = std::make_shared<testing::ShreddableDataKeys>();
  cipher_ = std::make_shared<crypto::FieldCipher>(keys, crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  const GuestListEntry first = guest(service_a_, "email", "first@example.org", "first@example.org");
  const GuestListEntry second = guest(service_a_, "mobile", "07700900333", "447700900333", 1s);

  keys->destroy(crypto::kSecretsScope, true);
  auto listed = store_->guest_list(service_a_.id);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());
  // A data-subject search passes over them too (it does not fail the person's whole export).
  auto found = store_->find_guest_list_entries(service_a_.id, "first@example.org");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_TRUE(found->empty());

  keys->destroy(crypto::kSecretsScope, false);
  listed = store_->guest_list(service_a_.id);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(ids_of(*listed), (std::vector<std::string>{first.id.to_string(), second.id.to_string()}));
  found = store_->find_guest_list_entries(service_a_.id, "first@example.org");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(ids_of(*found), (std::vector<std::string>{first.id.to_string()}));
}

// The recipients never reach the disk in plain text: not when added, listed or removed (the
// database file and its write-ahead log on SQLite; the whole cluster's files, WAL included, on
// PostgreSQL).
TEST_P(ServiceSettingsContract, GuestListRecipientsAreSealedOnDiskCanary) {
  if (!backend_->on_disk()) GTEST_SKIP() << "the in-memory store keeps nothing on disk";
  guest(service_a_, "email", "Kept.Canary.6c3f@Example.org", "kept.canary.6c3f@example.org");
  const GuestListEntry removed =
      guest(service_a_, "email", "Gone.Canary.8e1b@Example.org", "gone.canary.8e1b@example.org", 1s);
  const auto listed = guests(service_a_);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].recipient, "Kept.Canary.6c3f@Example.org");
  auto gone = store_->remove_guest_list_entry(service_a_.id, removed.id);
  ASSERT_TRUE(gone && *gone);
  const std::string disk = backend_->raw_bytes();
  ASSERT_FALSE(disk.empty());
  for (const char* canary : {"canary.6c3f", "Canary.6c3f", "canary.8e1b", "Canary.8e1b"}) {
    EXPECT_EQ(disk.find(canary), std::string::npos) << canary;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceSettingsContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
