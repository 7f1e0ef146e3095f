#include "crypto/pkcs11_kek.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>

#include "crypto/private_file.h"
#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kTokenLabelBytes = 32;  // CK_TOKEN_INFO.label: blank-padded, no NUL
constexpr std::size_t kMaxPinFileBytes = 4096;
constexpr std::string_view kIdPrefix = "pkcs11-";

// ---- CK_RV in words ------------------------------------------------------------------------

struct RvName {
  CK_RV rv;
  const char* name;
};
constexpr RvName kRvNames[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

const char* rv_name(CK_RV rv) {
  for (const auto& entry : kRvNames) {
    if (entry.rv == rv) return entry.name;
  }
  return nullptr;
}

std::string rv_text(CK_RV rv) {
  if (const char* name = rv_name(rv)) return name;
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
  return buf;
}

// Chooses the code by what the caller can do about it (core/error.h).
ErrorCode rv_code(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_USER_PIN_NOT_INITIALIZED:
      return ErrorCode::kUnauthenticated;
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
    case CKR_TOKEN_WRITE_PROTECTED:
      return ErrorCode::kPermissionDenied;
    case CKR_HOST_MEMORY:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_COUNT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

// "PKCS#11 <what> on token 'x' failed: CKR_..."
Error rv_error(std::string_view what, std::string_view token, CK_RV rv) {
  return Error{rv_code(rv), "PKCS#11 " + std::string(what) + " on token '" + std::string(token) +
                                "' failed: " + rv_text(rv)};
}

// ---- Modules: loaded and initialised once per process ---------------------------------------
//
// C_Initialize and C_Finalize act on the whole module in this process, and so does the login
// state of a token (PKCS#11 2.40 §6.7). Several Pkcs11Kek objects (a test beside `serve`, a
// reopened source) must not finalise or log out under each other, so both are counted here.

struct LoadedModule {
  CK_FUNCTION_LIST_PTR functions = nullptr;
  int users = 0;
  bool finalize = false;  // false when someone outside Herald had initialised it already
  std::map<CK_SLOT_ID, int> logins;
};

std::mutex g_modules_mu;
std::map<void*, LoadedModule>& modules() {  // keyed by dlopen handle; guarded by g_modules_mu
  static auto* loaded = new std::map<void*, LoadedModule>();
  return *loaded;
}

struct ModuleRef {
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR functions = nullptr;
};

Result<ModuleRef> acquire_module(const std::string& path) {
  // Every acquire holds one dlopen reference and every release drops one, so the counts match.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return unavailable("cannot load PKCS#11 module " + path + ": " +
                       (why != nullptr ? why : "unknown error"));
  }
  std::lock_guard lock(g_modules_mu);
  auto [it, inserted] = modules().try_emplace(handle);
  LoadedModule& module = it->second;
  if (inserted) {
    void* symbol = ::dlsym(handle, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR functions = nullptr;
    CK_RV rv = CKR_FUNCTION_NOT_SUPPORTED;
    if (symbol != nullptr) rv = reinterpret_cast<CK_C_GetFunctionList>(symbol)(&functions);
    if (rv == CKR_OK && functions != nullptr) {
      CK_C_INITIALIZE_ARGS args{};
      args.flags = CKF_OS_LOCKING_OK;
      rv = functions->C_Initialize(&args);
    }
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      modules().erase(it);
      ::dlclose(handle);
      return unavailable("cannot initialise PKCS#11 module " + path + ": " +
                         (symbol == nullptr ? "no C_GetFunctionList" : rv_text(rv)));
    }
    module.functions = functions;
    module.finalize = rv == CKR_OK;
  }
  ++module.users;
  return ModuleRef{handle, module.functions};
}

