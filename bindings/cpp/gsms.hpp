// gsms.hpp: header-only C++17 layer over the libgsms C ABI (include/gsms.h).
//
// - One move-only RAII type per handle: Config, Client, ClusterRequest, ClusterResult, Operation.
//   raw() gives the C handle; release() (where it makes sense) hands ownership back to you.
// - No exceptions: every fallible call returns a [[nodiscard]] gsms::Result<T> holding a value
//   or a gsms::Error (status, HTTP status, correlation id, message). Builds with
//   -fno-exceptions -fno-rtti.
// - Async calls take any callable. Its state lives on the heap and is freed exactly once: inside
//   the completion trampoline when the start call succeeded (the C library calls on_done exactly
//   once, never inside the start call), or at once when the start call failed (on_done never
//   comes). Progress callables may run any number of times before the completion.
// - Callbacks run inside Client::dispatch() on the thread that calls it (default
//   CallbackMode::OnDispatch), or on a library thread (CallbackMode::OnWorker).
//
// Thread rules are those of the C ABI: Client and Operation may be used from any thread;
// ClusterResult is immutable; Config and ClusterRequest are builders (one thread at a time).

#ifndef GSMS_HPP
#define GSMS_HPP

#if !(__cplusplus >= 201703L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201703L))
#error "gsms.hpp needs C++17"
#endif

#include "gsms.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gsms {

/// The outcome of a call (gsms_status).
enum class Status : uint32_t {
  Ok = GSMS_OK,
  InvalidArgument = GSMS_ERR_INVALID_ARGUMENT,
  Unauthorized = GSMS_ERR_UNAUTHORIZED,
  Forbidden = GSMS_ERR_FORBIDDEN,
  HttpStatus = GSMS_ERR_HTTP_STATUS,
  RetriesExhausted = GSMS_ERR_RETRIES_EXHAUSTED,
  Timeout = GSMS_ERR_TIMEOUT,
  Network = GSMS_ERR_NETWORK,
  Protocol = GSMS_ERR_PROTOCOL,
  Cancelled = GSMS_ERR_CANCELLED,
  Shutdown = GSMS_ERR_SHUTDOWN,
  AuthProvider = GSMS_ERR_AUTH_PROVIDER,
  Internal = GSMS_ERR_INTERNAL,
  Pending = GSMS_PENDING,
};

/// Where an allocation stands (gsms_fulfillment_state).
enum class FulfillmentState : uint32_t {
  Unknown = GSMS_FULFILLMENT_UNKNOWN,
  Fulfilled = GSMS_FULFILLMENT_FULFILLED,
  Queued = GSMS_FULFILLMENT_QUEUED,
  Aborted = GSMS_FULFILLMENT_ABORTED,
};

/// Where callbacks run (gsms_callback_mode).
enum class CallbackMode : uint32_t {
  OnWorker = GSMS_CALLBACKS_ON_WORKER,
  OnDispatch = GSMS_CALLBACKS_ON_DISPATCH,
};

/// Log verbosity (gsms_log_level).
enum class LogLevel : uint32_t {
  Error = GSMS_LOG_ERROR,
  Warn = GSMS_LOG_WARN,
  Info = GSMS_LOG_INFO,
  Debug = GSMS_LOG_DEBUG,
  Trace = GSMS_LOG_TRACE,
};

/// "GSMS_OK", "GSMS_ERR_TIMEOUT", ... (static storage).
inline const char *status_name(Status s) noexcept { return gsms_status_name(static_cast<uint32_t>(s)); }

/// "Fulfilled", "Queued", "Aborted" or "Unknown" (static storage).
inline const char *state_name(FulfillmentState s) noexcept {
  switch (s) {
    case FulfillmentState::Fulfilled: return "Fulfilled";
    case FulfillmentState::Queued: return "Queued";
    case FulfillmentState::Aborted: return "Aborted";
    case FulfillmentState::Unknown: break;
  }
  return "Unknown";
}

/// The library version, e.g. "0.1.0" (static storage).
inline const char *version_string() noexcept { return gsms_version_string(); }

/// True when the loaded library speaks the C ABI this header was written for: same major, and a
/// minor at least as new. Check it once at start-up when loading the library dynamically.
inline bool abi_compatible() noexcept {
  const uint32_t v = gsms_abi_version();
  // (minor + 1 > MINOR) is minor >= MINOR without a "always true" warning when MINOR is 0.
  return (v >> 16) == GSMS_ABI_MAJOR && (v & 0xFFFFu) + 1u > GSMS_ABI_MINOR;
}

