#include "crypto/keystore.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

namespace bas::crypto {
namespace {

namespace fs = std::filesystem;

// N = 2^10 keeps each scrypt run around a millisecond.
constexpr ScryptParams kFastParams{1 << 10, 8, 1};

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "bas-keystore-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static KeyFile NewKeyFile(const std::string& name) {
    Result<KeyPair> pair = KeyPair::Generate();
    EXPECT_TRUE(pair.ok());
    return KeyFile{name, pair->public_key(), pair->secret_key()};
  }

  static std::vector<uint8_t> ReadBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void WriteBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }

  std::set<std::string> DirEntries() const {
    std::set<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
};

TEST_F(KeystoreTest, RoundTrip) {
  const KeyFile key = NewKeyFile("alice");
  const fs::path path = dir_ / "alice.key";
  ASSERT_TRUE(WriteKeyFile(path, key, "correct horse", kFastParams).ok());
  Result<KeyFile> back = ReadKeyFile(path, "correct horse");
  ASSERT_TRUE(back.ok()) << back.error().code << ": " << back.error().message;
  EXPECT_EQ(back->name, "alice");
  EXPECT_EQ(back->public_key, key.public_key);
  EXPECT_EQ(back->secret_key, key.secret_key);
  EXPECT_EQ(DirEntries(), std::set<std::string>{"alice.key"});  // no temp file left
  EXPECT_EQ(fs::file_size(path), 136u + 5u);                    // docs/keystore.md
}

TEST_F(KeystoreTest, RoundTripWithDefaultParametersEmptyPassphraseAndLongName) {
  const KeyFile key = NewKeyFile(std::string(1024, 'n'));
  const fs::path path = dir_ / "k";
  ASSERT_TRUE(WriteKeyFile(path, key, "").ok());
  Result<KeyFile> back = ReadKeyFile(path, "");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->name, key.name);
  EXPECT_EQ(back->secret_key, key.secret_key);
}

TEST_F(KeystoreTest, WrongPassphrase) {
  const fs::path path = dir_ / "k";
  ASSERT_TRUE(WriteKeyFile(path, NewKeyFile("k"), "right", kFastParams).ok());
  for (std::string_view wrong : {"wrong", "", "right ", "Right", "righ"}) {
    Result<KeyFile> r = ReadKeyFile(path, wrong);
    ASSERT_FALSE(r.ok()) << wrong;
    EXPECT_EQ(r.error().code, "BAD_PASSPHRASE");
  }
}

TEST_F(KeystoreTest, FileModeIs0600EvenWithAPermissiveUmask) {
  const mode_t old_umask = ::umask(0);
  const fs::path path = dir_ / "k";
  const Status s = WriteKeyFile(path, NewKeyFile("k"), "pw", kFastParams);
  ::umask(old_umask);
  ASSERT_TRUE(s.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(KeystoreTest, ReplacesAnExistingFile) {
  const fs::path path = dir_ / "k";
  ASSERT_TRUE(WriteKeyFile(path, NewKeyFile("first"), "pw", kFastParams).ok());
  const KeyFile second = NewKeyFile("second");
  ASSERT_TRUE(WriteKeyFile(path, second, "pw2", kFastParams).ok());
  Result<KeyFile> back = ReadKeyFile(path, "pw2");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "second");
  EXPECT_EQ(back->secret_key, second.secret_key);
  EXPECT_EQ(DirEntries(), std::set<std::string>{"k"});
}

// Every byte of the file is either checked structurally or authenticated by GCM, so any
// change must fail as MALFORMED_KEYFILE or BAD_PASSPHRASE, never yield a key.
TEST_F(KeystoreTest, EveryFlippedByteIsDetected) {
  const fs::path path = dir_ / "k";
  ASSERT_TRUE(WriteKeyFile(path, NewKeyFile("flip"), "pw", kFastParams).ok());
  const std::vector<uint8_t> original = ReadBytes(path);
  const fs::path tampered = dir_ / "tampered";
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = original;
      bytes[i] ^= mask;
      WriteBytes(tampered, bytes);
      Result<KeyFile> r = ReadKeyFile(tampered, "pw");
      ASSERT_FALSE(r.ok()) << "byte " << i << " mask " << int{mask};
      EXPECT_TRUE(r.error().code == "BAD_PASSPHRASE" || r.error().code == "MALFORMED_KEYFILE")
          << "byte " << i << ": " << r.error().code;
    }
  }
}