void release_module(void* handle) {
  std::lock_guard lock(g_modules_mu);
  auto it = modules().find(handle);
  HERALD_CHECK(it != modules().end(), "releasing a PKCS#11 module that was not acquired");
  if (--it->second.users == 0) {
    if (it->second.finalize) it->second.functions->C_Finalize(nullptr);
    modules().erase(it);
  }
  ::dlclose(handle);
}

// Logs in unless this process already is (the login belongs to the application, not the
// session). A PIN given to a second object while the first is logged in is not checked again;
// both come from the same process.
CK_RV login(void* handle, CK_SLOT_ID slot, CK_SESSION_HANDLE session, const SecretBytes& pin) {
  std::lock_guard lock(g_modules_mu);
  LoadedModule& module = modules().at(handle);
  int& count = module.logins[slot];
  if (count == 0) {
    // C_Login does not write through the PIN pointer; the API just predates const.
    auto* pin_bytes = reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.view().data()));
    const CK_RV rv = module.functions->C_Login(session, CKU_USER, pin_bytes, pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return rv;
  }
  ++count;
  return CKR_OK;
}

void logout(void* handle, CK_SLOT_ID slot, CK_SESSION_HANDLE session) {
  std::lock_guard lock(g_modules_mu);
  LoadedModule& module = modules().at(handle);
  if (--module.logins[slot] == 0) {
    module.logins.erase(slot);
    module.functions->C_Logout(session);
  }
}

// ---- Small helpers -------------------------------------------------------------------------

// AES-GCM parameters as SoftHSM2 reads them (pIv/ulIvLen, pAAD/ulAADLen, ulTagBits; ulIvBits is
// set for tokens that want it). An empty AAD still gets a valid pointer: some tokens copy from
// pAAD regardless of its length.
CK_GCM_PARAMS gcm_params(unsigned char* iv, std::string& aad) {
  static unsigned char no_aad = 0;
  CK_GCM_PARAMS params{};
  params.pIv = iv;
  params.ulIvLen = kNonceBytes;
  params.ulIvBits = kNonceBytes * 8;
  params.pAAD = aad.empty() ? &no_aad : reinterpret_cast<unsigned char*>(aad.data());
  params.ulAADLen = aad.size();
  params.ulTagBits = kTagBytes * 8;
  return params;
}

// Parses the decimal after `prefix` (no sign, no leading zero, at least 1).
std::optional<std::uint32_t> parse_number_after(std::string_view text, std::string_view prefix) {
  if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = text.substr(prefix.size());
  if (digits[0] == '0') return std::nullopt;
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n == 0) return std::nullopt;
  return n;
}

std::string kek_id(std::uint32_t n) { return std::string(kIdPrefix) + std::to_string(n); }

CK_DATE to_ck_date(Timestamp t) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(t)};
  char text[16];
  std::snprintf(text, sizeof text, "%04d%02u%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  CK_DATE date{};
  std::copy_n(text, 4, date.year);
  std::copy_n(text + 4, 2, date.month);
  std::copy_n(text + 6, 2, date.day);
  return date;
}

// An empty or malformed date (another tool made the key) reads as the epoch.
Timestamp from_ck_date(const CK_DATE& date) {
  auto number = [](const unsigned char* digits, int count) {
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (digits[i] < '0' || digits[i] > '9') return -1;
      value = value * 10 + (digits[i] - '0');
    }
    return value;
  };
  const int year = number(date.year, 4);
  const int month = number(date.month, 2);
  const int day = number(date.day, 2);
  if (year < 0 || month < 0 || day < 0) return Timestamp{};
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return Timestamp{};
  return std::chrono::time_point_cast<Duration>(std::chrono::sys_days(ymd));
}

CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, value, size};
}

}  // namespace

// ---- PIN file --------------------------------------------------------------------------------

Result<SecretBytes> read_pin_file(const std::string& path) {
  auto content = read_private_file(path, "PIN file", kMaxPinFileBytes);
  if (!content) return content.error();
  std::string_view pin(*content);
  if (!pin.empty() && pin.back() == '\n') pin.remove_suffix(1);
  if (!pin.empty() && pin.back() == '\r') pin.remove_suffix(1);
  SecretBytes result(pin);
  wipe_string(*content);
  if (result.empty()) return invalid_argument("PIN file " + path + " is empty");
  return result;
}