/// One port mapping of an allocated server.
struct Port {
  std::string name;        ///< e.g. "GameData"
  uint32_t internal_port;  ///< the port the game server listens on
  uint32_t external_port;  ///< the port clients connect to
};

namespace detail {
[[noreturn]] inline void fail(const char *what) noexcept {
  std::fprintf(stderr, "gsms.hpp: %s\n", what);
  std::fflush(stderr);
  std::abort();
}
inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }
}  // namespace detail

class ClusterResult;

/// A non-owning view of a gsms_cluster_result. A view handed to a callback is valid only during
/// that callback: call clone() to keep it.
class ClusterResultView {
 public:
  explicit ClusterResultView(const gsms_cluster_result *r) noexcept : r_(r) {}

  const gsms_cluster_result *raw() const noexcept { return r_; }
  explicit operator bool() const noexcept { return r_ != nullptr; }

  Status status() const noexcept { return static_cast<Status>(gsms_cluster_result_status(r_)); }
  FulfillmentState state() const noexcept {
    return static_cast<FulfillmentState>(gsms_cluster_result_fulfillment_state(r_));
  }
  bool fulfilled() const noexcept { return state() == FulfillmentState::Fulfilled; }
  bool queued() const noexcept { return state() == FulfillmentState::Queued; }
  uint32_t poll_interval_ms() const noexcept { return gsms_cluster_result_poll_interval_ms(r_); }
  uint16_t http_status() const noexcept { return gsms_cluster_result_http_status(r_); }
  uint32_t attempts() const noexcept { return gsms_cluster_result_attempts(r_); }
  uint32_t retry_after_ms() const noexcept { return gsms_cluster_result_retry_after_ms(r_); }

  std::string host_name() const { return detail::str(gsms_cluster_result_host_name(r_)); }
  std::string region() const { return detail::str(gsms_cluster_result_region(r_)); }
  std::string secure_context() const { return detail::str(gsms_cluster_result_secure_context(r_)); }
  std::string correlation_id() const { return detail::str(gsms_cluster_result_correlation_id(r_)); }
  std::string error_message() const { return detail::str(gsms_cluster_result_error_message(r_)); }
  std::string raw_json() const { return detail::str(gsms_cluster_result_raw_json(r_)); }

  /// Every port mapping, in the service's order.
  std::vector<Port> ports() const {
    std::vector<Port> out;
    const size_t n = gsms_cluster_result_port_count(r_);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const char *name = nullptr;
      uint32_t internal_port = 0, external_port = 0;
      if (gsms_cluster_result_port(r_, i, &name, &internal_port, &external_port) == GSMS_OK) {
        out.push_back(Port{detail::str(name), internal_port, external_port});
      }
    }
    return out;
  }

  /// The port mapping called `name` (e.g. "GameData"), if any.
  std::optional<Port> port(std::string_view name) const {
    const size_t n = gsms_cluster_result_port_count(r_);
    for (size_t i = 0; i < n; ++i) {
      const char *pname = nullptr;
      uint32_t internal_port = 0, external_port = 0;
      if (gsms_cluster_result_port(r_, i, &pname, &internal_port, &external_port) == GSMS_OK && pname &&
          name == pname) {
        return Port{std::string(pname), internal_port, external_port};
      }
    }
    return std::nullopt;
  }

  /// An owned copy that outlives this view.
  inline ClusterResult clone() const;

 protected:
  const gsms_cluster_result *r_;
};

/// An owned gsms_cluster_result (immutable; readable from any thread).
class ClusterResult : public ClusterResultView {
 public:
  /// Adopts `owned` (freed with gsms_cluster_result_free).
  explicit ClusterResult(gsms_cluster_result *owned) noexcept : ClusterResultView(owned) {}
  ~ClusterResult() { reset(); }
  ClusterResult(ClusterResult &&o) noexcept : ClusterResultView(o.r_) { o.r_ = nullptr; }
  ClusterResult &operator=(ClusterResult &&o) noexcept {
    if (this != &o) {
      reset();
      r_ = o.r_;
      o.r_ = nullptr;
    }
    return *this;
  }
  ClusterResult(const ClusterResult &) = delete;
  ClusterResult &operator=(const ClusterResult &) = delete;