TEST_F(KeystoreTest, TruncatedOrExtendedFileIsMalformed) {
  const fs::path path = dir_ / "k";
  ASSERT_TRUE(WriteKeyFile(path, NewKeyFile("trunc"), "pw", kFastParams).ok());
  const std::vector<uint8_t> original = ReadBytes(path);
  const fs::path damaged = dir_ / "damaged";
  for (size_t len = 0; len < original.size(); ++len) {
    WriteBytes(damaged, std::vector<uint8_t>(original.begin(), original.begin() + len));
    Result<KeyFile> r = ReadKeyFile(damaged, "pw");
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.error().code, "MALFORMED_KEYFILE") << len;
  }
  std::vector<uint8_t> longer = original;
  longer.push_back(0);
  WriteBytes(damaged, longer);
  Result<KeyFile> r = ReadKeyFile(damaged, "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MALFORMED_KEYFILE");
}

TEST_F(KeystoreTest, RejectsNonKeyFiles) {
  const fs::path path = dir_ / "junk";
  for (const std::vector<uint8_t>& junk :
       {std::vector<uint8_t>{}, std::vector<uint8_t>(200, 0), std::vector<uint8_t>(100000, 'B'),
        std::vector<uint8_t>{'{', '}'}}) {
    WriteBytes(path, junk);
    Result<KeyFile> r = ReadKeyFile(path, "pw");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "MALFORMED_KEYFILE");
  }
}

TEST_F(KeystoreTest, IoErrors) {
  Result<KeyFile> missing = ReadKeyFile(dir_ / "missing", "pw");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "IO_ERROR");
  Result<KeyFile> directory = ReadKeyFile(dir_, "pw");
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, "IO_ERROR");

  const KeyFile key = NewKeyFile("k");
  Status no_dir = WriteKeyFile(dir_ / "no" / "such" / "k", key, "pw", kFastParams);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.code(), "IO_ERROR");

  // The rename fails when the destination is a non-empty directory; the temp file must go.
  fs::create_directory(dir_ / "occupied");
  fs::create_directory(dir_ / "occupied" / "x");
  Status occupied = WriteKeyFile(dir_ / "occupied", key, "pw", kFastParams);
  ASSERT_FALSE(occupied.ok());
  EXPECT_EQ(occupied.code(), "IO_ERROR");
  EXPECT_EQ(DirEntries(), std::set<std::string>{"occupied"});
}

TEST_F(KeystoreTest, RejectsBadWriteArguments) {
  const KeyFile key = NewKeyFile("k");
  const ScryptParams bad_params[] = {
      {1000, 8, 1},     // not a power of two
      {1 << 9, 8, 1},   // below 2^10
      {1 << 21, 1, 1},  // above 2^20
      {1 << 10, 0, 1}, {1 << 10, 17, 1}, {1 << 10, 8, 0},
      {1 << 10, 8, 5}, {1 << 20, 8, 1},  // 1 GiB of scrypt memory
  };
  for (const ScryptParams& params : bad_params) {
    Status s = WriteKeyFile(dir_ / "k", key, "pw", params);
    ASSERT_FALSE(s.ok()) << params.n << " " << params.r << " " << params.p;
    EXPECT_EQ(s.code(), "INVALID_ARGUMENT");
  }
  KeyFile mismatched = key;
  mismatched.public_key = NewKeyFile("other").public_key;
  EXPECT_EQ(WriteKeyFile(dir_ / "k", mismatched, "pw", kFastParams).code(), "INVALID_ARGUMENT");
  KeyFile long_name = key;
  long_name.name = std::string(1025, 'x');
  EXPECT_EQ(WriteKeyFile(dir_ / "k", long_name, "pw", kFastParams).code(), "INVALID_ARGUMENT");
  EXPECT_TRUE(DirEntries().empty());
}

