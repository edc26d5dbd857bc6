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
  AllocationFailed = GSMS_ERR_ALLOCATION_FAILED,  ///< the allocation ended in error (ticket Error, server failed to start)
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

template <typename Raw>
using PortGetter = gsms_status (*)(const Raw *, size_t, const char **, uint32_t *, uint32_t *);

/// Every port mapping of a result, in the service's order.
template <typename Raw>
std::vector<Port> read_ports(const Raw *r, size_t n, PortGetter<Raw> get) {
  std::vector<Port> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const char *name = nullptr;
    uint32_t internal_port = 0, external_port = 0;
    if (get(r, i, &name, &internal_port, &external_port) == GSMS_OK) {
      out.push_back(Port{str(name), internal_port, external_port});
    }
  }
  return out;
}

/// The port mapping called `name`, if any.
template <typename Raw>
std::optional<Port> find_port(const Raw *r, size_t n, PortGetter<Raw> get, std::string_view name) {
  for (size_t i = 0; i < n; ++i) {
    const char *pname = nullptr;
    uint32_t internal_port = 0, external_port = 0;
    if (get(r, i, &pname, &internal_port, &external_port) == GSMS_OK && pname && name == pname) {
      return Port{std::string(pname), internal_port, external_port};
    }
  }
  return std::nullopt;
}
}  // namespace detail

/// A non-owning view of the exchange details every result carries (gsms_call_info). Valid as long
/// as the result it came from.
class CallInfoView {
 public:
  explicit CallInfoView(const gsms_call_info *i) noexcept : i_(i) {}
  const gsms_call_info *raw() const noexcept { return i_; }
  explicit operator bool() const noexcept { return i_ != nullptr; }

  Status status() const noexcept { return static_cast<Status>(gsms_call_info_status(i_)); }
  uint16_t http_status() const noexcept { return gsms_call_info_http_status(i_); }
  /// HTTP requests made, retries and polls included (probes sent, for a QoS measurement).
  uint32_t attempts() const noexcept { return gsms_call_info_attempts(i_); }
  uint32_t retry_after_ms() const noexcept { return gsms_call_info_retry_after_ms(i_); }
  std::string correlation_id() const { return detail::str(gsms_call_info_correlation_id(i_)); }
  std::string error_message() const { return detail::str(gsms_call_info_error_message(i_)); }
  std::string raw_json() const { return detail::str(gsms_call_info_raw_json(i_)); }
  /// The whole outcome in one line (status, message, HTTP status, attempts, correlation id).
  std::string describe() const { return detail::str(gsms_call_info_describe(i_)); }

 private:
  const gsms_call_info *i_;
};

template <typename View>
class Owned;

namespace detail {
/// What every result view shares: the handle, its call info, and how to copy, free and take one
/// (the C functions of its type). `Self` is the view deriving from it.
template <typename Self, typename Raw, void (*Free)(Raw *), Raw *(*Clone)(const Raw *),
          const gsms_call_info *(*Info)(const Raw *), gsms_status (*Take)(gsms_operation *, Raw **)>
class ResultViewBase {
 public:
  using raw_type = Raw;
  explicit ResultViewBase(const Raw *r) noexcept : r_(r) {}

  const Raw *raw() const noexcept { return r_; }
  explicit operator bool() const noexcept { return r_ != nullptr; }
  /// Status, HTTP status, attempts, correlation id, message, raw body.
  CallInfoView info() const noexcept { return CallInfoView(Info(r_)); }
  /// An owned copy that outlives this view.
  Owned<Self> clone() const { return Owned<Self>(Clone(r_)); }

  static void free_raw(Raw *r) noexcept { Free(r); }
  static Raw *clone_raw(const Raw *r) noexcept { return Clone(r); }
  static const gsms_call_info *info_raw(const Raw *r) noexcept { return Info(r); }
  static gsms_status take_raw(gsms_operation *op, Raw **out) noexcept { return Take(op, out); }

 protected:
  const Raw *r_;
};
}  // namespace detail

/// An owned result (immutable; readable from any thread): a View that frees its handle.
template <typename View>
class Owned : public View {
 public:
  using raw_type = typename View::raw_type;
  using view_type = View;
  /// Adopts `owned` (freed with the type's _free).
  explicit Owned(raw_type *owned) noexcept : View(owned) {}
  ~Owned() { reset(); }
  Owned(Owned &&o) noexcept : View(o.r_) { o.r_ = nullptr; }
  Owned &operator=(Owned &&o) noexcept {
    if (this != &o) {
      reset();
      this->r_ = o.r_;
      o.r_ = nullptr;
    }
    return *this;
  }
  Owned(const Owned &) = delete;
  Owned &operator=(const Owned &) = delete;

  /// Gives up ownership: the caller frees the handle with the type's _free.
  raw_type *release() noexcept {
    raw_type *p = const_cast<raw_type *>(this->r_);
    this->r_ = nullptr;
    return p;
  }

 private:
  void reset() noexcept {
    View::free_raw(const_cast<raw_type *>(this->r_));
    this->r_ = nullptr;
  }
};

/// A non-owning view of a gsms_cluster_result (clusters and inline clusters). A view handed to a
/// callback is valid only during that callback: call clone() to keep it.
class ClusterResultView
    : public detail::ResultViewBase<ClusterResultView, gsms_cluster_result, gsms_cluster_result_free,
                                    gsms_cluster_result_clone, gsms_cluster_result_info,
                                    gsms_operation_take_cluster_result> {
 public:
  using ResultViewBase::ResultViewBase;

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
    return detail::read_ports(r_, gsms_cluster_result_port_count(r_), &gsms_cluster_result_port);
  }
  /// The port mapping called `name` (e.g. "GameData"), if any.
  std::optional<Port> port(std::string_view name) const {
    return detail::find_port(r_, gsms_cluster_result_port_count(r_), &gsms_cluster_result_port, name);
  }
};
/// An owned gsms_cluster_result.
using ClusterResult = Owned<ClusterResultView>;