// ---- The session -----------------------------------------------------------------------------

// One logged-in R/W session on the token. Not thread-safe: Pkcs11Kek serialises calls.
struct Pkcs11Kek::Session {
  struct KeyObject {
    std::uint32_t number = 0;
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  };

  std::string module_path;
  std::string token_label;
  std::string label_prefix;
  void* module = nullptr;
  CK_FUNCTION_LIST_PTR fn = nullptr;
  CK_SLOT_ID slot = 0;
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  bool logged_in = false;

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (logged_in) logout(module, slot, handle);
    if (handle != CK_INVALID_HANDLE) fn->C_CloseSession(handle);
    if (module != nullptr) release_module(module);
  }

  Error error(std::string_view what, CK_RV rv) const { return rv_error(what, token_label, rv); }
  std::string key_label(std::uint32_t n) const { return label_prefix + std::to_string(n); }

  Result<void> find_slot();
  Result<std::vector<CK_OBJECT_HANDLE>> find_objects(std::vector<CK_ATTRIBUTE> search);
  Result<std::string> read_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  Result<std::vector<KeyObject>> list_keys();
  Result<Timestamp> created(CK_OBJECT_HANDLE object);
  Result<CK_OBJECT_HANDLE> find_key(std::uint32_t n);
  Result<KekVersion> generate(Timestamp now);
  Result<std::string> encrypt(CK_OBJECT_HANDLE key, const SecretBytes& plaintext,
                              std::string_view aad);
  Result<SecretBytes> decrypt(CK_OBJECT_HANDLE key, std::string_view id, std::string_view bytes,
                              std::string_view aad);
};

Result<void> Pkcs11Kek::Session::find_slot() {
  CK_ULONG count = 0;
  std::vector<CK_SLOT_ID> slots;
  CK_RV rv = CKR_BUFFER_TOO_SMALL;
  while (rv == CKR_BUFFER_TOO_SMALL) {  // the list can grow between the two calls
    rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count);
    if (rv != CKR_OK) break;
    slots.resize(count);
    rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
  }
  if (rv != CKR_OK) return error("C_GetSlotList", rv);
  slots.resize(count);

  std::string padded = token_label;
  padded.resize(kTokenLabelBytes, ' ');
  std::vector<CK_SLOT_ID> matches;
  for (CK_SLOT_ID candidate : slots) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(candidate, &info) != CKR_OK) continue;  // removed meanwhile
    if (std::equal(padded.begin(), padded.end(), info.label)) matches.push_back(candidate);
  }
  if (matches.empty()) {
    return not_found("no PKCS#11 token labelled '" + token_label + "' in module " + module_path +
                     " (initialise one, e.g. softhsm2-util --init-token)");
  }
  if (matches.size() > 1) {
    return invalid_argument(std::to_string(matches.size()) + " PKCS#11 tokens are labelled '" +
                            token_label + "' in module " + module_path +
                            "; give each a distinct label");
  }
  slot = matches.front();
  return ok();
}

