#include "cli/keys.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include "crypto/encoding.h"

namespace bas::cli {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxKeyNameSize = 64;

Error UsageError(const std::string& message) { return Error{std::string(kUsageError), message}; }

// Strips one trailing "\n" or "\r\n".
void StripNewline(std::string* line) {
  if (!line->empty() && line->back() == '\n') line->pop_back();
  if (!line->empty() && line->back() == '\r') line->pop_back();
}

// Reads one line from the terminal with echo off, restoring the terminal afterwards.
Result<std::string> PromptWithoutEcho(std::string_view prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return UsageError(
        "no passphrase: use --passphrase-file FILE or set BAS_PASSPHRASE (no terminal to ask "
        "on)");
  }
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  const std::string text = std::string(prompt) + ": ";
  [[maybe_unused]] ssize_t ignored = ::write(fd, text.data(), text.size());
  std::string line;
  char c = 0;
  ssize_t n = 0;
  while ((n = ::read(fd, &c, 1)) == 1 && c != '\n') line += c;
  const int read_errno = errno;
  if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &saved);
  ::close(fd);
  if (n < 0) {
    OPENSSL_cleanse(line.data(), line.size());
    return Error{"IO_ERROR",
                 std::string("cannot read the passphrase: ") + std::strerror(read_errno)};
  }
  StripNewline(&line);
  return line;
}

nlohmann::ordered_json KeyJson(const std::string& name, const crypto::KeyFileInfo& info) {
  nlohmann::ordered_json out;
  out["name"] = name;
  out["stored_name"] = info.name;
  out["public_key"] = crypto::HexEncode(info.public_key);
  return out;
}

// Writes a new key file; refuses to replace one (a key is an identity on the chain: losing it
// loses the membership).
Status WriteNewKey(const ClientOptions& options, const std::string& name,
                   const crypto::KeyPair& key) {
  if (Status s = ValidateKeyName(name); !s.ok()) return s;
  const fs::path path = KeyFilePath(options.keystore_dir, name);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    return UsageError("key " + name + " exists already (" + path.string() +
                      "); it is never overwritten");
  }
  if (!fs::exists(options.keystore_dir, ec)) {
    fs::create_directories(options.keystore_dir, ec);
    if (ec) {
      return Error{"IO_ERROR", "cannot create " + options.keystore_dir + ": " + ec.message()};
    }
    // A new keystore is the owner's only; an existing one keeps the mode its owner chose.
    fs::permissions(options.keystore_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  Result<std::string> passphrase = ObtainPassphrase(options, "Passphrase for " + name, true);
  if (!passphrase.ok()) return passphrase.error();
  crypto::KeyFile file{name, key.public_key(), key.secret_key()};
  Status written = crypto::WriteKeyFile(path, file, *passphrase);
  OPENSSL_cleanse(file.secret_key.data(), file.secret_key.size());
  OPENSSL_cleanse(passphrase->data(), passphrase->size());
  return written;
}

int PrintNewKey(const ClientOptions& options, const std::string& name, const crypto::KeyPair& key) {
  if (options.json) {
    std::cout << PrettyJson(KeyJson(name, crypto::KeyFileInfo{name, key.public_key()})) << "\n";
  } else {
    std::cout << "key " << name << "\npublic key " << crypto::HexEncode(key.public_key())
              << "\nfile " << KeyFilePath(options.keystore_dir, name).string() << "\n";
  }
  return kExitOk;
}

Result<crypto::KeyFileInfo> ReadInfo(const ClientOptions& options, const std::string& name) {
  if (Status s = ValidateKeyName(name); !s.ok()) return s.error();
  const fs::path path = KeyFilePath(options.keystore_dir, name);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error{std::string(client::kNotFound), "no key " + name + " in " + options.keystore_dir};
  }
  return crypto::ReadKeyFileInfo(path);
}

}  // namespace

