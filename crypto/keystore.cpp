#include "crypto/keystore.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"

namespace bas::crypto {
namespace {

// Version 1 layout; docs/keystore.md is the normative description and must change with it.
constexpr uint8_t kMagic[6] = {'B', 'A', 'S', 'K', 'E', 'Y'};
constexpr uint8_t kVersion = 1;
constexpr size_t kSaltSize = 32;
constexpr size_t kNonceSize = 12;  // the GCM IV size that needs no extra GHASH pass
constexpr size_t kTagSize = 16;
constexpr size_t kMaxNameSize = 1024;
// magic, version, log2(N), r, p, salt, nonce, name length.
constexpr size_t kFixedHeaderSize = sizeof kMagic + 1 + 3 + kSaltSize + kNonceSize + 2;
constexpr size_t kSizeWithoutName =
    kFixedHeaderSize + sizeof(PublicKey) + sizeof(SecretKey) + kTagSize;
constexpr size_t kMaxFileSize = kSizeWithoutName + kMaxNameSize;

// Read bounds on scrypt parameters. The file is untrusted input: without them one changed byte
// could make the reader allocate gigabytes or spin for hours before GCM can reject the file.
constexpr unsigned kMinLog2N = 10;
constexpr unsigned kMaxLog2N = 20;
constexpr uint32_t kMaxR = 16;
constexpr uint32_t kMaxP = 4;
constexpr uint64_t kMaxScryptMemory = uint64_t{256} << 20;  // 128 * N * r bytes

using AesKey = std::array<uint8_t, 32>;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct Cleansed {
  uint8_t* data;
  size_t size;
  ~Cleansed() { OPENSSL_cleanse(data, size); }
};

Error Internal(const std::string& what) { return Error{"INTERNAL", what + " failed in OpenSSL"}; }
Error IoError(const std::string& what, const std::filesystem::path& path, int err) {
  return Error{"IO_ERROR", what + " " + path.string() + ": " + std::system_category().message(err)};
}
Error Malformed(const std::string& why) { return Error{"MALFORMED_KEYFILE", why}; }

// Empty string when the parameters are acceptable, otherwise why not.
std::string ScryptParamsProblem(uint64_t n, uint32_t r, uint32_t p) {
  if (n < (uint64_t{1} << kMinLog2N) || n > (uint64_t{1} << kMaxLog2N) || (n & (n - 1)) != 0) {
    return "scrypt N must be a power of two from 2^10 to 2^20, got " + std::to_string(n);
  }
  if (r < 1 || r > kMaxR) return "scrypt r must be 1 to 16, got " + std::to_string(r);
  if (p < 1 || p > kMaxP) return "scrypt p must be 1 to 4, got " + std::to_string(p);
  if (128 * n * r > kMaxScryptMemory) {
    return "scrypt 128*N*r exceeds 256 MiB (N=" + std::to_string(n) + ", r=" + std::to_string(r) +
           ")";
  }
  return "";
}

unsigned Log2(uint64_t power_of_two) {
  unsigned log = 0;
  while ((uint64_t{1} << log) < power_of_two) ++log;
  return log;
}

Status DeriveKey(std::string_view passphrase, const uint8_t* salt, const ScryptParams& params,
                 AesKey& key) {
  // Exactly what OpenSSL's scrypt allocates (B and V); the default cap of 32 MB would refuse
  // the default parameters.
  const uint64_t maxmem =
      128 * uint64_t{params.r} * (params.n + 2) + 128 * uint64_t{params.r} * uint64_t{params.p};
  // OpenSSL wants a non-null pointer even for an empty passphrase.
  const char* pass = passphrase.empty() ? "" : passphrase.data();
  if (EVP_PBE_scrypt(pass, passphrase.size(), salt, kSaltSize, params.n, params.r, params.p, maxmem,
                     key.data(), key.size()) != 1) {
    return Internal("scrypt key derivation");
  }
  return Status::Ok();
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

Status Seal(const AesKey& key, const uint8_t* nonce, ByteSpan aad, const SecretKey& plaintext,
            uint8_t* ciphertext, uint8_t* tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (ctx == nullptr || Aes256Gcm() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &final_len) != 1 ||
      len + final_len != static_cast<int>(plaintext.size()) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, tag) != 1) {
    return Internal("AES-256-GCM encryption");
  }
  return Status::Ok();
}

// BAD_PASSPHRASE when the tag does not authenticate the header and ciphertext.
Status Open(const AesKey& key, const uint8_t* nonce, ByteSpan aad, const uint8_t* ciphertext,
            const uint8_t* tag, SecretKey& plaintext) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::array<uint8_t, kTagSize> tag_copy;  // the ctrl interface takes a non-const pointer
  std::memcpy(tag_copy.data(), tag, kTagSize);
  int len = 0;
  if (ctx == nullptr || Aes256Gcm() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext,
                        static_cast<int>(plaintext.size())) != 1 ||
      len != static_cast<int>(plaintext.size()) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag_copy.data()) != 1) {
    return Internal("AES-256-GCM decryption");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + len, &final_len) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Error{"BAD_PASSPHRASE", "wrong passphrase, or the key file was modified"};
  }
  return Status::Ok();
}