Result<std::vector<CK_OBJECT_HANDLE>> Pkcs11Kek::Session::find_objects(
    std::vector<CK_ATTRIBUTE> search) {
  CK_RV rv = fn->C_FindObjectsInit(handle, search.data(), search.size());
  if (rv != CKR_OK) return error("C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> found;
  std::array<CK_OBJECT_HANDLE, 32> batch{};
  CK_ULONG count = 0;
  do {
    rv = fn->C_FindObjects(handle, batch.data(), batch.size(), &count);
    if (rv != CKR_OK) break;
    found.insert(found.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(count));
  } while (count == batch.size());
  const CK_RV final_rv = fn->C_FindObjectsFinal(handle);  // always, or the session stays busy
  if (rv != CKR_OK) return error("C_FindObjects", rv);
  if (final_rv != CKR_OK) return error("C_FindObjectsFinal", final_rv);
  return found;
}

// For non-secret attributes only (labels, dates, ids).
Result<std::string> Pkcs11Kek::Session::read_attribute(CK_OBJECT_HANDLE object,
                                                       CK_ATTRIBUTE_TYPE type) {
  char what[64];
  std::snprintf(what, sizeof what, "C_GetAttributeValue(0x%lx)", static_cast<unsigned long>(type));
  CK_ATTRIBUTE query = attribute(type, nullptr, 0);
  CK_RV rv = fn->C_GetAttributeValue(handle, object, &query, 1);
  if (rv != CKR_OK) return error(what, rv);
  std::string value(query.ulValueLen, '\0');
  query.pValue = value.data();
  rv = fn->C_GetAttributeValue(handle, object, &query, 1);
  if (rv != CKR_OK) return error(what, rv);
  value.resize(query.ulValueLen);
  return value;
}

Result<std::vector<Pkcs11Kek::Session::KeyObject>> Pkcs11Kek::Session::list_keys() {
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  CK_BBOOL on_token = CK_TRUE;
  auto handles = find_objects({attribute(CKA_CLASS, &key_class, sizeof key_class),
                               attribute(CKA_KEY_TYPE, &key_type, sizeof key_type),
                               attribute(CKA_TOKEN, &on_token, sizeof on_token)});
  if (!handles) return handles.error();
  std::vector<KeyObject> keys;
  for (CK_OBJECT_HANDLE object : *handles) {
    auto label = read_attribute(object, CKA_LABEL);
    if (!label) return label.error();
    const auto number = parse_number_after(*label, label_prefix);
    if (!number) continue;  // some other application's key
    keys.push_back({*number, object});
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyObject& a, const KeyObject& b) { return a.number < b.number; });
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i].number == keys[i - 1].number) {
      return data_loss("PKCS#11 token '" + token_label + "' holds two keys labelled " +
                       key_label(keys[i].number));
    }
  }
  return keys;
}

// The creation day. CKA_ID holds it as well as CKA_START_DATE because SoftHSM2 (2.6.1) cannot
// return CKA_START_DATE of a private object: it stores the date unencrypted but decrypts every
// non-empty byte-string attribute of a private object on the way out, fails, and answers
// CKR_GENERAL_ERROR (logging an error each time). So CKA_ID is read first; CKA_START_DATE is
// the fallback for keys that another tool made.
Result<Timestamp> Pkcs11Kek::Session::created(CK_OBJECT_HANDLE object) {
  auto id = read_attribute(object, CKA_ID);
  if (!id) return id.error();
  CK_DATE date{};
  const std::size_t space = id->find(' ');
  if (space != std::string::npos && id->size() - space - 1 == sizeof date) {
    std::memcpy(&date, id->data() + space + 1, sizeof date);
    return from_ck_date(date);
  }
  CK_ATTRIBUTE start = attribute(CKA_START_DATE, &date, sizeof date);
  const CK_RV rv = fn->C_GetAttributeValue(handle, object, &start, 1);
  if (rv != CKR_OK || start.ulValueLen != sizeof date) return Timestamp{};
  return from_ck_date(date);
}

Result<CK_OBJECT_HANDLE> Pkcs11Kek::Session::find_key(std::uint32_t n) {
  std::string label = key_label(n);
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  auto handles = find_objects({attribute(CKA_CLASS, &key_class, sizeof key_class),
                               attribute(CKA_LABEL, label.data(), label.size())});
  if (!handles) return handles.error();
  if (handles->empty()) {
    return not_found("KEK " + kek_id(n) + " (" + label + ") is not on PKCS#11 token '" +
                     token_label + "'");
  }
  if (handles->size() > 1) {
    return data_loss("PKCS#11 token '" + token_label + "' holds two keys labelled " + label);
  }
  return handles->front();
}

