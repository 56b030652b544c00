// Error values shared by every BAS Ledger module: Status (success or an Error) and Result<T>
// (a T or an Error). Errors carry a stable, machine-readable code ("BAD_PASSPHRASE") and a
// human message. Modules with a closed set of codes (governance) keep their own enum and map it
// to these at their boundary. Cheap to move; not thread-safe to share a mutable instance.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace bas {

struct Error {
  std::string code;     // stable, UPPER_SNAKE_CASE; part of the interface
  std::string message;  // for people; may change
};

class [[nodiscard]] Status {
 public:
  Status() = default;                                // OK
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  // Precondition: !ok().
  const Error& error() const {
    assert(error_);
    return *error_;
  }
  const std::string& code() const { return error().code; }
  const std::string& message() const { return error().message; }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  // Precondition: ok().
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // Precondition: !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace bas