Status ValidateKeyName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= kMaxKeyNameSize && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                  });
  if (!ok) {
    return UsageError("bad key name \"" + std::string(name) +
                      "\": 1 to 64 of A-Z a-z 0-9 . _ -, not starting with .");
  }
  return Status::Ok();
}

fs::path KeyFilePath(const std::string& dir, std::string_view name) {
  return fs::path(dir) / (std::string(name) + ".key");
}

Result<std::string> ObtainPassphrase(const ClientOptions& options, std::string_view prompt,
                                     bool confirm) {
  if (!options.passphrase_file.empty()) {
    std::ifstream in(options.passphrase_file, std::ios::binary);
    if (!in) {
      return Error{"IO_ERROR",
                   "cannot read " + options.passphrase_file + ": " + std::strerror(errno)};
    }
    std::string line;
    std::getline(in, line);
    if (in.bad()) return Error{"IO_ERROR", "cannot read " + options.passphrase_file};
    StripNewline(&line);
    return line;
  }
  if (const char* env = std::getenv("BAS_PASSPHRASE"); env != nullptr) return std::string(env);
  Result<std::string> first = PromptWithoutEcho(prompt);
  if (!first.ok() || !confirm) return first;
  Result<std::string> second = PromptWithoutEcho("Repeat the passphrase");
  if (!second.ok()) return second;
  const bool same = *first == *second;
  OPENSSL_cleanse(second->data(), second->size());
  if (!same) {
    OPENSSL_cleanse(first->data(), first->size());
    return UsageError("the two passphrases differ");
  }
  return first;
}

Result<crypto::KeyPair> LoadKey(const ClientOptions& options, std::string_view name) {
  if (name.empty()) return UsageError("no key: give --key NAME (see bas keys list)");
  if (Status s = ValidateKeyName(name); !s.ok()) return s.error();
  const fs::path path = KeyFilePath(options.keystore_dir, name);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error{std::string(client::kNotFound),
                 "no key " + std::string(name) + " in " + options.keystore_dir};
  }
  Result<std::string> passphrase =
      ObtainPassphrase(options, "Passphrase for " + std::string(name), false);
  if (!passphrase.ok()) return passphrase.error();
  Result<crypto::KeyFile> file = crypto::ReadKeyFile(path, *passphrase);
  OPENSSL_cleanse(passphrase->data(), passphrase->size());
  if (!file.ok()) {
    return Error{file.error().code, path.string() + ": " + file.error().message};
  }
  Result<crypto::KeyPair> key = crypto::KeyPair::FromSecret(file->secret_key);
  OPENSSL_cleanse(file->secret_key.data(), file->secret_key.size());
  return key;
}

Result<std::vector<KeyListing>> ListKeys(const std::string& dir) {
  std::vector<KeyListing> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  fs::directory_iterator it(dir, ec);
  if (ec) return Error{"IO_ERROR", "cannot list " + dir + ": " + ec.message()};
  for (const fs::directory_entry& entry : it) {
    const fs::path& path = entry.path();
    if (path.extension() != ".key" || !entry.is_regular_file(ec)) continue;
    KeyListing listing;
    listing.name = path.stem().string();
    if (!ValidateKeyName(listing.name).ok()) continue;  // a temporary file or a stranger's
    Result<crypto::KeyFileInfo> info = crypto::ReadKeyFileInfo(path);
    if (info.ok()) {
      listing.info = std::move(*info);
    } else {
      listing.problem = info.error().message;
    }
    out.push_back(std::move(listing));
  }
  std::sort(out.begin(), out.end(),
            [](const KeyListing& a, const KeyListing& b) { return a.name < b.name; });
  return out;
}

int RunKeysNew(const ClientOptions& options, const std::string& name) {
  if (Status s = ValidateKeyName(name); !s.ok()) return ReportError(s.error());
  Result<crypto::KeyPair> key = crypto::KeyPair::Generate();
  if (!key.ok()) return ReportError(key.error());
  if (Status s = WriteNewKey(options, name, *key); !s.ok()) return ReportError(s.error());
  return PrintNewKey(options, name, *key);
}