Status WriteAll(int fd, const std::vector<uint8_t>& bytes, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Readers see either the old file or the complete new one, never a partial key, and after a
// crash the rename is durable only once the directory entry itself has been synced.
Status WriteFileAtomically(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  if (path.filename().empty()) {
    return Error{"INVALID_ARGUMENT", "key file path has no file name: " + path.string()};
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::array<uint8_t, 8> suffix;
  if (Status s = RandomBytes(suffix); !s.ok()) return s;
  const std::filesystem::path tmp =
      dir / ("." + path.filename().string() + ".tmp-" + HexEncode(suffix));

  // O_EXCL: never follow or reuse something an attacker placed under the temporary name.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", tmp, errno);
  Status status = Status::Ok();
  // The umask can only remove bits, but be explicit about the final mode regardless.
  if (::fchmod(fd, 0600) != 0) status = IoError("cannot chmod", tmp, errno);
  if (status.ok()) status = WriteAll(fd, bytes, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = IoError("cannot fsync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = IoError("cannot close", tmp, errno);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = IoError("cannot rename to", path, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }

  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("cannot open directory", dir, errno);
  if (::fsync(dir_fd) != 0) status = IoError("cannot fsync directory", dir, errno);
  ::close(dir_fd);
  return status;
}

// Reads at most max_size + 1 bytes, so an oversized file is recognisable without reading it
// whole.
Result<std::vector<uint8_t>> ReadBounded(const std::filesystem::path& path, size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path, errno);
  std::vector<uint8_t> bytes(max_size + 1);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return IoError("cannot read", path, err);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

// The parsed, not yet authenticated header of a key file (steps 2 to 5 of docs/keystore.md,
// "Reading"), with the offsets decryption needs.
struct ParsedHeader {
  ScryptParams params;
  size_t salt_at = 0;
  size_t nonce_at = 0;
  size_t aad_size = 0;  // magic through public_key: the GCM associated data
  KeyFileInfo info;
};

Result<ParsedHeader> ParseHeader(const std::vector<uint8_t>& file) {
  if (file.size() < kFixedHeaderSize || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) {
    return Malformed("not a BAS key file");
  }
  ParsedHeader header;
  size_t at = sizeof kMagic;
  const uint8_t version = file[at++];
  if (version != kVersion) {
    return Malformed("unsupported key file version " + std::to_string(version));
  }
  const uint8_t log2_n = file[at++];
  header.params.r = file[at++];
  header.params.p = file[at++];
  if (log2_n < kMinLog2N || log2_n > kMaxLog2N) {
    return Malformed("scrypt log2(N) " + std::to_string(log2_n) + " outside 10..20");
  }
  header.params.n = uint64_t{1} << log2_n;
  if (std::string problem = ScryptParamsProblem(header.params.n, header.params.r, header.params.p);
      !problem.empty()) {
    return Malformed(problem);
  }
  header.salt_at = at;
  header.nonce_at = header.salt_at + kSaltSize;
  at = header.nonce_at + kNonceSize;
  const size_t name_size = size_t{file[at]} << 8 | file[at + 1];
  at += 2;
  if (name_size > kMaxNameSize) return Malformed("key name longer than 1024 bytes");
  if (file.size() != kSizeWithoutName + name_size) {
    return Malformed("key file has " + std::to_string(file.size()) + " bytes, expected " +
                     std::to_string(kSizeWithoutName + name_size));
  }
  header.info.name.assign(reinterpret_cast<const char*>(file.data() + at), name_size);
  at += name_size;
  std::memcpy(header.info.public_key.data(), file.data() + at, header.info.public_key.size());
  at += header.info.public_key.size();
  header.aad_size = at;
  return header;
}

}  // namespace

Status WriteKeyFile(const std::filesystem::path& path, const KeyFile& key,
                    std::string_view passphrase, const ScryptParams& params) {
  if (std::string problem = ScryptParamsProblem(params.n, params.r, params.p); !problem.empty()) {
    return Error{"INVALID_ARGUMENT", problem};
  }
  if (key.name.size() > kMaxNameSize) {
    return Error{"INVALID_ARGUMENT", "key name longer than 1024 bytes"};
  }
  Result<KeyPair> pair = KeyPair::FromSecret(key.secret_key);
  if (!pair.ok() || pair->public_key() != key.public_key) {
    return Error{"INVALID_ARGUMENT", "public key does not belong to the secret key"};
  }

  std::vector<uint8_t> file;
  file.reserve(kSizeWithoutName + key.name.size());
  file.insert(file.end(), std::begin(kMagic), std::end(kMagic));
  file.push_back(kVersion);
  file.push_back(static_cast<uint8_t>(Log2(params.n)));
  file.push_back(static_cast<uint8_t>(params.r));
  file.push_back(static_cast<uint8_t>(params.p));
  const size_t salt_at = file.size();
  file.resize(file.size() + kSaltSize + kNonceSize);
  if (Status s = RandomBytes(std::span(file).subspan(salt_at, kSaltSize + kNonceSize)); !s.ok()) {
    return s;
  }
  const size_t nonce_at = salt_at + kSaltSize;
  file.push_back(static_cast<uint8_t>(key.name.size() >> 8));
  file.push_back(static_cast<uint8_t>(key.name.size()));
  file.insert(file.end(), key.name.begin(), key.name.end());
  file.insert(file.end(), key.public_key.begin(), key.public_key.end());
  const size_t aad_size = file.size();
  file.resize(aad_size + sizeof(SecretKey) + kTagSize);

  AesKey aes_key;
  Cleansed wipe_key{aes_key.data(), aes_key.size()};
  if (Status s = DeriveKey(passphrase, file.data() + salt_at, params, aes_key); !s.ok()) return s;
  if (Status s =
          Seal(aes_key, file.data() + nonce_at, ByteSpan(file.data(), aad_size), key.secret_key,
               file.data() + aad_size, file.data() + aad_size + sizeof(SecretKey));
      !s.ok()) {
    return s;
  }
  return WriteFileAtomically(path, file);
}

Result<KeyFile> ReadKeyFile(const std::filesystem::path& path, std::string_view passphrase) {
  Result<std::vector<uint8_t>> read = ReadBounded(path, kMaxFileSize);
  if (!read.ok()) return read.error();
  const std::vector<uint8_t>& file = *read;
  Result<ParsedHeader> header = ParseHeader(file);
  if (!header.ok()) return header.error();
  const size_t salt_at = header->salt_at;
  const size_t nonce_at = header->nonce_at;
  const size_t aad_size = header->aad_size;
  const ScryptParams params = header->params;

  KeyFile key;
  key.name = std::move(header->info.name);
  key.public_key = header->info.public_key;

  AesKey aes_key;
  Cleansed wipe_key{aes_key.data(), aes_key.size()};
  if (Status s = DeriveKey(passphrase, file.data() + salt_at, params, aes_key); !s.ok()) {
    return s.error();
  }
  if (Status s =
          Open(aes_key, file.data() + nonce_at, ByteSpan(file.data(), aad_size),
               file.data() + aad_size, file.data() + aad_size + sizeof(SecretKey), key.secret_key);
      !s.ok()) {
    return s.error();
  }
  Result<KeyPair> pair = KeyPair::FromSecret(key.secret_key);
  if (!pair.ok() || pair->public_key() != key.public_key) {
    OPENSSL_cleanse(key.secret_key.data(), key.secret_key.size());
    return Error{"KEY_MISMATCH", "the decrypted secret key does not match the stored public key"};
  }
  return key;
}

Result<KeyFileInfo> ReadKeyFileInfo(const std::filesystem::path& path) {
  Result<std::vector<uint8_t>> read = ReadBounded(path, kMaxFileSize);
  if (!read.ok()) return read.error();
  Result<ParsedHeader> header = ParseHeader(*read);
  if (!header.ok()) return header.error();
  return std::move(header->info);
}

}  // namespace bas::crypto