  /// Gives up ownership: the caller frees the handle with gsms_cluster_result_free.
  gsms_cluster_result *release() noexcept {
    gsms_cluster_result *p = const_cast<gsms_cluster_result *>(r_);
    r_ = nullptr;
    return p;
  }

 private:
  void reset() noexcept {
    gsms_cluster_result_free(const_cast<gsms_cluster_result *>(r_));
    r_ = nullptr;
  }
};

inline ClusterResult ClusterResultView::clone() const { return ClusterResult(gsms_cluster_result_clone(r_)); }

/// Why a call failed.
struct Error {
  Status status = Status::Internal;
  uint16_t http_status = 0;     ///< last HTTP status seen; 0 if none
  std::string correlation_id;   ///< X-XblCorrelationId of the last response; quote it to support
  std::string message;          ///< human-readable reason
  uint32_t attempts = 0;        ///< HTTP requests made
  uint32_t retry_after_ms = 0;  ///< last Retry-After seen

  /// From a failed call that returned `status` on this thread, with its result `r` (may be NULL).
  /// Must be built right after the call: it may read gsms_last_error_message().
  static Error from_call(gsms_status status, const gsms_cluster_result *r) {
    // Read the thread's last error first: any later gsms call may replace it.
    std::string last = r ? std::string() : detail::str(gsms_last_error_message());
    Error e = details(status, r);
    if (e.message.empty()) e.message = r ? detail::str(gsms_last_error_message()) : std::move(last);
    return e;
  }
  /// From a completion (status, result); never reads the thread's last error.
  static Error from_result(gsms_status status, const gsms_cluster_result *r) { return details(status, r); }

 private:
  static Error details(gsms_status status, const gsms_cluster_result *r) {
    Error e;
    e.status = static_cast<Status>(status);
    if (r) {
      e.http_status = gsms_cluster_result_http_status(r);
      e.correlation_id = detail::str(gsms_cluster_result_correlation_id(r));
      e.message = detail::str(gsms_cluster_result_error_message(r));
      e.attempts = gsms_cluster_result_attempts(r);
      e.retry_after_ms = gsms_cluster_result_retry_after_ms(r);
    }
    return e;
  }

 public:

  /// "GSMS_ERR_HTTP_STATUS (HTTP 404, correlation id ...): message"
  std::string describe() const {
    std::string s = status_name(status);
    if (http_status != 0 || !correlation_id.empty()) {
      s += " (";
      if (http_status != 0) s += "HTTP " + std::to_string(http_status);
      if (http_status != 0 && !correlation_id.empty()) s += ", ";
      if (!correlation_id.empty()) s += "correlation id " + correlation_id;
      s += ")";
    }
    if (!message.empty()) s += ": " + message;
    return s;
  }
};

/// A value or an Error. Accessing the wrong side aborts (there are no exceptions).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  Status status() const noexcept { return ok() ? Status::Ok : error_->status; }

  T &value() & {
    if (!ok()) detail::fail("Result::value() on an error");
    return *value_;
  }
  const T &value() const & {
    if (!ok()) detail::fail("Result::value() on an error");
    return *value_;
  }
  T &&value() && {
    if (!ok()) detail::fail("Result::value() on an error");
    return std::move(*value_);
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const Error &error() const & {
    if (ok()) detail::fail("Result::error() on a value");
    return *error_;
  }

 private:
  std::optional<T> value_;
  std::optional<Error> error_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  Status status() const noexcept { return ok() ? Status::Ok : error_->status; }
  const Error &error() const & {
    if (ok()) detail::fail("Result::error() on a value");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

namespace detail {
inline Result<void> check(gsms_status s) {
  if (s == GSMS_OK) return Result<void>();
  return Error::from_call(s, nullptr);
}

/// The completion of an async call, as a Result holding an owned copy of the borrowed result.
inline Result<ClusterResult> completion(gsms_status status, const gsms_cluster_result *r) {
  if (status == GSMS_OK) return ClusterResult(gsms_cluster_result_clone(r));
  return Error::from_result(status, r);
}

/// Log and token-provider callables, found by id. A library thread stuck in a request can still
/// log after gsms_client_free has returned: it must then find nothing rather than a freed
/// callable. The table is never destroyed (such a thread may outlive static destructors).
class CallbackTable {
 public:
  static CallbackTable &get() {
    static CallbackTable *table = new CallbackTable();
    return *table;
  }
  uintptr_t add(std::shared_ptr<void> callable) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uintptr_t id = ++next_;
    entries_.emplace_back(id, std::move(callable));
    return id;
  }
  std::shared_ptr<void> find(uintptr_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &e : entries_)
      if (e.first == id) return e.second;
    return nullptr;
  }
  void remove(uintptr_t id) {
    std::shared_ptr<void> doomed;  // destroyed outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].first == id) {
        doomed = std::move(entries_[i].second);
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
    }
  }

 private:
  std::mutex mutex_;
  uintptr_t next_ = 0;
  std::vector<std::pair<uintptr_t, std::shared_ptr<void>>> entries_;
};