/// Where a ticket's host stands (gsms_host_status). Note: Active, not Fulfilled.
enum class HostStatus : uint32_t {
  Unknown = GSMS_HOST_UNKNOWN,
  Active = GSMS_HOST_ACTIVE,
  Queued = GSMS_HOST_QUEUED,
  Aborted = GSMS_HOST_ABORTED,
  Error = GSMS_HOST_ERROR,
};

/// "Active", "Queued", ... (static storage).
inline const char *host_status_name(HostStatus s) noexcept { return gsms_host_status_name(static_cast<uint32_t>(s)); }

/// A ticket's status (GET /titles/{titleId}/tickets/{ticketId}/status).
class TicketResultView
    : public detail::ResultViewBase<TicketResultView, gsms_ticket_result, gsms_ticket_result_free,
                                    gsms_ticket_result_clone, gsms_ticket_result_info,
                                    gsms_operation_take_ticket_result> {
 public:
  using ResultViewBase::ResultViewBase;

  HostStatus status() const noexcept { return static_cast<HostStatus>(gsms_ticket_result_status(r_)); }
  bool active() const noexcept { return status() == HostStatus::Active; }
  bool queued() const noexcept { return status() == HostStatus::Queued; }
  uint32_t title_id() const noexcept { return gsms_ticket_result_title_id(r_); }
  std::string ticket_id() const { return detail::str(gsms_ticket_result_ticket_id(r_)); }
  std::string cluster_id() const { return detail::str(gsms_ticket_result_cluster_id(r_)); }
  std::string host_name() const { return detail::str(gsms_ticket_result_host_name(r_)); }
  std::string description() const { return detail::str(gsms_ticket_result_description(r_)); }
  std::string secure_context() const { return detail::str(gsms_ticket_result_secure_context(r_)); }
  std::string game_host_id() const { return detail::str(gsms_ticket_result_game_host_id(r_)); }
  std::string region() const { return detail::str(gsms_ticket_result_region(r_)); }
  std::vector<Port> ports() const {
    return detail::read_ports(r_, gsms_ticket_result_port_count(r_), &gsms_ticket_result_port);
  }
  std::optional<Port> port(std::string_view name) const {
    return detail::find_port(r_, gsms_ticket_result_port_count(r_), &gsms_ticket_result_port, name);
  }
};
using TicketResult = Owned<TicketResultView>;

/// A session host allocation, or a session's allocation status.
class SessionHostResultView
    : public detail::ResultViewBase<SessionHostResultView, gsms_session_host_result, gsms_session_host_result_free,
                                    gsms_session_host_result_clone, gsms_session_host_result_info,
                                    gsms_operation_take_session_host_result> {
 public:
  using ResultViewBase::ResultViewBase;

  FulfillmentState state() const noexcept {
    return static_cast<FulfillmentState>(gsms_session_host_result_fulfillment_state(r_));
  }
  bool fulfilled() const noexcept { return state() == FulfillmentState::Fulfilled; }
  bool queued() const noexcept { return state() == FulfillmentState::Queued; }
  std::string host_name() const { return detail::str(gsms_session_host_result_host_name(r_)); }
  std::string region() const { return detail::str(gsms_session_host_result_region(r_)); }
  std::string secure_context() const { return detail::str(gsms_session_host_result_secure_context(r_)); }
  std::string session_host_id() const { return detail::str(gsms_session_host_result_session_host_id(r_)); }
  std::string session_id() const { return detail::str(gsms_session_host_result_session_id(r_)); }
  std::string description() const { return detail::str(gsms_session_host_result_description(r_)); }
  std::string cluster_id() const { return detail::str(gsms_session_host_result_cluster_id(r_)); }
  std::string ticket_id() const { return detail::str(gsms_session_host_result_ticket_id(r_)); }
  std::string game_host_id() const { return detail::str(gsms_session_host_result_game_host_id(r_)); }
  std::vector<Port> ports() const {
    return detail::read_ports(r_, gsms_session_host_result_port_count(r_), &gsms_session_host_result_port);
  }
  std::optional<Port> port(std::string_view name) const {
    return detail::find_port(r_, gsms_session_host_result_port_count(r_), &gsms_session_host_result_port, name);
  }
};
using SessionHostResult = Owned<SessionHostResultView>;

/// A game mode of a title.
struct Variant {
  std::string id;
  std::string name;
  bool is_publisher;
  uint64_t rank;
  std::string schema_id;
};
/// A variant schema (an XML document describing a game mode's settings).
struct VariantSchema {
  std::string id;
  std::string name;
  std::string content;
};
/// A name/value tag of a GSI set.
struct Tag {
  std::string name;
  std::string value;
};
/// A server image (GSI) set of a title.
struct GsiSet {
  std::string id;
  std::string name;
  uint64_t min_required_players;
  uint64_t max_allowed_players;
  uint64_t selection_order;
  std::string schema_id;
  std::vector<Tag> tags;
};

