#include "crypto/self_signed.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "crypto/random.h"

namespace herald::crypto {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct FileClose { void operator()(FILE* f) const { std::fclose(f); } };

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool fill_certificate(X509* cert, EVP_PKEY* key, int valid_days) {
  auto serial = random_bytes(16);
  if (!serial) return false;
  (*serial)[0] = static_cast<char>((*serial)[0] & 0x7F);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial->data()), 16, nullptr);
  const bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert);
  return serial_ok && X509_set_version(cert, 2) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -60) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 60L * 60 * 24 * valid_days) != nullptr &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>("Herald local"), -1, -1, 0) == 1 &&
         X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
         add_extension(cert, NID_basic_constraints, "critical,CA:TRUE") &&
         add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") &&
         add_extension(cert, NID_ext_key_usage, "serverAuth") &&
         add_extension(cert, NID_subject_key_identifier, "hash") &&
         add_extension(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") &&
         X509_sign(cert, key, EVP_sha256()) > 0;
}

}  // namespace

Result<void> write_self_signed_certificate(const std::string& cert_path,
                                           const std::string& key_path, int valid_days) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert || !fill_certificate(cert.get(), key.get(), valid_days)) {
    return internal_error("cannot generate a self-signed certificate");
  }
  const int key_fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (key_fd < 0) return unavailable("cannot create TLS key file " + key_path);
  std::unique_ptr<FILE, FileClose> key_file(::fdopen(key_fd, "w"));
  if (!key_file || PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return unavailable("cannot write TLS key file " + key_path);
  }
  std::unique_ptr<FILE, FileClose> cert_file(std::fopen(cert_path.c_str(), "w"));
  if (!cert_file || PEM_write_X509(cert_file.get(), cert.get()) != 1) {
    return unavailable("cannot write certificate file " + cert_path);
  }
  return ok();
}

namespace {

std::string name_line(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : "";
}

Result<Timestamp> time_of(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return invalid_argument("unreadable certificate time");
  return Timestamp(std::chrono::duration_cast<Duration>(std::chrono::seconds(timegm(&parts))));
}

}  // namespace

Result<CertificateFacts> read_certificate(const std::string& pem_path) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(pem_path.c_str(), "re"));
  if (!file) return unavailable("cannot read certificate " + pem_path);
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  if (!cert) return invalid_argument(pem_path + " holds no PEM certificate");
  CertificateFacts facts;
  facts.subject = name_line(X509_get_subject_name(cert.get()));
  facts.issuer = name_line(X509_get_issuer_name(cert.get()));
  auto from = time_of(X509_get0_notBefore(cert.get()));
  if (!from) return from.error();
  auto until = time_of(X509_get0_notAfter(cert.get()));
  if (!until) return until.error();
  facts.not_before = *from;
  facts.not_after = *until;
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key != nullptr) {
    facts.key_type = EVP_PKEY_get0_type_name(key) != nullptr ? EVP_PKEY_get0_type_name(key) : "";
    facts.key_bits = EVP_PKEY_get_bits(key);
    facts.self_signed = X509_check_issued(cert.get(), cert.get()) == X509_V_OK && X509_verify(cert.get(), key) == 1;
  }
  return facts;
}

}  // namespace herald::crypto