/// Keeps a callable registered while a Config or a Client made from it may use it.
class CallbackRegistration {
 public:
  explicit CallbackRegistration(std::shared_ptr<void> callable) : id_(CallbackTable::get().add(std::move(callable))) {}
  ~CallbackRegistration() { CallbackTable::get().remove(id_); }
  CallbackRegistration(const CallbackRegistration &) = delete;
  CallbackRegistration &operator=(const CallbackRegistration &) = delete;
  void *user_data() const noexcept { return reinterpret_cast<void *>(id_); }

 private:
  uintptr_t id_;
};

template <typename F>
void log_trampoline(void *user_data, gsms_log_level level, const char *message) {
  std::shared_ptr<void> f = CallbackTable::get().find(reinterpret_cast<uintptr_t>(user_data));
  if (f) (*static_cast<F *>(f.get()))(static_cast<LogLevel>(level), message ? message : "");
}

template <typename F>
gsms_status token_trampoline(void *user_data, uint32_t force_refresh, gsms_token_sink *sink) {
  std::shared_ptr<void> f = CallbackTable::get().find(reinterpret_cast<uintptr_t>(user_data));
  if (!f) return GSMS_ERR_AUTH_PROVIDER;
  std::optional<std::string> token = (*static_cast<F *>(f.get()))(force_refresh != 0);
  if (!token) return GSMS_ERR_AUTH_PROVIDER;
  return gsms_token_sink_set(sink, token->c_str());
}

struct NoProgress {
  void operator()(ClusterResultView) const noexcept {}
};

/// Heap state of one async call: freed by the completion trampoline, exactly once.
template <typename P, typename D>
struct AsyncState {
  P progress;
  D done;
};

template <typename P, typename D>
void progress_trampoline(void *user_data, const gsms_cluster_result *queued) {
  static_cast<AsyncState<P, D> *>(user_data)->progress(ClusterResultView(queued));
}

template <typename P, typename D>
void done_trampoline(void *user_data, gsms_status status, const gsms_cluster_result *result) {
  std::unique_ptr<AsyncState<P, D>> state(static_cast<AsyncState<P, D> *>(user_data));
  state->done(completion(status, result));
}
}  // namespace detail

/// Client configuration (builder; one thread at a time). A Client made from it keeps what it
/// needs (including the log and token-provider callables), so the Config may go away first.
class Config {
 public:
  Config() noexcept : raw_(gsms_config_new()) {}
  ~Config() { gsms_config_free(raw_); }
  Config(Config &&o) noexcept
      : raw_(std::exchange(o.raw_, nullptr)), log_(std::move(o.log_)), token_(std::move(o.token_)) {}
  Config &operator=(Config &&o) noexcept {
    if (this != &o) {
      gsms_config_free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
      log_ = std::move(o.log_);
      token_ = std::move(o.token_);
    }
    return *this;
  }
  Config(const Config &) = delete;
  Config &operator=(const Config &) = delete;

  /// The C handle (NULL only after out-of-memory or a move); still owned by this Config.
  gsms_config *raw() const noexcept { return raw_; }