/// A title's game variants, variant schemas and GSI sets (POST /titles/{titleId}/variants).
class VariantsResultView
    : public detail::ResultViewBase<VariantsResultView, gsms_variants_result, gsms_variants_result_free,
                                    gsms_variants_result_clone, gsms_variants_result_info,
                                    gsms_operation_take_variants_result> {
 public:
  using ResultViewBase::ResultViewBase;

  std::vector<Variant> variants() const {
    std::vector<Variant> out;
    const size_t n = gsms_variants_result_variant_count(r_);
    for (size_t i = 0; i < n; ++i) {
      const char *id = nullptr, *name = nullptr, *schema = nullptr;
      uint32_t is_publisher = 0;
      uint64_t rank = 0;
      if (gsms_variants_result_variant(r_, i, &id, &name, &is_publisher, &rank, &schema) == GSMS_OK) {
        out.push_back(Variant{detail::str(id), detail::str(name), is_publisher != 0, rank, detail::str(schema)});
      }
    }
    return out;
  }
  std::vector<VariantSchema> schemas() const {
    std::vector<VariantSchema> out;
    const size_t n = gsms_variants_result_schema_count(r_);
    for (size_t i = 0; i < n; ++i) {
      const char *id = nullptr, *name = nullptr, *content = nullptr;
      if (gsms_variants_result_schema(r_, i, &id, &name, &content) == GSMS_OK) {
        out.push_back(VariantSchema{detail::str(id), detail::str(name), detail::str(content)});
      }
    }
    return out;
  }
  std::vector<GsiSet> gsi_sets() const {
    std::vector<GsiSet> out;
    const size_t n = gsms_variants_result_gsi_set_count(r_);
    for (size_t i = 0; i < n; ++i) {
      const char *id = nullptr, *name = nullptr, *schema = nullptr;
      uint64_t min_players = 0, max_players = 0, order = 0;
      if (gsms_variants_result_gsi_set(r_, i, &id, &name, &min_players, &max_players, &order, &schema) != GSMS_OK) {
        continue;
      }
      GsiSet set{detail::str(id), detail::str(name), min_players, max_players, order, detail::str(schema), {}};
      const size_t tags = gsms_variants_result_gsi_set_tag_count(r_, i);
      for (size_t t = 0; t < tags; ++t) {
        const char *tag_name = nullptr, *tag_value = nullptr;
        if (gsms_variants_result_gsi_set_tag(r_, i, t, &tag_name, &tag_value) == GSMS_OK) {
          set.tags.push_back(Tag{detail::str(tag_name), detail::str(tag_value)});
        }
      }
      out.push_back(std::move(set));
    }
    return out;
  }
  /// The first GSI set of the variant's schema, else the first one; nullopt when there is none.
  std::optional<GsiSet> gsi_set_for(const Variant &variant) const {
    std::vector<GsiSet> sets = gsi_sets();
    for (GsiSet &s : sets) {
      if (s.schema_id == variant.schema_id) return std::move(s);
    }
    if (sets.empty()) return std::nullopt;
    return std::move(sets.front());
  }
};
using VariantsResult = Owned<VariantsResultView>;

/// One region's QoS beacon.
struct QosServer {
  std::string fqdn;                   ///< a name, an address or host:port
  std::string secure_device_address;  ///< base64; "" when absent
  std::string target_location;        ///< the region's name: what allocations take as location
};

/// The QoS servers answer: one beacon per region.
class QosServersResultView
    : public detail::ResultViewBase<QosServersResultView, gsms_qos_servers_result, gsms_qos_servers_result_free,
                                    gsms_qos_servers_result_clone, gsms_qos_servers_result_info,
                                    gsms_operation_take_qos_servers_result> {
 public:
  using ResultViewBase::ResultViewBase;

  size_t size() const noexcept { return gsms_qos_servers_result_count(r_); }
  std::vector<QosServer> servers() const {
    std::vector<QosServer> out;
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) {
      const char *fqdn = nullptr, *sda = nullptr, *location = nullptr;
      if (gsms_qos_servers_result_server(r_, i, &fqdn, &sda, &location) == GSMS_OK) {
        out.push_back(QosServer{detail::str(fqdn), detail::str(sda), detail::str(location)});
      }
    }
    return out;
  }
};
using QosServersResult = Owned<QosServersResultView>;

/// One region's measured latency.
struct QosRegion {
  std::string name;
  uint32_t latency_us;  ///< UINT32_MAX when no reply came (see message)
  uint32_t sent;
  uint32_t received;
  std::string message;  ///< why there is no latency; "" when there is one
  std::string address;  ///< where it was measured
  bool has_latency() const noexcept { return latency_us != UINT32_MAX; }
  double latency_ms() const noexcept { return latency_us / 1000.0; }
};

/// A QoS measurement: every region, best first.
class QosResultView
    : public detail::ResultViewBase<QosResultView, gsms_qos_result, gsms_qos_result_free, gsms_qos_result_clone,
                                    gsms_qos_result_info, gsms_operation_take_qos_result> {
 public:
  using ResultViewBase::ResultViewBase;

  std::vector<QosRegion> regions() const {
    std::vector<QosRegion> out;
    const size_t n = gsms_qos_result_region_count(r_);
    for (size_t i = 0; i < n; ++i) {
      const char *name = nullptr;
      uint32_t latency = UINT32_MAX, sent = 0, received = 0;
      if (gsms_qos_result_region(r_, i, &name, &latency, &sent, &received) == GSMS_OK) {
        out.push_back(QosRegion{detail::str(name), latency, sent, received,
                                detail::str(gsms_qos_result_region_message(r_, i)),
                                detail::str(gsms_qos_result_region_address(r_, i))});
      }
    }
    return out;
  }
  /// The region with the lowest latency (what to pass as location); "" when none answered.
  std::string best_region() const { return detail::str(gsms_qos_result_best_region(r_)); }
};
using QosResult = Owned<QosResultView>;

