// The networks an API key or an NHS Notify client may be used from (ApiKeyRecord and
// NhsClientRecord's allowed_networks; ServiceDirectory::set_api_key_networks): stored as given,
// read back wherever the records are read, on every node, and checked alike by every backend. Run
// against every backend as store_contract_test.cc runs the rest (SQLite, PostgreSQL, and the
// in-memory store other unit tests use).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/random.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using Networks = std::vector<std::string>;

class KeyNetworks : public testing::TwoServicesContract {
 protected:
  ApiKeyRecord key_of(const ServiceRecord& service, Networks networks = {}) {
    ApiKeyRecord key{
        ApiKeyId{crypto::random_uuid()}, service.id, "key", KeyType::kNormal, "s3cr3t", now_, std::nullopt};
    key.allowed_networks = std::move(networks);
    return key;
  }
  // The networks of the service's key as `store` reads them (nullopt: no such key).
  static std::optional<Networks> networks_of(Store& store, ServiceId service, ApiKeyId key) {
    auto keys = store.api_keys_for_service(service);
    EXPECT_TRUE(keys) << keys.error().message;
    if (!keys) return std::nullopt;
    for (const ApiKeyRecord& k : *keys) {
      if (k.id == key) return k.allowed_networks;
    }
    return std::nullopt;
  }
  NhsClientRecord nhs_client(Networks networks) {
    NhsClientRecord client;
    client.id = crypto::random_uuid();
    client.service = service_a_.id;
    client.name = "GP system";
    client.api_key_hash = std::string(64, 'a');
    client.created_at = now_;
    client.allowed_networks = std::move(networks);
    return client;
  }
  // The most entries of the longest text: 100 of 64 bytes.
  static Networks largest() {
    Networks out;
    for (int i = 0; i < 100; ++i) {
      std::string network = "2001:db8:" + std::to_string(i) + "::/48";
      network.insert(0, 64 - network.size(), '0');
      out.push_back(network);
    }
    return out;
  }
  static std::vector<Networks> refused() {
    Networks too_many(101, "192.0.2.0/24");
    return {{""},
            {"192.0.2.0/24", ""},
            {"192.0.2.0/24,198.51.100.0/24"},
            {std::string(65, '1')},
            {"192.0.2.0/24 "},
            {"192.0.2.0/24\n"},
            {std::string("192.0.2.0/24\0", 13)},
            {"2001:db8::/32\xc2\xa0"},
            too_many};
  }
};

TEST_P(KeyNetworks, AKeysNetworksRoundTripThroughCreateAndSetOnEveryNode) {
  const ApiKeyRecord open = key_of(service_a_);
  const ApiKeyRecord restricted = key_of(service_a_, {"203.0.113.0/24", "2001:db8::/32"});
  ASSERT_TRUE(store_->create_api_key(open));
  ASSERT_TRUE(store_->create_api_key(restricted));
  auto other = another();
  ASSERT_TRUE(other);
  EXPECT_EQ(networks_of(*other, service_a_.id, open.id), Networks{}) << "empty: any network";
  EXPECT_EQ(networks_of(*other, service_a_.id, restricted.id), restricted.allowed_networks);

  ASSERT_TRUE(other->set_api_key_networks(service_a_.id, open.id, {"198.51.100.7/32"}));
  EXPECT_EQ(networks_of(*store_, service_a_.id, open.id), Networks{"198.51.100.7/32"});
  ASSERT_TRUE(store_->set_api_key_networks(service_a_.id, restricted.id, {}));
  EXPECT_EQ(networks_of(*other, service_a_.id, restricted.id), Networks{}) << "set empty: any network again";
  EXPECT_EQ(networks_of(*other, service_a_.id, open.id), Networks{"198.51.100.7/32"}) << "the other key stays";

  ASSERT_TRUE(store_->set_api_key_networks(service_a_.id, open.id, largest()));
  EXPECT_EQ(networks_of(*other, service_a_.id, open.id), largest());
  const ApiKeyRecord biggest = key_of(service_a_, largest());
  ASSERT_TRUE(store_->create_api_key(biggest));
  EXPECT_EQ(networks_of(*other, service_a_.id, biggest.id), largest());
}