  Result<void> base_url(const std::string &url) { return detail::check(gsms_config_set_base_url(raw_, url.c_str())); }
  Result<void> user_agent(const std::string &ua) { return detail::check(gsms_config_set_user_agent(raw_, ua.c_str())); }
  Result<void> timeouts(uint32_t connect_ms, uint32_t request_ms) {
    return detail::check(gsms_config_set_timeouts(raw_, connect_ms, request_ms));
  }
  Result<void> retry_policy(uint32_t max_attempts, uint32_t base_delay_ms, uint32_t max_delay_ms) {
    return detail::check(gsms_config_set_retry_policy(raw_, max_attempts, base_delay_ms, max_delay_ms));
  }
  /// The whole Authorization value, e.g. "XBL3.0 x=<hash>;<token>".
  Result<void> auth_token(const std::string &authorization) {
    return detail::check(gsms_config_set_auth_token(raw_, authorization.c_str()));
  }
  Result<void> xbl_token(const std::string &user_hash, const std::string &token) {
    return detail::check(gsms_config_set_xbl_token(raw_, user_hash.c_str(), token.c_str()));
  }
  Result<void> callback_mode(CallbackMode mode) {
    return detail::check(gsms_config_set_callback_mode(raw_, static_cast<uint32_t>(mode)));
  }
  Result<void> worker_threads(uint32_t n) { return detail::check(gsms_config_set_worker_threads(raw_, n)); }
  Result<void> ca_bundle_path(const std::string &pem_path) {
    return detail::check(gsms_config_set_ca_bundle_path(raw_, pem_path.c_str()));
  }

  /// `f(LogLevel, const char *message)`: called from any library thread, concurrently, so it
  /// must be thread-safe. `message` is valid only during the call. Once the Config and every
  /// Client made from it are gone it is no longer called (a library thread still finishing a
  /// request may log after gsms_client_free returns: it then finds nothing).
  template <typename F>
  Result<void> log_callback(F &&f, LogLevel min_level) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn &, LogLevel, const char *>, "log callable: void(gsms::LogLevel, const char *)");
    auto reg = std::make_shared<detail::CallbackRegistration>(std::make_shared<Fn>(std::forward<F>(f)));
    Result<void> r = detail::check(gsms_config_set_log_callback(raw_, &detail::log_trampoline<Fn>, reg->user_data(),
                                                                static_cast<uint32_t>(min_level)));
    if (r) log_ = std::move(reg);
    return r;
  }
  Result<void> clear_log_callback() {
    Result<void> r = detail::check(gsms_config_set_log_callback(raw_, nullptr, nullptr, GSMS_LOG_ERROR));
    if (r) log_.reset();
    return r;
  }

  /// `f(bool force_refresh) -> std::optional<std::string>`: the whole Authorization value, or
  /// std::nullopt to fail the call with Status::AuthProvider. Runs on the thread doing the
  /// request (a worker for async calls). Replaces a static token.
  template <typename F>
  Result<void> token_provider(F &&f) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_r_v<std::optional<std::string>, Fn &, bool>,
                  "token provider: std::optional<std::string>(bool force_refresh)");
    auto reg = std::make_shared<detail::CallbackRegistration>(std::make_shared<Fn>(std::forward<F>(f)));
    Result<void> r = detail::check(gsms_config_set_token_provider(raw_, &detail::token_trampoline<Fn>, reg->user_data()));
    if (r) token_ = std::move(reg);
    return r;
  }
  Result<void> clear_token_provider() {
    Result<void> r = detail::check(gsms_config_set_token_provider(raw_, nullptr, nullptr));
    if (r) token_.reset();
    return r;
  }

 private:
  friend class Client;
  gsms_config *raw_;
  std::shared_ptr<detail::CallbackRegistration> log_;
  std::shared_ptr<detail::CallbackRegistration> token_;
};