int RunKeysList(const ClientOptions& options) {
  Result<std::vector<KeyListing>> keys = ListKeys(options.keystore_dir);
  if (!keys.ok()) return ReportError(keys.error());
  if (options.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const KeyListing& key : *keys) {
      if (key.info) {
        out.push_back(KeyJson(key.name, *key.info));
      } else {
        out.push_back({{"name", key.name}, {"problem", key.problem}});
      }
    }
    std::cout << PrettyJson(nlohmann::ordered_json{{"keys", out}}) << "\n";
    return kExitOk;
  }
  if (keys->empty()) {
    std::cout << "no keys in " << options.keystore_dir << " (create one: bas keys new NAME)\n";
    return kExitOk;
  }
  size_t width = 4;
  for (const KeyListing& key : *keys) width = std::max(width, key.name.size());
  for (const KeyListing& key : *keys) {
    std::cout << key.name << std::string(width - key.name.size() + 2, ' ');
    if (key.info) {
      std::cout << crypto::HexEncode(key.info->public_key);
      if (key.info->name != key.name) std::cout << "  (stored name \"" << key.info->name << "\")";
    } else {
      std::cout << "unreadable: " << key.problem;
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int RunKeysShow(const ClientOptions& options, const std::string& name) {
  Result<crypto::KeyFileInfo> info = ReadInfo(options, name);
  if (!info.ok()) return ReportError(info.error());
  if (options.json) {
    nlohmann::ordered_json out = KeyJson(name, *info);
    out["file"] = KeyFilePath(options.keystore_dir, name).string();
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  std::cout << "key " << name << "\npublic key " << crypto::HexEncode(info->public_key)
            << "\nstored name " << info->name << "\nfile "
            << KeyFilePath(options.keystore_dir, name).string()
            << "\n(read without the passphrase: unauthenticated until the key is used)\n";
  return kExitOk;
}

int RunKeysImport(const ClientOptions& options, const std::string& name, std::string secret_hex) {
  if (Status s = ValidateKeyName(name); !s.ok()) return ReportError(s.error());
  if (secret_hex.empty()) {
    std::getline(std::cin, secret_hex);
    StripNewline(&secret_hex);
  }
  Result<std::array<uint8_t, 32>> secret = crypto::HexDecodeFixed<32>(secret_hex);
  OPENSSL_cleanse(secret_hex.data(), secret_hex.size());
  if (!secret.ok()) {
    return ReportError(UsageError("the secret key must be 64 hex digits"));
  }
  Result<crypto::KeyPair> key = crypto::KeyPair::FromSecret(*secret);
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!key.ok()) return ReportError(UsageError("not a valid secret key: " + key.error().message));
  if (Status s = WriteNewKey(options, name, *key); !s.ok()) return ReportError(s.error());
  return PrintNewKey(options, name, *key);
}

int RunKeysExport(const ClientOptions& options, const std::string& name, bool secret) {
  if (!secret) {
    Result<crypto::KeyFileInfo> info = ReadInfo(options, name);
    if (!info.ok()) return ReportError(info.error());
    if (options.json) {
      std::cout << PrettyJson(KeyJson(name, *info)) << "\n";
    } else {
      std::cout << crypto::HexEncode(info->public_key) << "\n";
    }
    return kExitOk;
  }
  Result<crypto::KeyPair> key = LoadKey(options, name);
  if (!key.ok()) return ReportError(key.error());
  std::string hex = crypto::HexEncode(key->secret_key());
  if (options.json) {
    nlohmann::ordered_json out = KeyJson(name, crypto::KeyFileInfo{name, key->public_key()});
    out["secret_key"] = hex;
    std::cout << PrettyJson(out) << "\n";
  } else {
    std::cout << hex << "\n";
  }
  OPENSSL_cleanse(hex.data(), hex.size());
  std::cerr << "bas: this is the secret key of " << name
            << ": anyone who has it can sign as this member\n";
  return kExitOk;
}

}  // namespace bas::cli
