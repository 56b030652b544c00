// Error values shared by every BAS Ledger module: Status (success or an Error) and Result<T>
// (a T or an Error). Errors carry a stable, machine-readable code ("BAD_PASSPHRASE") and a
// human message. Modules with a closed set of codes (governance) keep their own enum and map it
// to these at their boundary; a module whose callers must tell its failures apart by a typed
// reason (node/chain's BlockError) uses BasicStatus<E> and Result<T, E> with its own error type.
// Cheap to move; not thread-safe to share a mutable instance.
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

// Success or an error of type E.
template <typename E = Error>
class [[nodiscard]] BasicStatus {
 public:
  BasicStatus() = default;                            // OK
  BasicStatus(E error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static BasicStatus Ok() { return BasicStatus(); }

  bool ok() const { return !error_.has_value(); }
  // Precondition: !ok().
  const E& error() const {
    assert(error_);
    return *error_;
  }
  const std::string& code() const { return error().code; }
  const std::string& message() const { return error().message; }

 private:
  std::optional<E> error_;
};

using Status = BasicStatus<>;

// A T or an error of type E.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

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
  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  BasicStatus<E> status() const { return ok() ? BasicStatus<E>() : BasicStatus<E>(error()); }

 private:
  std::variant<T, E> v_;
};

}  // namespace bas