/// A request for a server for one MPSD session (builder; one thread at a time). Calls copy it,
/// so it may be reused or destroyed as soon as a call has started.
class ClusterRequest {
 public:
  explicit ClusterRequest(uint32_t title_id) noexcept : raw_(gsms_cluster_request_new(title_id)) {}
  ~ClusterRequest() { gsms_cluster_request_free(raw_); }
  ClusterRequest(ClusterRequest &&o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
  ClusterRequest &operator=(ClusterRequest &&o) noexcept {
    if (this != &o) {
      gsms_cluster_request_free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
    }
    return *this;
  }
  ClusterRequest(const ClusterRequest &) = delete;
  ClusterRequest &operator=(const ClusterRequest &) = delete;

  gsms_cluster_request *raw() const noexcept { return raw_; }
  gsms_cluster_request *release() noexcept { return std::exchange(raw_, nullptr); }

  /// "/serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>"
  Result<void> session_id(const std::string &session_id) {
    return detail::check(gsms_cluster_request_set_session_id(raw_, session_id.c_str()));
  }
  Result<void> session(const std::string &scid, const std::string &template_name, const std::string &session_name) {
    return detail::check(
        gsms_cluster_request_set_session(raw_, scid.c_str(), template_name.c_str(), session_name.c_str()));
  }
  Result<void> abort_if_queued(bool abort) {
    return detail::check(gsms_cluster_request_set_abort_if_queued(raw_, abort ? 1u : 0u));
  }

 private:
  gsms_cluster_request *raw_;
};

/// A handle on an async call. Destroying it releases the handle only: it does not cancel.
class Operation {
 public:
  explicit Operation(gsms_operation *owned) noexcept : raw_(owned) {}
  ~Operation() { gsms_operation_free(raw_); }
  Operation(Operation &&o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
  Operation &operator=(Operation &&o) noexcept {
    if (this != &o) {
      gsms_operation_free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
    }
    return *this;
  }
  Operation(const Operation &) = delete;
  Operation &operator=(const Operation &) = delete;

  gsms_operation *raw() const noexcept { return raw_; }
  gsms_operation *release() noexcept { return std::exchange(raw_, nullptr); }

  /// The completion arrives later with Status::Cancelled (never inside this call); a no-op once
  /// the operation has completed.
  Result<void> cancel() { return detail::check(gsms_operation_cancel(raw_)); }

  /// Polling instead of callbacks: an error with Status::Pending while the call runs; then its
  /// outcome (may be asked again: same outcome, new copy).
  Result<ClusterResult> take_result() const {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_operation_take_result(raw_, &r);
    if (s == GSMS_PENDING) {
      Error e;
      e.status = Status::Pending;
      e.message = "the operation is still running";
      return e;
    }
    if (s == GSMS_OK) return ClusterResult(r);
    ClusterResult owned(r);  // frees the copy once the details are read
    return Error::from_call(s, r);
  }
  /// True once take_result() would return the outcome.
  bool done() const noexcept { return gsms_operation_take_result(raw_, nullptr) != GSMS_PENDING; }

 private:
  gsms_operation *raw_;
};

/// A connection to the service. Destroying it runs every outstanding completion on this thread
/// (unfinished ones with Status::Shutdown) before returning; no callback runs afterwards.
class Client {
 public:
  /// Creates a client from `cfg` (which may be destroyed afterwards).
  static Result<Client> create(const Config &cfg) {
    gsms_client *c = nullptr;
    const gsms_status s = gsms_client_new(cfg.raw_, &c);
    if (s != GSMS_OK) return Error::from_call(s, nullptr);
    Client client(c);
    client.log_ = cfg.log_;
    client.token_ = cfg.token_;
    return Result<Client>(std::move(client));
  }

  /// Adopts a handle made with gsms_client_new. (Log and token-provider state set through a
  /// raw config stays the caller's to keep alive.)
  explicit Client(gsms_client *owned) noexcept : raw_(owned) {}
  ~Client() { reset(); }
  Client(Client &&o) noexcept
      : raw_(std::exchange(o.raw_, nullptr)), log_(std::move(o.log_)), token_(std::move(o.token_)) {}
  Client &operator=(Client &&o) noexcept {
    if (this != &o) {
      reset();
      raw_ = std::exchange(o.raw_, nullptr);
      log_ = std::move(o.log_);
      token_ = std::move(o.token_);
    }
    return *this;
  }
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  gsms_client *raw() const noexcept { return raw_; }

  /// Runs queued progress and completion callbacks on this thread (CallbackMode::OnDispatch):
  /// call it once per frame on the game thread. 0 = all queued now. Returns how many ran.
  uint32_t dispatch(uint32_t max_callbacks = 0) noexcept { return gsms_client_dispatch(raw_, max_callbacks); }

  Result<void> set_auth_token(const std::string &authorization) {
    return detail::check(gsms_client_set_auth_token(raw_, authorization.c_str()));
  }
  Result<void> warmup() { return detail::check(gsms_client_warmup(raw_)); }