/// Why a call failed.
struct Error {
  Status status = Status::Internal;
  uint16_t http_status = 0;     ///< last HTTP status seen; 0 if none
  std::string correlation_id;   ///< X-XblCorrelationId of the last response; quote it to support
  std::string message;          ///< human-readable reason
  uint32_t attempts = 0;        ///< HTTP requests made
  uint32_t retry_after_ms = 0;  ///< last Retry-After seen

  /// From a failed call that returned `status` on this thread, with the call info of its result
  /// (may be NULL). Must be built right after the call: it may read gsms_last_error_message().
  static Error from_call_info(gsms_status status, const gsms_call_info *info) {
    // Read the thread's last error first: any later gsms call may replace it.
    std::string last = info ? std::string() : detail::str(gsms_last_error_message());
    Error e = from_result_info(status, info);
    if (e.message.empty()) e.message = info ? detail::str(gsms_last_error_message()) : std::move(last);
    return e;
  }
  /// From a completion (status, call info of its result); never reads the thread's last error.
  static Error from_result_info(gsms_status status, const gsms_call_info *info) {
    Error e;
    e.status = static_cast<Status>(status);
    if (info) {
      e.http_status = gsms_call_info_http_status(info);
      e.correlation_id = detail::str(gsms_call_info_correlation_id(info));
      e.message = detail::str(gsms_call_info_error_message(info));
      e.attempts = gsms_call_info_attempts(info);
      e.retry_after_ms = gsms_call_info_retry_after_ms(info);
    }
    return e;
  }
  /// As from_call_info, from a cluster result (may be NULL).
  static Error from_call(gsms_status status, const gsms_cluster_result *r) {
    return from_call_info(status, r ? gsms_cluster_result_info(r) : nullptr);
  }
  /// As from_result_info, from a cluster result (may be NULL).
  static Error from_result(gsms_status status, const gsms_cluster_result *r) {
    return from_result_info(status, r ? gsms_cluster_result_info(r) : nullptr);
  }

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
  return Error::from_call_info(s, nullptr);
}

/// The outcome of a blocking call: the owned result, or the error it carries.
template <typename View>
Result<Owned<View>> blocking(gsms_status s, typename View::raw_type *r) {
  if (s == GSMS_OK) return Owned<View>(r);
  Owned<View> owned(r);  // frees the error details once read
  return Error::from_call_info(s, r ? View::info_raw(r) : nullptr);
}

/// The completion of an async call, as a Result holding an owned copy of the borrowed result.
template <typename View>
Result<Owned<View>> completion(gsms_status status, const typename View::raw_type *r) {
  if (status == GSMS_OK) return Owned<View>(View::clone_raw(r));
  return Error::from_result_info(status, r ? View::info_raw(r) : nullptr);
}

/// Polling without a copy (out_result = NULL): what Operation::done() asks.
template <typename View>
gsms_status peek(gsms_operation *op) noexcept {
  return View::take_raw(op, nullptr);
}
using PeekFn = gsms_status (*)(gsms_operation *) noexcept;

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


/// A progress callable that is not there (the C call gets a NULL on_progress).
struct NoProgress {
  template <typename V>
  void operator()(V) const noexcept {}
};

/// Heap state of one async call: freed by the completion trampoline, exactly once.
template <typename P, typename D>
struct AsyncState {
  P progress;
  D done;
};

template <typename View, typename P, typename D>
void progress_trampoline(void *user_data, const typename View::raw_type *queued) {
  static_cast<AsyncState<P, D> *>(user_data)->progress(View(queued));
}

template <typename View, typename P, typename D>
void done_trampoline(void *user_data, gsms_status status, const typename View::raw_type *result) {
  std::unique_ptr<AsyncState<P, D>> state(static_cast<AsyncState<P, D> *>(user_data));
  state->done(completion<View>(status, result));
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

namespace detail {
/// A move-only owner of a builder handle freed with `Free`.
template <typename Raw, void (*Free)(Raw *)>
class Builder {
 public:
  explicit Builder(Raw *owned) noexcept : raw_(owned) {}
  ~Builder() { Free(raw_); }
  Builder(Builder &&o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
  Builder &operator=(Builder &&o) noexcept {
    if (this != &o) {
      Free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
    }
    return *this;
  }
  Builder(const Builder &) = delete;
  Builder &operator=(const Builder &) = delete;

  /// The C handle (NULL only after out-of-memory or a move); still owned by this object.
  Raw *raw() const noexcept { return raw_; }
  /// Gives up ownership: the caller frees the handle.
  Raw *release() noexcept { return std::exchange(raw_, nullptr); }

 protected:
  Raw *raw_;
};
}  // namespace detail

/// An inline cluster (allocation without MPSD) for a ticket (builder; one thread at a time). Every
/// string and max_allowed_players are required. Calls copy it.
class InlineClusterRequest
    : public detail::Builder<gsms_inline_cluster_request, gsms_inline_cluster_request_free> {
 public:
  explicit InlineClusterRequest(uint32_t title_id) noexcept : Builder(gsms_inline_cluster_request_new(title_id)) {}

  Result<void> service_config_id(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_service_config_id(raw_, v.c_str()));
  }
  Result<void> sandbox_id(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_sandbox_id(raw_, v.c_str()));
  }
  /// The same for every member of the group; follow it with Client::get_ticket_status.
  Result<void> ticket_id(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_ticket_id(raw_, v.c_str()));
  }
  Result<void> gsi_set_id(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_gsi_set_id(raw_, v.c_str()));
  }
  Result<void> game_variant_id(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_game_variant_id(raw_, v.c_str()));
  }
  /// The region's name, normally QosResultView::best_region().
  Result<void> location(const std::string &v) {
    return detail::check(gsms_inline_cluster_request_set_location(raw_, v.c_str()));
  }
  /// At least 1.
  Result<void> max_allowed_players(uint32_t n) {
    return detail::check(gsms_inline_cluster_request_set_max_allowed_players(raw_, n));
  }
  Result<void> abort_if_queued(bool abort) {
    return detail::check(gsms_inline_cluster_request_set_abort_if_queued(raw_, abort ? 1u : 0u));
  }
};

