// Status and Result<T>: errors as values. A Status carries a code that says
// whether retrying can help, and a message that names the object at fault.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace litekeep::base {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // bad input from the user (flag, config, URL)
  kNotFound,           // file, object or database does not exist
  kAlreadyExists,      // target exists and we must not overwrite it
  kCorrupt,            // data failed a format rule or checksum
  kIoError,            // local I/O failed (disk full, EIO)
  kUnavailable,        // transient: network, 5xx, throttling; retry may help
  kPermissionDenied,   // credentials or file permissions
  kFailedPrecondition, // state does not allow the operation
  kCancelled,          // stopped by a signal or a caller
  kUnimplemented,      // feature not built
  kInternal,           // a bug
};

// Returns a short lower-case name for code ("not found", "corrupt", ...).
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same call may succeed later (network, throttling).
  bool retryable() const { return code_ == Code::kUnavailable; }

  // Returns a copy whose message is "context: message", same code.
  Status WithContext(std::string_view context) const;

  // "message" for printing to users.
  std::string ToString() const { return ok() ? "ok" : message_; }

  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return Status(Code::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) {
  return Status(Code::kNotFound, std::move(m));
}
inline Status AlreadyExistsError(std::string m) {
  return Status(Code::kAlreadyExists, std::move(m));
}
inline Status CorruptError(std::string m) {
  return Status(Code::kCorrupt, std::move(m));
}
inline Status IoError(std::string m) {
  return Status(Code::kIoError, std::move(m));
}
inline Status UnavailableError(std::string m) {
  return Status(Code::kUnavailable, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(Code::kPermissionDenied, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(Code::kFailedPrecondition, std::move(m));
}
inline Status CancelledError(std::string m) {
  return Status(Code::kCancelled, std::move(m));
}
inline Status UnimplementedError(std::string m) {
  return Status(Code::kUnimplemented, std::move(m));
}
inline Status InternalError(std::string m) {
  return Status(Code::kInternal, std::move(m));
}

// Status from errno: ENOENT -> kNotFound, EACCES/EPERM/EROFS -> kPermission
// Denied, EEXIST -> kAlreadyExists, else kIoError. Message is
// "what: strerror(err)".
Status ErrnoError(std::string_view what, int err);

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(runtime/explicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(runtime/explicit)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const {
    return ok() ? Status::Ok() : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(value()); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace litekeep::base

namespace litekeep {
using base::Result;
using base::Status;
}  // namespace litekeep

#define LK_CONCAT_INNER(a, b) a##b
#define LK_CONCAT(a, b) LK_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when expr is not ok.
#define LK_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::litekeep::base::Status lk_status_ = (expr);        \
    if (!lk_status_.ok()) return lk_status_;             \
  } while (0)

// Evaluates a Result<T> expression; on error returns its Status, else moves
// the value into lhs (which may be a declaration: `auto x`).
#define LK_ASSIGN_OR_RETURN(lhs, expr) \
  LK_ASSIGN_OR_RETURN_IMPL(LK_CONCAT(lk_result_, __LINE__), lhs, expr)
#define LK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