  /// One POST, blocking: never on a frame thread. Ok whatever the fulfillment state.
  Result<ClusterResult> create_cluster(const ClusterRequest &req) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_create_cluster(raw_, req.raw(), &r);
    return blocking_outcome(s, r);
  }
  /// POST and poll while Queued, blocking: never on a frame thread. 0 = no deadline.
  Result<ClusterResult> allocate_cluster(const ClusterRequest &req, uint32_t deadline_ms = 0) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_allocate_cluster(raw_, req.raw(), deadline_ms, &r);
    return blocking_outcome(s, r);
  }

  /// Starts one POST. `done(gsms::Result<gsms::ClusterResult>)` is called exactly once, later,
  /// if (and only if) this returns ok.
  template <typename D>
  Result<Operation> create_cluster_async(const ClusterRequest &req, D &&done) {
    return start<detail::NoProgress>(false, req, 0, detail::NoProgress{}, std::forward<D>(done));
  }

  /// Starts an allocation (POST, then poll while Queued). `progress(gsms::ClusterResultView)`
  /// runs for each Queued answer (the view is valid only during the call); `done` as above.
  template <typename P, typename D>
  Result<Operation> allocate_cluster_async(const ClusterRequest &req, uint32_t deadline_ms, P &&progress, D &&done) {
    return start<std::decay_t<P>>(true, req, deadline_ms, std::forward<P>(progress), std::forward<D>(done));
  }
  template <typename D>
  Result<Operation> allocate_cluster_async(const ClusterRequest &req, uint32_t deadline_ms, D &&done) {
    return start<detail::NoProgress>(true, req, deadline_ms, detail::NoProgress{}, std::forward<D>(done));
  }

  /// Callback-free starts: ask Operation::take_result() each frame.
  Result<Operation> start_create_cluster(const ClusterRequest &req) {
    gsms_operation *op = nullptr;
    const gsms_status s = gsms_client_create_cluster_async(raw_, req.raw(), nullptr, nullptr, &op);
    if (s != GSMS_OK) return Error::from_call(s, nullptr);
    return Operation(op);
  }
  Result<Operation> start_allocate_cluster(const ClusterRequest &req, uint32_t deadline_ms = 0) {
    gsms_operation *op = nullptr;
    const gsms_status s =
        gsms_client_allocate_cluster_async(raw_, req.raw(), deadline_ms, nullptr, nullptr, nullptr, &op);
    if (s != GSMS_OK) return Error::from_call(s, nullptr);
    return Operation(op);
  }

 private:
  static Result<ClusterResult> blocking_outcome(gsms_status s, gsms_cluster_result *r) {
    if (s == GSMS_OK) return ClusterResult(r);
    ClusterResult owned(r);  // frees the error details once read
    return Error::from_call(s, r);
  }

  template <typename P, typename PArg, typename D>
  Result<Operation> start(bool allocate, const ClusterRequest &req, uint32_t deadline_ms, PArg &&progress, D &&done) {
    using Dn = std::decay_t<D>;
    static_assert(std::is_invocable_v<Dn &, Result<ClusterResult>>,
                  "completion callable: void(gsms::Result<gsms::ClusterResult>)");
    static_assert(std::is_invocable_v<P &, ClusterResultView>, "progress callable: void(gsms::ClusterResultView)");
    using State = detail::AsyncState<P, Dn>;
    auto *state = new State{P(std::forward<PArg>(progress)), Dn(std::forward<D>(done))};
    gsms_progress_callback on_progress =
        std::is_same<P, detail::NoProgress>::value ? nullptr : &detail::progress_trampoline<P, Dn>;
    gsms_operation *op = nullptr;
    const gsms_status s =
        allocate ? gsms_client_allocate_cluster_async(raw_, req.raw(), deadline_ms, on_progress,
                                                      &detail::done_trampoline<P, Dn>, state, &op)
                 : gsms_client_create_cluster_async(raw_, req.raw(), &detail::done_trampoline<P, Dn>, state, &op);
    if (s != GSMS_OK) {
      Error e = Error::from_call(s, nullptr);
      delete state;  // on_done will never be called
      return e;
    }
    return Operation(op);
  }

  void reset() noexcept {
    gsms_client_free(raw_);  // runs the remaining completions, freeing their states
    raw_ = nullptr;
    log_.reset();
    token_.reset();
  }

  gsms_client *raw_;
  std::shared_ptr<detail::CallbackRegistration> log_;
  std::shared_ptr<detail::CallbackRegistration> token_;
};

}  // namespace gsms

#endif  // GSMS_HPP