/// Which game variants and GSI sets to list (builder). Everything is optional.
class VariantsRequest : public detail::Builder<gsms_variants_request, gsms_variants_request_free> {
 public:
  explicit VariantsRequest(uint32_t title_id) noexcept : Builder(gsms_variants_request_new(title_id)) {}

  /// Default "en-us".
  Result<void> locale(const std::string &v) { return detail::check(gsms_variants_request_set_locale(raw_, v.c_str())); }
  /// 0 (default): no limit.
  Result<void> max_allowed_players(uint32_t n) {
    return detail::check(gsms_variants_request_set_max_allowed_players(raw_, n));
  }
  /// 0 (default): all.
  Result<void> max_variants(uint32_t n) { return detail::check(gsms_variants_request_set_max_variants(raw_, n)); }
  Result<void> publisher_only(bool only) {
    return detail::check(gsms_variants_request_set_publisher_only(raw_, only ? 1u : 0u));
  }
  Result<void> add_tag(const std::string &name, const std::string &value) {
    return detail::check(gsms_variants_request_add_tag(raw_, name.c_str(), value.c_str()));
  }
};

/// A session host (GSDK-era allocation; builder). session_id, cloud_game_id and one location are required.
class SessionHostRequest : public detail::Builder<gsms_session_host_request, gsms_session_host_request_free> {
 public:
  explicit SessionHostRequest(uint32_t title_id) noexcept : Builder(gsms_session_host_request_new(title_id)) {}

  /// A GUID the caller chooses; the same id follows the allocation (Client::get_allocation_status).
  Result<void> session_id(const std::string &v) {
    return detail::check(gsms_session_host_request_set_session_id(raw_, v.c_str()));
  }
  /// The GSI set id.
  Result<void> cloud_game_id(const std::string &v) {
    return detail::check(gsms_session_host_request_set_cloud_game_id(raw_, v.c_str()));
  }
  /// Appends a region name (in order of preference).
  Result<void> add_location(const std::string &v) {
    return detail::check(gsms_session_host_request_add_location(raw_, v.c_str()));
  }
  /// Opaque, at most 32 KiB.
  Result<void> session_cookie(const std::string &v) {
    return detail::check(gsms_session_host_request_set_session_cookie(raw_, v.c_str()));
  }
  Result<void> game_mode_id(const std::string &v) {
    return detail::check(gsms_session_host_request_set_game_mode_id(raw_, v.c_str()));
  }
  Result<void> sandbox_id(const std::string &v) {
    return detail::check(gsms_session_host_request_set_sandbox_id(raw_, v.c_str()));
  }
};

/// What to measure and how (builder). Defaults: 10 probes per region, 4 in flight, 250 ms timeout.
class QosProbe : public detail::Builder<gsms_qos_probe, gsms_qos_probe_free> {
 public:
  QosProbe() noexcept : Builder(gsms_qos_probe_new()) {}

  /// A region by hand: its name, its beacon's host and UDP port (0 = 3075).
  Result<void> add_target(const std::string &region, const std::string &host, uint32_t port = 0) {
    return detail::check(gsms_qos_probe_add_target(raw_, region.c_str(), host.c_str(), port));
  }
  /// Every server of a QoS servers answer (all or nothing).
  Result<void> add_servers(const QosServersResultView &servers) {
    return detail::check(gsms_qos_probe_add_servers(raw_, servers.raw()));
  }
  Result<void> options(uint32_t probes_per_region, uint32_t parallelism, uint32_t timeout_ms) {
    return detail::check(gsms_qos_probe_set_options(raw_, probes_per_region, parallelism, timeout_ms));
  }
  size_t target_count() const noexcept { return gsms_qos_probe_target_count(raw_); }
};