TEST_P(KeyNetworks, ARevokedKeyMayStillBeRestricted) {
  const ApiKeyRecord key = key_of(service_a_);
  ASSERT_TRUE(store_->create_api_key(key));
  ASSERT_TRUE(store_->revoke_api_key(service_a_.id, key.id, now_));
  auto set = store_->set_api_key_networks(service_a_.id, key.id, {"192.0.2.0/24"});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(networks_of(*another(), service_a_.id, key.id), Networks{"192.0.2.0/24"});
}

TEST_P(KeyNetworks, SettingTheNetworksOfNoSuchKeyIsNotFound) {
  const ApiKeyRecord b_key = key_of(service_b_, {"192.0.2.0/24"});
  ASSERT_TRUE(store_->create_api_key(b_key));
  auto unknown = store_->set_api_key_networks(service_a_.id, ApiKeyId{crypto::random_uuid()}, {"10.0.0.0/8"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto others = store_->set_api_key_networks(service_a_.id, b_key.id, {"10.0.0.0/8"});
  ASSERT_FALSE(others) << "another service's key";
  EXPECT_EQ(others.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(networks_of(*store_, service_b_.id, b_key.id), Networks{"192.0.2.0/24"});
}

TEST_P(KeyNetworks, BadNetworksAreRefusedAndNothingChanges) {
  const ApiKeyRecord key = key_of(service_a_, {"192.0.2.0/24"});
  ASSERT_TRUE(store_->create_api_key(key));
  for (const Networks& bad : refused()) {
    auto set = store_->set_api_key_networks(service_a_.id, key.id, bad);
    ASSERT_FALSE(set) << bad.size() << " networks";
    EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument) << bad.size() << " networks";
    auto created = store_->create_api_key(key_of(service_a_, bad));
    ASSERT_FALSE(created) << bad.size() << " networks";
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << bad.size() << " networks";
  }
  auto keys = store_->api_keys_for_service(service_a_.id);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 1U) << "no key was created";
  EXPECT_EQ((*keys)[0].allowed_networks, Networks{"192.0.2.0/24"});
}

TEST_P(KeyNetworks, AnNhsClientsNetworksAreCreatedUpdatedAndReadEverywhere) {
  NhsClientRecord client = nhs_client({"203.0.113.0/24"});
  ASSERT_TRUE(store_->create_nhs_client(client));
  auto other = another();
  ASSERT_TRUE(other);
  auto by_id = other->find_nhs_client(client.id);
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->allowed_networks, Networks{"203.0.113.0/24"});

  client.allowed_networks = {"198.51.100.0/24", "2001:db8::/32"};
  client.name = "GP system 2";
  ASSERT_TRUE(store_->update_nhs_client(client));
  auto by_key = other->find_nhs_client_by_key(client.api_key_hash);
  ASSERT_TRUE(by_key && *by_key);
  EXPECT_EQ((*by_key)->allowed_networks, client.allowed_networks);
  EXPECT_EQ((*by_key)->name, "GP system 2");
  auto listed = other->list_nhs_clients();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].allowed_networks, client.allowed_networks);

  client.allowed_networks.clear();
  ASSERT_TRUE(other->update_nhs_client(client));
  auto cleared = store_->find_nhs_client(client.id);
  ASSERT_TRUE(cleared && *cleared);
  EXPECT_EQ((*cleared)->allowed_networks, Networks{}) << "empty: any network";
}

TEST_P(KeyNetworks, AnNhsClientsBadNetworksAreRefused) {
  NhsClientRecord client = nhs_client({"203.0.113.0/24"});
  ASSERT_TRUE(store_->create_nhs_client(client));
  for (const Networks& bad : refused()) {
    NhsClientRecord changed = client;
    changed.allowed_networks = bad;
    auto updated = store_->update_nhs_client(changed);
    ASSERT_FALSE(updated) << bad.size() << " networks";
    EXPECT_EQ(updated.error().code, ErrorCode::kInvalidArgument) << bad.size() << " networks";
    NhsClientRecord fresh = nhs_client(bad);
    fresh.api_key_hash = std::string(64, 'b');
    auto created = store_->create_nhs_client(fresh);
    ASSERT_FALSE(created) << bad.size() << " networks";
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << bad.size() << " networks";
  }
  auto listed = store_->list_nhs_clients();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].allowed_networks, Networks{"203.0.113.0/24"});
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyNetworks, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
