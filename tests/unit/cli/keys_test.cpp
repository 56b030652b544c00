// The keystore as `bas` uses it: key names, listing without the passphrase (ReadKeyFileInfo),
// the passphrase sources, and loading a key.
#include "cli/keys.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bas::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr crypto::ScryptParams kFast{1 << 10, 1, 1};

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bas-keys-test-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    options_.keystore_dir = dir_.string();
    unsetenv("BAS_PASSPHRASE");
  }
  void TearDown() override {
    fs::remove_all(dir_);
    unsetenv("BAS_PASSPHRASE");
  }

  crypto::KeyPair WriteKey(const std::string& name, const std::string& passphrase) {
    crypto::KeyPair key = *crypto::KeyPair::Generate();
    EXPECT_TRUE(crypto::WriteKeyFile(KeyFilePath(dir_.string(), name),
                                     {name, key.public_key(), key.secret_key()}, passphrase, kFast)
                    .ok());
    return key;
  }

  fs::path dir_;
  ClientOptions options_;
};

TEST(KeyNameTest, SafeFileNamesOnly) {
  for (const char* good : {"gov-1", "applicant-1", "a", "A.b_c-9"}) {
    EXPECT_TRUE(ValidateKeyName(good).ok()) << good;
  }
  for (const char* bad : {"", ".hidden", "../gov-1", "a/b", "a b", "ü"}) {
    Status s = ValidateKeyName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), kUsageError);
    }
  }
  EXPECT_FALSE(ValidateKeyName(std::string(65, 'a')).ok());
}

TEST_F(KeystoreTest, ListsNamesAndPublicKeysWithoutThePassphrase) {
  const crypto::KeyPair b = WriteKey("b-key", "secret");
  const crypto::KeyPair a = WriteKey("a-key", "other");
  std::ofstream(dir_ / "notes.txt") << "not a key";
  std::ofstream(dir_ / "broken.key") << "BASKEY but short";

  Result<crypto::KeyFileInfo> info = crypto::ReadKeyFileInfo(KeyFilePath(dir_.string(), "b-key"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->name, "b-key");
  EXPECT_EQ(info->public_key, b.public_key());

  Result<std::vector<KeyListing>> keys = ListKeys(dir_.string());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].name, "a-key");
  EXPECT_EQ((*keys)[0].info->public_key, a.public_key());
  EXPECT_EQ((*keys)[1].name, "b-key");
  EXPECT_EQ((*keys)[2].name, "broken");
  EXPECT_FALSE((*keys)[2].info.has_value());
  EXPECT_THAT((*keys)[2].problem, HasSubstr("not a BAS key file"));

  EXPECT_TRUE(ListKeys((dir_ / "none").string())->empty());
}

TEST_F(KeystoreTest, ReadKeyFileInfoChecksTheHeader) {
  WriteKey("k", "p");
  const fs::path path = KeyFilePath(dir_.string(), "k");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[6] = 2;  // version
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  Result<crypto::KeyFileInfo> info = crypto::ReadKeyFileInfo(path);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, "MALFORMED_KEYFILE");
  EXPECT_EQ(crypto::ReadKeyFileInfo(dir_ / "missing.key").error().code, "IO_ERROR");
}

TEST_F(KeystoreTest, PassphraseFromFileThenEnvironment) {
  std::ofstream(dir_ / "pass") << "from file\r\nsecond line";
  options_.passphrase_file = (dir_ / "pass").string();
  setenv("BAS_PASSPHRASE", "from env", 1);
  EXPECT_EQ(*ObtainPassphrase(options_, "p", false), "from file");

  options_.passphrase_file.clear();
  EXPECT_EQ(*ObtainPassphrase(options_, "p", true), "from env");
  setenv("BAS_PASSPHRASE", "", 1);  // set but empty is a passphrase too
  EXPECT_EQ(*ObtainPassphrase(options_, "p", false), "");

  options_.passphrase_file = (dir_ / "missing").string();
  EXPECT_EQ(ObtainPassphrase(options_, "p", false).error().code, "IO_ERROR");
}

TEST_F(KeystoreTest, LoadKeyDecryptsWithThePassphrase) {
  const crypto::KeyPair key = WriteKey("gov-1", "right");
  setenv("BAS_PASSPHRASE", "right", 1);
  Result<crypto::KeyPair> loaded = LoadKey(options_, "gov-1");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->public_key(), key.public_key());

  setenv("BAS_PASSPHRASE", "wrong", 1);
  Result<crypto::KeyPair> wrong = LoadKey(options_, "gov-1");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "BAD_PASSPHRASE");
  EXPECT_EQ(ExitStatusOf(wrong.error()), kExitUsage);

  EXPECT_EQ(LoadKey(options_, "nobody").error().code, client::kNotFound);
  EXPECT_EQ(LoadKey(options_, "").error().code, kUsageError);
  EXPECT_EQ(LoadKey(options_, "../gov-1").error().code, kUsageError);
}

}  // namespace
}  // namespace bas::cli