// An independent implementation of docs/keystore.md with OpenSSL: it must decrypt what
// WriteKeyFile wrote, and ReadKeyFile must accept what it builds.
class DocumentedFormat {
 public:
  static std::vector<uint8_t> Build(const std::string& name, const PublicKey& public_key,
                                    const SecretKey& secret, std::string_view passphrase) {
    std::vector<uint8_t> f = {'B', 'A', 'S', 'K', 'E', 'Y', 1, 10, 8, 1};
    for (int i = 0; i < 32; ++i) f.push_back(static_cast<uint8_t>(i));        // salt
    for (int i = 0; i < 12; ++i) f.push_back(static_cast<uint8_t>(100 + i));  // nonce
    f.push_back(static_cast<uint8_t>(name.size() >> 8));
    f.push_back(static_cast<uint8_t>(name.size()));
    f.insert(f.end(), name.begin(), name.end());
    f.insert(f.end(), public_key.begin(), public_key.end());
    const size_t aad_size = f.size();
    uint8_t key[32];
    EXPECT_EQ(EVP_PBE_scrypt(passphrase.data(), passphrase.size(), f.data() + 10, 32, 1024, 8, 1, 0,
                             key, sizeof key),
              1);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    f.resize(aad_size + 32 + 16);
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, f.data() + 42), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &len, f.data(), static_cast<int>(aad_size)), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, f.data() + aad_size, &len, secret.data(), 32), 1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx, f.data() + aad_size + len, &len), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, f.data() + aad_size + 32), 1);
    EVP_CIPHER_CTX_free(ctx);
    return f;
  }

  static SecretKey Decrypt(const std::vector<uint8_t>& f, std::string_view passphrase) {
    const size_t name_len = size_t{f[54]} << 8 | f[55];
    const size_t aad_size = 56 + name_len + 32;
    EXPECT_EQ(f.size(), aad_size + 32 + 16);
    const uint64_t n = uint64_t{1} << f[7];
    uint8_t key[32];
    EXPECT_EQ(EVP_PBE_scrypt(passphrase.data(), passphrase.size(), f.data() + 10, 32, n, f[8], f[9],
                             64 << 20, key, sizeof key),
              1);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    SecretKey secret{};
    int len = 0;
    std::vector<uint8_t> tag(f.begin() + aad_size + 32, f.end());
    EXPECT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, f.data() + 42), 1);
    EXPECT_EQ(EVP_DecryptUpdate(ctx, nullptr, &len, f.data(), static_cast<int>(aad_size)), 1);
    EXPECT_EQ(EVP_DecryptUpdate(ctx, secret.data(), &len, f.data() + aad_size, 32), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag.data()), 1);
    EXPECT_EQ(EVP_DecryptFinal_ex(ctx, secret.data() + len, &len), 1);
    EVP_CIPHER_CTX_free(ctx);
    return secret;
  }
};

TEST_F(KeystoreTest, MatchesTheDocumentedFormat) {
  const KeyFile key = NewKeyFile("bob");
  const fs::path written = dir_ / "written";
  ASSERT_TRUE(WriteKeyFile(written, key, "pw", kFastParams).ok());
  const std::vector<uint8_t> bytes = ReadBytes(written);
  ASSERT_EQ(bytes.size(), 139u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 6), "BASKEY");
  EXPECT_EQ(bytes[6], 1);   // version
  EXPECT_EQ(bytes[7], 10);  // log2 N
  EXPECT_EQ(bytes[8], 8);   // r
  EXPECT_EQ(bytes[9], 1);   // p
  EXPECT_EQ(std::string(bytes.begin() + 56, bytes.begin() + 59), "bob");
  EXPECT_TRUE(std::equal(key.public_key.begin(), key.public_key.end(), bytes.begin() + 59));
  EXPECT_EQ(DocumentedFormat::Decrypt(bytes, "pw"), key.secret_key);

  const fs::path built = dir_ / "built";
  WriteBytes(built, DocumentedFormat::Build("carol", key.public_key, key.secret_key, "pw"));
  Result<KeyFile> back = ReadKeyFile(built, "pw");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->name, "carol");
  EXPECT_EQ(back->secret_key, key.secret_key);
}

TEST_F(KeystoreTest, AuthenticSecretWithTheWrongPublicKeyIsKeyMismatch) {
  const KeyFile key = NewKeyFile("k");
  const KeyFile other = NewKeyFile("other");
  const fs::path path = dir_ / "k";
  WriteBytes(path, DocumentedFormat::Build("k", other.public_key, key.secret_key, "pw"));
  Result<KeyFile> r = ReadKeyFile(path, "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KEY_MISMATCH");

  WriteBytes(path, DocumentedFormat::Build("k", key.public_key, SecretKey{}, "pw"));
  r = ReadKeyFile(path, "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "KEY_MISMATCH");  // zero is not a valid secret key
}

TEST_F(KeystoreTest, OutOfBoundsScryptParametersAreRejectedBeforeDerivation) {
  const fs::path path = dir_ / "k";
  const KeyFile key = NewKeyFile("k");
  struct Field {
    size_t offset;
    uint8_t value;
  };
  // log2 N 21 and 9, r 17 and 0, p 5 and 0, and N = 2^20 with r = 8 (1 GiB).
  for (Field f : {Field{7, 21}, Field{7, 9}, Field{8, 17}, Field{8, 0}, Field{9, 5}, Field{9, 0},
                  Field{7, 20}}) {
    std::vector<uint8_t> bytes = DocumentedFormat::Build("k", key.public_key, key.secret_key, "pw");
    bytes[f.offset] = f.value;
    WriteBytes(path, bytes);
    Result<KeyFile> r = ReadKeyFile(path, "pw");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "MALFORMED_KEYFILE") << f.offset << "=" << int{f.value};
  }
}

}  // namespace
}  // namespace bas::crypto