/// A handle on an async call. Destroying it releases the handle only: it does not cancel.
class Operation {
 public:
  /// Adopts `owned`; `peek` says how to ask whether it is done (its result type's take, with NULL).
  explicit Operation(gsms_operation *owned, detail::PeekFn peek = &detail::peek<ClusterResultView>) noexcept
      : raw_(owned), peek_(peek) {}
  ~Operation() { gsms_operation_free(raw_); }
  Operation(Operation &&o) noexcept : raw_(std::exchange(o.raw_, nullptr)), peek_(o.peek_) {}
  Operation &operator=(Operation &&o) noexcept {
    if (this != &o) {
      gsms_operation_free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
      peek_ = o.peek_;
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

  /// Polling instead of callbacks, for a clusters or inline clusters call: an error with
  /// Status::Pending while the call runs; then its outcome (may be asked again: same outcome,
  /// new copy).
  Result<ClusterResult> take_result() const { return take<ClusterResult>(); }

  /// As take_result, for any result type: take<gsms::TicketResult>(), take<gsms::QosResult>(), ...
  /// The wrong type for the operation is Status::InvalidArgument.
  template <typename T>
  Result<T> take() const {
    typename T::raw_type *r = nullptr;
    const gsms_status s = T::take_raw(raw_, &r);
    if (s == GSMS_PENDING) {
      Error e;
      e.status = Status::Pending;
      e.message = "the operation is still running";
      return e;
    }
    return detail::blocking<typename T::view_type>(s, r);
  }
  /// True once the call has finished: copies nothing, so it may be asked every frame.
  bool done() const noexcept { return peek_(raw_) != GSMS_PENDING; }

 private:
  gsms_operation *raw_;
  detail::PeekFn peek_;
};

/// A connection to the service. Destroying it runs every outstanding completion on this thread
/// (unfinished ones with Status::Shutdown) before returning; no callback runs afterwards.
///
/// Every call comes three ways: blocking (`create_cluster`, `get_variants`, ...: never on a frame
/// thread), async with callables (`*_async`: `done(gsms::Result<R>)` exactly once, later, if and
/// only if the start returned ok; `progress(View)` for each Queued answer of a following call),
/// and callback-free (`start_*`: ask Operation::take<R>() or done() each frame).
class Client {
 public:
  /// Creates a client from `cfg` (which may be destroyed afterwards).
  static Result<Client> create(const Config &cfg) {
    gsms_client *c = nullptr;
    const gsms_status s = gsms_client_new(cfg.raw_, &c);
    if (s != GSMS_OK) return Error::from_call_info(s, nullptr);
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

  // --- clusters (MPSD) ---

  /// One POST, blocking: never on a frame thread. Ok whatever the fulfillment state.
  Result<ClusterResult> create_cluster(const ClusterRequest &req) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_create_cluster(raw_, req.raw(), &r);  // before reading r: argument order is unspecified
    return detail::blocking<ClusterResultView>(s, r);
  }
  /// POST and poll while Queued, blocking: never on a frame thread. 0 = no deadline.
  Result<ClusterResult> allocate_cluster(const ClusterRequest &req, uint32_t deadline_ms = 0) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_allocate_cluster(raw_, req.raw(), deadline_ms, &r);
    return detail::blocking<ClusterResultView>(s, r);
  }

  /// Starts one POST. `done(gsms::Result<gsms::ClusterResult>)` is called exactly once, later,
  /// if (and only if) this returns ok.
  template <typename D>
  Result<Operation> create_cluster_async(const ClusterRequest &req, D &&done) {
    return start_async<ClusterResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_create_cluster_async(raw_, req.raw(), on_done, ud, op);
        });
  }

  /// Starts an allocation (POST, then poll while Queued). `progress(gsms::ClusterResultView)`
  /// runs for each Queued answer (the view is valid only during the call); `done` as above.
  template <typename P, typename D>
  Result<Operation> allocate_cluster_async(const ClusterRequest &req, uint32_t deadline_ms, P &&progress, D &&done) {
    return start_async<ClusterResultView, std::decay_t<P>>(
        std::forward<P>(progress), std::forward<D>(done), [&](auto on_progress, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_allocate_cluster_async(raw_, req.raw(), deadline_ms, on_progress, on_done, ud, op);
        });
  }
  template <typename D>
  Result<Operation> allocate_cluster_async(const ClusterRequest &req, uint32_t deadline_ms, D &&done) {
    return allocate_cluster_async(req, deadline_ms, detail::NoProgress{}, std::forward<D>(done));
  }

  /// Callback-free starts: ask Operation::take_result() each frame.
  Result<Operation> start_create_cluster(const ClusterRequest &req) {
    return start_polled<ClusterResultView>(
        [&](gsms_operation **op) { return gsms_client_create_cluster_async(raw_, req.raw(), nullptr, nullptr, op); });
  }
  Result<Operation> start_allocate_cluster(const ClusterRequest &req, uint32_t deadline_ms = 0) {
    return start_polled<ClusterResultView>([&](gsms_operation **op) {
      return gsms_client_allocate_cluster_async(raw_, req.raw(), deadline_ms, nullptr, nullptr, nullptr, op);
    });
  }

  // --- inline clusters (no MPSD; results are ClusterResult, Active reads as Fulfilled) ---

  /// One POST /inlineclusters, blocking. Ok whatever the fulfillment state.
  Result<ClusterResult> create_inline_cluster(const InlineClusterRequest &req) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_create_inline_cluster(raw_, req.raw(), &r);
    return detail::blocking<ClusterResultView>(s, r);
  }
  /// POST, then follow the ticket while Queued until Active (Fulfilled), Aborted (ok, state
  /// Aborted) or Error (Status::AllocationFailed); blocking. 0 = no deadline.
  Result<ClusterResult> allocate_inline_cluster(const InlineClusterRequest &req, uint32_t deadline_ms = 0) {
    gsms_cluster_result *r = nullptr;
    const gsms_status s = gsms_client_allocate_inline_cluster(raw_, req.raw(), deadline_ms, &r);
    return detail::blocking<ClusterResultView>(s, r);
  }
  template <typename D>
  Result<Operation> create_inline_cluster_async(const InlineClusterRequest &req, D &&done) {
    return start_async<ClusterResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_create_inline_cluster_async(raw_, req.raw(), on_done, ud, op);
        });
  }
  /// `progress(gsms::ClusterResultView)` sees each Queued answer (the POST's or a ticket status).
  template <typename P, typename D>
  Result<Operation> allocate_inline_cluster_async(const InlineClusterRequest &req, uint32_t deadline_ms, P &&progress,
                                                  D &&done) {
    return start_async<ClusterResultView, std::decay_t<P>>(
        std::forward<P>(progress), std::forward<D>(done), [&](auto on_progress, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_allocate_inline_cluster_async(raw_, req.raw(), deadline_ms, on_progress, on_done, ud, op);
        });
  }
  template <typename D>
  Result<Operation> allocate_inline_cluster_async(const InlineClusterRequest &req, uint32_t deadline_ms, D &&done) {
    return allocate_inline_cluster_async(req, deadline_ms, detail::NoProgress{}, std::forward<D>(done));
  }
  Result<Operation> start_create_inline_cluster(const InlineClusterRequest &req) {
    return start_polled<ClusterResultView>([&](gsms_operation **op) {
      return gsms_client_create_inline_cluster_async(raw_, req.raw(), nullptr, nullptr, op);
    });
  }
  Result<Operation> start_allocate_inline_cluster(const InlineClusterRequest &req, uint32_t deadline_ms = 0) {
    return start_polled<ClusterResultView>([&](gsms_operation **op) {
      return gsms_client_allocate_inline_cluster_async(raw_, req.raw(), deadline_ms, nullptr, nullptr, nullptr, op);
    });
  }

  // --- ticket status ---

  /// One GET of a ticket's status, blocking.
  Result<TicketResult> get_ticket_status(uint32_t title_id, const std::string &ticket_id) {
    gsms_ticket_result *r = nullptr;
    const gsms_status s = gsms_client_get_ticket_status(raw_, title_id, ticket_id.c_str(), &r);
    return detail::blocking<TicketResultView>(s, r);
  }
  /// `done(gsms::Result<gsms::TicketResult>)`.
  template <typename D>
  Result<Operation> get_ticket_status_async(uint32_t title_id, const std::string &ticket_id, D &&done) {
    return start_async<TicketResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_get_ticket_status_async(raw_, title_id, ticket_id.c_str(), on_done, ud, op);
        });
  }
  /// Callback-free: Operation::take<gsms::TicketResult>().
  Result<Operation> start_get_ticket_status(uint32_t title_id, const std::string &ticket_id) {
    return start_polled<TicketResultView>([&](gsms_operation **op) {
      return gsms_client_get_ticket_status_async(raw_, title_id, ticket_id.c_str(), nullptr, nullptr, op);
    });
  }

  // --- variants (discovery host) ---

  /// One POST /variants, blocking.
  Result<VariantsResult> get_variants(const VariantsRequest &req) {
    gsms_variants_result *r = nullptr;
    const gsms_status s = gsms_client_get_variants(raw_, req.raw(), &r);
    return detail::blocking<VariantsResultView>(s, r);
  }
  /// `done(gsms::Result<gsms::VariantsResult>)`.
  template <typename D>
  Result<Operation> get_variants_async(const VariantsRequest &req, D &&done) {
    return start_async<VariantsResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_get_variants_async(raw_, req.raw(), on_done, ud, op);
        });
  }
  /// Callback-free: Operation::take<gsms::VariantsResult>().
  Result<Operation> start_get_variants(const VariantsRequest &req) {
    return start_polled<VariantsResultView>(
        [&](gsms_operation **op) { return gsms_client_get_variants_async(raw_, req.raw(), nullptr, nullptr, op); });
  }

  // --- QoS servers (discovery host) and QoS measurement (UDP) ---

  /// One GET, blocking: /xplatqosservers (cross_platform, the default) or /qosservers.
  Result<QosServersResult> get_qos_servers(bool cross_platform = true) {
    gsms_qos_servers_result *r = nullptr;
    const gsms_status s = gsms_client_get_qos_servers(raw_, cross_platform ? 1u : 0u, &r);
    return detail::blocking<QosServersResultView>(s, r);
  }
  /// `done(gsms::Result<gsms::QosServersResult>)`.
  template <typename D>
  Result<Operation> get_qos_servers_async(bool cross_platform, D &&done) {
    return start_async<QosServersResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_get_qos_servers_async(raw_, cross_platform ? 1u : 0u, on_done, ud, op);
        });
  }
  /// Callback-free: Operation::take<gsms::QosServersResult>().
  Result<Operation> start_get_qos_servers(bool cross_platform = true) {
    return start_polled<QosServersResultView>([&](gsms_operation **op) {
      return gsms_client_get_qos_servers_async(raw_, cross_platform ? 1u : 0u, nullptr, nullptr, op);
    });
  }

  /// Measures latency to every region of the probe, blocking (about regions x probes x round trip
  /// / parallelism: never on a frame thread). Ok even when some regions did not answer.
  Result<QosResult> measure_qos(const QosProbe &probe) {
    gsms_qos_result *r = nullptr;
    const gsms_status s = gsms_client_measure_qos(raw_, probe.raw(), &r);
    return detail::blocking<QosResultView>(s, r);
  }
  /// On a library thread (name resolution included); cancel stops the probing.
  /// `done(gsms::Result<gsms::QosResult>)`.
  template <typename D>
  Result<Operation> measure_qos_async(const QosProbe &probe, D &&done) {
    return start_async<QosResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_measure_qos_async(raw_, probe.raw(), on_done, ud, op);
        });
  }
  /// Callback-free: Operation::take<gsms::QosResult>().
  Result<Operation> start_measure_qos(const QosProbe &probe) {
    return start_polled<QosResultView>(
        [&](gsms_operation **op) { return gsms_client_measure_qos_async(raw_, probe.raw(), nullptr, nullptr, op); });
  }

  // --- session hosts and allocation status ---

  /// One POST /sessionhosts, blocking. Ok whatever the state.
  Result<SessionHostResult> create_session_host(const SessionHostRequest &req) {
    gsms_session_host_result *r = nullptr;
    const gsms_status s = gsms_client_create_session_host(raw_, req.raw(), &r);
    return detail::blocking<SessionHostResultView>(s, r);
  }
  /// POST, then follow the allocation status until Fulfilled or Aborted; blocking. 0 = no deadline.
  Result<SessionHostResult> allocate_session_host(const SessionHostRequest &req, uint32_t deadline_ms = 0) {
    gsms_session_host_result *r = nullptr;
    const gsms_status s = gsms_client_allocate_session_host(raw_, req.raw(), deadline_ms, &r);
    return detail::blocking<SessionHostResultView>(s, r);
  }
  /// One GET of a session's allocation status, blocking.
  Result<SessionHostResult> get_allocation_status(uint32_t title_id, const std::string &session_id) {
    gsms_session_host_result *r = nullptr;
    const gsms_status s = gsms_client_get_allocation_status(raw_, title_id, session_id.c_str(), &r);
    return detail::blocking<SessionHostResultView>(s, r);
  }
  /// `done(gsms::Result<gsms::SessionHostResult>)`.
  template <typename D>
  Result<Operation> create_session_host_async(const SessionHostRequest &req, D &&done) {
    return start_async<SessionHostResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_create_session_host_async(raw_, req.raw(), on_done, ud, op);
        });
  }
  /// `progress(gsms::SessionHostResultView)` for each Queued answer; `done` as above.
  template <typename P, typename D>
  Result<Operation> allocate_session_host_async(const SessionHostRequest &req, uint32_t deadline_ms, P &&progress,
                                                D &&done) {
    return start_async<SessionHostResultView, std::decay_t<P>>(
        std::forward<P>(progress), std::forward<D>(done), [&](auto on_progress, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_allocate_session_host_async(raw_, req.raw(), deadline_ms, on_progress, on_done, ud, op);
        });
  }
  template <typename D>
  Result<Operation> allocate_session_host_async(const SessionHostRequest &req, uint32_t deadline_ms, D &&done) {
    return allocate_session_host_async(req, deadline_ms, detail::NoProgress{}, std::forward<D>(done));
  }
  template <typename D>
  Result<Operation> get_allocation_status_async(uint32_t title_id, const std::string &session_id, D &&done) {
    return start_async<SessionHostResultView, detail::NoProgress>(
        detail::NoProgress{}, std::forward<D>(done), [&](auto, auto on_done, void *ud, gsms_operation **op) {
          return gsms_client_get_allocation_status_async(raw_, title_id, session_id.c_str(), on_done, ud, op);
        });
  }
  /// Callback-free: Operation::take<gsms::SessionHostResult>().
  Result<Operation> start_create_session_host(const SessionHostRequest &req) {
    return start_polled<SessionHostResultView>([&](gsms_operation **op) {
      return gsms_client_create_session_host_async(raw_, req.raw(), nullptr, nullptr, op);
    });
  }
  Result<Operation> start_allocate_session_host(const SessionHostRequest &req, uint32_t deadline_ms = 0) {
    return start_polled<SessionHostResultView>([&](gsms_operation **op) {
      return gsms_client_allocate_session_host_async(raw_, req.raw(), deadline_ms, nullptr, nullptr, nullptr, op);
    });
  }
  Result<Operation> start_get_allocation_status(uint32_t title_id, const std::string &session_id) {
    return start_polled<SessionHostResultView>([&](gsms_operation **op) {
      return gsms_client_get_allocation_status_async(raw_, title_id, session_id.c_str(), nullptr, nullptr, op);
    });
  }

 private:
  /// Starts an async call: `call(on_progress, on_done, user_data, &op)` makes the C call. The
  /// callables' heap state is freed exactly once: by the completion trampoline, or here when the
  /// start fails (on_done never comes).
  template <typename View, typename P, typename PArg, typename D, typename Call>
  static Result<Operation> start_async(PArg &&progress, D &&done, Call &&call) {
    using Dn = std::decay_t<D>;
    using Raw = typename View::raw_type;
    static_assert(std::is_invocable_v<Dn &, Result<Owned<View>>>,
                  "completion callable: void(gsms::Result<gsms::...Result>)");
    static_assert(std::is_invocable_v<P &, View>, "progress callable: void(gsms::...ResultView)");
    using State = detail::AsyncState<P, Dn>;
    auto *state = new State{P(std::forward<PArg>(progress)), Dn(std::forward<D>(done))};
    void (*on_progress)(void *, const Raw *) =
        std::is_same<P, detail::NoProgress>::value ? nullptr : &detail::progress_trampoline<View, P, Dn>;
    void (*on_done)(void *, gsms_status, const Raw *) = &detail::done_trampoline<View, P, Dn>;
    gsms_operation *op = nullptr;
    const gsms_status s = call(on_progress, on_done, static_cast<void *>(state), &op);
    if (s != GSMS_OK) {
      Error e = Error::from_call_info(s, nullptr);
      delete state;  // on_done will never be called
      return e;
    }
    return Operation(op, &detail::peek<View>);
  }

  /// Starts an async call without callbacks (on_done NULL, out_op set).
  template <typename View, typename Call>
  static Result<Operation> start_polled(Call &&call) {
    gsms_operation *op = nullptr;
    const gsms_status s = call(&op);
    if (s != GSMS_OK) return Error::from_call_info(s, nullptr);
    return Operation(op, &detail::peek<View>);
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