Result<KekVersion> Pkcs11Kek::Session::generate(Timestamp now) {
  auto keys = list_keys();
  if (!keys) return keys.error();
  const std::uint32_t n = keys->empty() ? 1 : keys->back().number + 1;
  if (n == 0) return internal_error("KEK version numbers exhausted");
  std::string label = key_label(n);
  CK_DATE start = to_ck_date(now);
  // "pkcs11-<n> YYYYMMDD": see created() for why the date is here too.
  std::string id =
      kek_id(n) + " " + std::string(reinterpret_cast<const char*>(&start), sizeof start);
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  CK_ULONG length = kKeyBytes;
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  std::vector<CK_ATTRIBUTE> key_template = {
      attribute(CKA_CLASS, &key_class, sizeof key_class),
      attribute(CKA_KEY_TYPE, &key_type, sizeof key_type),
      attribute(CKA_VALUE_LEN, &length, sizeof length),
      attribute(CKA_TOKEN, &yes, sizeof yes),
      attribute(CKA_PRIVATE, &yes, sizeof yes),
      attribute(CKA_SENSITIVE, &yes, sizeof yes),
      attribute(CKA_EXTRACTABLE, &no, sizeof no),
      attribute(CKA_ENCRYPT, &yes, sizeof yes),
      attribute(CKA_DECRYPT, &yes, sizeof yes),
      attribute(CKA_WRAP, &no, sizeof no),
      attribute(CKA_UNWRAP, &no, sizeof no),
      attribute(CKA_SIGN, &no, sizeof no),
      attribute(CKA_VERIFY, &no, sizeof no),
      attribute(CKA_DERIVE, &no, sizeof no),
      attribute(CKA_LABEL, label.data(), label.size()),
      attribute(CKA_ID, id.data(), id.size()),
      attribute(CKA_START_DATE, &start, sizeof start),
  };
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  const CK_RV rv =
      fn->C_GenerateKey(handle, &mechanism, key_template.data(), key_template.size(), &key);
  if (rv != CKR_OK) return error("C_GenerateKey of " + label, rv);

  // Another process rotating at the same moment picks the same number; keep neither guessing.
  auto same = find_key(n);
  if (!same) {
    fn->C_DestroyObject(handle, key);
    if (same.error().code == ErrorCode::kDataLoss) {
      return unavailable("another process created " + label + " on PKCS#11 token '" + token_label +
                         "' at the same time; retry");
    }
    return same.error();
  }
  return KekVersion{kek_id(n), n, from_ck_date(start), true};
}

Result<std::string> Pkcs11Kek::Session::encrypt(CK_OBJECT_HANDLE key, const SecretBytes& plaintext,
                                                std::string_view aad) {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  public_random(nonce, kNonceBytes);
  std::string aad_copy(aad);  // the API takes non-const pointers; the aad is not secret
  CK_GCM_PARAMS params = gcm_params(nonce, aad_copy);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_RV rv = fn->C_EncryptInit(handle, &mechanism, key);
  if (rv != CKR_OK) return error("C_EncryptInit (AES-GCM)", rv);
  // C_Encrypt does not write through its input pointer; the API just predates const.
  auto* in = reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(plaintext.view().data()));
  CK_ULONG out_len = plaintext.size() + kTagBytes;
  rv = fn->C_Encrypt(handle, in, plaintext.size(), nonce + kNonceBytes, &out_len);
  if (rv != CKR_OK) return error("C_Encrypt (AES-GCM)", rv);
  if (out_len != plaintext.size() + kTagBytes) {
    return internal_error("PKCS#11 token '" + token_label + "' returned " +
                          std::to_string(out_len) + " bytes of AES-GCM output for " +
                          std::to_string(plaintext.size()) + " bytes of input");
  }
  return out;
}

Result<SecretBytes> Pkcs11Kek::Session::decrypt(CK_OBJECT_HANDLE key, std::string_view id,
                                                std::string_view bytes, std::string_view aad) {
  if (bytes.size() < kNonceBytes + kTagBytes) {
    return data_loss("key wrapped under " + std::string(id) + " is too short (" +
                     std::to_string(bytes.size()) + " bytes)");
  }
  std::string input(bytes);  // nonce || ciphertext || tag; not secret
  std::string aad_copy(aad);
  CK_GCM_PARAMS params = gcm_params(reinterpret_cast<unsigned char*>(input.data()), aad_copy);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_RV rv = fn->C_DecryptInit(handle, &mechanism, key);
  if (rv != CKR_OK) return error("C_DecryptInit (AES-GCM)", rv);
  auto* body = reinterpret_cast<CK_BYTE_PTR>(input.data()) + kNonceBytes;
  const CK_ULONG body_len = input.size() - kNonceBytes;
  // Room for the whole body: some tokens (SoftHSM2 among them) want more than the plaintext.
  std::string plain(body_len, '\0');
  CK_ULONG plain_len = plain.size();
  rv = fn->C_Decrypt(handle, body, body_len, reinterpret_cast<CK_BYTE_PTR>(plain.data()),
                     &plain_len);
  if (rv != CKR_OK) {
    wipe_string(plain);
    // SoftHSM2 reports a tag mismatch as CKR_GENERAL_ERROR, the standard says
    // CKR_ENCRYPTED_DATA_INVALID; the key and parameters were accepted by C_DecryptInit, so
    // these mean the bytes or the aad are not what was wrapped.
    if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
        rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED) {
      return data_loss("unwrapping with KEK " + std::string(id) +
                       " failed authentication: the wrapped key or its associated data "
                       "is not what was wrapped (" +
                       rv_text(rv) + ")");
    }
    return error("C_Decrypt (AES-GCM)", rv);
  }
  SecretBytes result(
      std::string_view(plain).substr(0, std::min<std::size_t>(plain_len, plain.size())));
  wipe_string(plain);
  return result;
}

// ---- Pkcs11Kek -------------------------------------------------------------------------------

Pkcs11Kek::Pkcs11Kek(std::string description) : description_(std::move(description)) {}

Pkcs11Kek::~Pkcs11Kek() = default;

Result<std::unique_ptr<Pkcs11Kek>> Pkcs11Kek::open(const Pkcs11Config& config) {
  if (config.token_label.empty() || config.token_label.size() > kTokenLabelBytes) {
    return invalid_argument("PKCS#11 token label must be 1 to 32 bytes");
  }
  if (config.key_label_prefix.empty()) {
    return invalid_argument("PKCS#11 key label prefix must not be empty");
  }
  if (config.user_pin.empty()) return invalid_argument("PKCS#11 user PIN is empty");

  auto session = std::make_unique<Session>();  // its destructor undoes whatever was done
  session->module_path = config.module_path;
  session->token_label = config.token_label;
  session->label_prefix = config.key_label_prefix;
  auto module = acquire_module(config.module_path);
  if (!module) return module.error();
  session->module = module->handle;
  session->fn = module->functions;
  HERALD_TRY(session->find_slot());

  CK_RV rv = session->fn->C_OpenSession(session->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                        nullptr, &session->handle);
  if (rv != CKR_OK) {
    session->handle = CK_INVALID_HANDLE;
    return session->error("C_OpenSession", rv);
  }
  rv = login(session->module, session->slot, session->handle, config.user_pin);
  if (rv == CKR_PIN_INCORRECT) {
    return Error{ErrorCode::kUnauthenticated,
                 "PKCS#11 login failed: incorrect PIN for token '" + config.token_label + "'"};
  }
  if (rv == CKR_PIN_LOCKED) {
    return Error{ErrorCode::kPermissionDenied,
                 "PKCS#11 login failed: the user PIN of token '" + config.token_label +
                     "' is locked (too many wrong attempts); the security officer must reset it"};
  }
  if (rv != CKR_OK) return session->error("C_Login", rv);
  session->logged_in = true;

  std::unique_ptr<Pkcs11Kek> kek(new Pkcs11Kek("PKCS#11 token '" + config.token_label + "'"));
  kek->key_label_prefix_ = config.key_label_prefix;
  kek->session_ = std::move(session);
  return kek;
}

std::string Pkcs11Kek::description() const { return description_; }

Result<std::vector<KekVersion>> Pkcs11Kek::versions() {
  std::lock_guard lock(mu_);
  auto keys = session_->list_keys();
  if (!keys) return keys.error();
  std::vector<KekVersion> out;
  out.reserve(keys->size());
  for (const auto& key : *keys) {
    auto created = session_->created(key.handle);
    if (!created) return created.error();
    out.push_back({kek_id(key.number), key.number, *created, key.number == keys->back().number});
  }
  return out;
}

Result<WrappedKey> Pkcs11Kek::wrap(const SecretBytes& key, std::string_view aad) {
  std::lock_guard lock(mu_);
  auto keys = session_->list_keys();
  if (!keys) return keys.error();
  if (keys->empty()) {
    return not_found(description_ + " holds no KEK (labelled " + key_label_prefix_ +
                     "<n>); create the first version");
  }
  auto bytes = session_->encrypt(keys->back().handle, key, aad);
  if (!bytes) return bytes.error();
  return WrappedKey{kek_id(keys->back().number), std::move(*bytes)};
}

Result<SecretBytes> Pkcs11Kek::unwrap(const WrappedKey& wrapped, std::string_view aad) {
  const auto n = parse_number_after(wrapped.kek_id, kIdPrefix);
  if (!n) {
    return not_found("KEK '" + wrapped.kek_id + "' is not a version of " + description_);
  }
  std::lock_guard lock(mu_);
  auto key = session_->find_key(*n);
  if (!key) return key.error();
  return session_->decrypt(*key, wrapped.kek_id, wrapped.bytes, aad);
}

Result<KekVersion> Pkcs11Kek::create_version(Timestamp now) {
  std::lock_guard lock(mu_);
  return session_->generate(now);
}

Result<void> Pkcs11Kek::destroy_version(std::string_view kek_id_text) {
  const auto n = parse_number_after(kek_id_text, kIdPrefix);
  if (!n)
    return not_found("KEK '" + std::string(kek_id_text) + "' is not a version of " + description_);
  std::lock_guard lock(mu_);
  auto keys = session_->list_keys();
  if (!keys) return keys.error();
  auto it = std::find_if(keys->begin(), keys->end(),
                         [&](const Session::KeyObject& key) { return key.number == *n; });
  if (it == keys->end()) {
    return not_found("KEK " + kek_id(*n) + " is not on " + description_);
  }
  if (it->number == keys->back().number) {
    return failed_precondition("KEK " + kek_id(*n) + " is the " +
                            (keys->size() == 1 ? "only" : "active") + " version on " +
                            description_ + "; create a new version before destroying it");
  }
  const CK_RV rv = session_->fn->C_DestroyObject(session_->handle, it->handle);
  if (rv != CKR_OK) return session_->error("C_DestroyObject of " + session_->key_label(*n), rv);
  return ok();
}

Result<KekVersion> Pkcs11Kek::ensure_initial_version(Timestamp now) {
  std::lock_guard lock(mu_);
  auto keys = session_->list_keys();
  if (!keys) return keys.error();
  if (keys->empty()) return session_->generate(now);
  const auto& newest = keys->back();
  auto created = session_->created(newest.handle);
  if (!created) return created.error();
  return KekVersion{kek_id(newest.number), newest.number, *created, true};
}

}  // namespace herald::crypto
