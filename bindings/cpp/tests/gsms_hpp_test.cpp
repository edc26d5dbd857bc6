// Tests of gsms.hpp against a running emulator (scripts/test_samples.sh starts one; GSMS_BASE_URL).
// Built with -fno-exceptions -fno-rtti. Each test uses its own title id (the emulator keeps one
// server pool per title). Prints "ok - <name>" / "not ok - <name>: <why>"; exit 1 on any failure.
#include <gsms.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_base_url;
const char *const kToken = "XBL3.0 x=dev;dev-token";
const char *const kScid = "00000000-0000-0000-0000-000000000000";
std::string g_failure;
// Set by a test that cannot run here (it then returns true): reported SKIPPED, never passed.
std::string g_skip;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      g_failure = std::string("line ") + std::to_string(__LINE__) + ": " #cond; \
      return false;                                                         \
    }                                                                       \
  } while (0)

// Counts live copies of a callable, to prove the async state is freed exactly once.
std::atomic<int> g_live{0};
struct Tracked {
  std::atomic<int> *calls;
  explicit Tracked(std::atomic<int> *c) : calls(c) { ++g_live; }
  Tracked(const Tracked &o) : calls(o.calls) { ++g_live; }
  Tracked(Tracked &&o) noexcept : calls(o.calls) { ++g_live; }
  ~Tracked() { --g_live; }
  void operator()(gsms::Result<gsms::ClusterResult>) const { ++*calls; }
};

gsms::ClusterRequest session(uint32_t title, const std::string &name) {
  gsms::ClusterRequest req(title);
  if (!req.session(kScid, "quick", name)) std::abort();
  return req;
}

gsms::Client client(gsms::CallbackMode mode = gsms::CallbackMode::OnDispatch) {
  gsms::Config cfg;
  if (!cfg.base_url(g_base_url) || !cfg.auth_token(kToken) || !cfg.callback_mode(mode)) std::abort();
  auto c = gsms::Client::create(cfg);
  if (!c) std::abort();
  return std::move(*c);
}

template <typename F>
bool dispatch_until(gsms::Client &c, F done, int timeout_ms = 10000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    c.dispatch();
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool invalid_argument_is_an_error_with_a_message() {
  gsms::Config cfg;
  auto r = cfg.base_url("ftp://example.com");
  CHECK(!r && r.status() == gsms::Status::InvalidArgument);
  CHECK(!r.error().message.empty() && r.error().message != "GSMS_ERR_INVALID_ARGUMENT");  // the library's reason
  CHECK(r.error().describe().rfind("GSMS_ERR_INVALID_ARGUMENT: ", 0) == 0);
  gsms::ClusterRequest req(2001);
  CHECK(req.session_id("").status() == gsms::Status::InvalidArgument);
  CHECK(req.abort_if_queued(true));
  auto c = client();
  gsms::ClusterRequest empty(2001);  // no session id
  auto blocking = c.allocate_cluster(empty, 1000);
  CHECK(!blocking && blocking.error().status == gsms::Status::InvalidArgument && blocking.error().http_status == 0);
  return true;
}

bool failed_start_frees_the_callable_and_never_calls_it() {
  std::atomic<int> calls{0};
  {
    auto c = client();
    gsms::ClusterRequest empty(2002);
    auto op = c.allocate_cluster_async(empty, 0, Tracked(&calls));
    CHECK(!op && op.status() == gsms::Status::InvalidArgument);
    CHECK(g_live == 0);
  }
  CHECK(calls == 0);
  return true;
}

bool blocking_allocate_reads_ports() {
  auto c = client();
  auto r = c.allocate_cluster(session(2003, "blocking"), 5000);
  CHECK(r.ok());
  CHECK(r->fulfilled() && r->host_name() == "127.0.0.1" && !r->region().empty());
  auto game = r->port("GameData");
  CHECK(game && game->external_port != 0 && game->internal_port != 0);
  CHECK(r->ports().size() >= 1);
  gsms::ClusterResult moved = std::move(*r);
  gsms::ClusterResult copy = moved.clone();
  CHECK(copy.host_name() == moved.host_name() && copy.raw() != moved.raw());
  return true;
}

bool async_allocate_reports_queued_then_fulfilled_on_dispatch() {
  auto c = client();
  CHECK(c.allocate_cluster(session(2004, "holder"), 5000).ok());
  int queued = 0;
  bool done = false, fulfilled = false;
  const auto me = std::this_thread::get_id();
  bool same_thread = true;
  auto op = c.allocate_cluster_async(
      session(2004, "waiter"), 10000,
      [&](gsms::ClusterResultView q) {
        queued += q.queued() ? 1 : 0;
        same_thread = same_thread && std::this_thread::get_id() == me;
      },
      [&](gsms::Result<gsms::ClusterResult> r) {
        done = true;
        fulfilled = r && r->fulfilled();
        same_thread = same_thread && std::this_thread::get_id() == me;
      });
  CHECK(op.ok());
  CHECK(!done);  // never inside the start call
  CHECK(dispatch_until(c, [&] { return done; }));
  CHECK(fulfilled && queued >= 1 && same_thread);
  return true;
}

bool cancel_completes_with_cancelled_and_frees_state() {
  std::atomic<int> calls{0};
  {
    auto c = client();
    CHECK(c.allocate_cluster(session(2005, "holder"), 5000).ok());
    gsms::Status status = gsms::Status::Ok;
    bool done = false;
    auto op = c.allocate_cluster_async(session(2005, "waiter"), 10000, [&](gsms::Result<gsms::ClusterResult> r) {
      done = true;
      status = r.status();
    });
    CHECK(op.ok());
    CHECK(op->cancel());
    CHECK(!done);
    CHECK(dispatch_until(c, [&] { return done; }, 2000));
    CHECK(status == gsms::Status::Cancelled);
    CHECK(op->cancel());  // no-op once completed

    auto op2 = c.allocate_cluster_async(session(2005, "waiter2"), 10000, Tracked(&calls));
    CHECK(op2.ok() && g_live == 1);
  }  // the client goes away with op2 unfinished: completed with Shutdown, state freed
  CHECK(calls == 1 && g_live == 0);
  return true;
}

bool take_result_without_callbacks() {
  auto c = client();
  auto op = c.start_allocate_cluster(session(2006, "poll"), 10000);
  CHECK(op.ok());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto r = op->take_result();
    if (r.status() != gsms::Status::Pending) {
      CHECK(r.ok() && r->fulfilled());
      break;
    }
    CHECK(std::chrono::steady_clock::now() < end);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(op->done());
  return true;
}

bool worker_mode_log_and_token_provider() {
  std::mutex m;
  std::vector<std::string> lines;
  std::atomic<int> token_calls{0};
  gsms::Config cfg;
  CHECK(cfg.base_url(g_base_url));
  CHECK(cfg.callback_mode(gsms::CallbackMode::OnWorker));
  CHECK(cfg.log_callback(
      [&](gsms::LogLevel, const char *msg) {
        std::lock_guard<std::mutex> g(m);
        lines.emplace_back(msg);
      },
      gsms::LogLevel::Debug));
  CHECK(cfg.token_provider([&](bool) -> std::optional<std::string> {
    ++token_calls;
    return std::string(kToken);
  }));
  auto c = gsms::Client::create(cfg);
  CHECK(c.ok());
  { gsms::Config gone = std::move(cfg); }  // the client keeps the callables alive
  std::atomic<bool> done{false};
  std::atomic<bool> fulfilled{false};
  auto op = c->create_cluster_async(session(2007, "worker"), [&](gsms::Result<gsms::ClusterResult> r) {
    fulfilled = r && r->fulfilled();
    done = true;
  });
  CHECK(op.ok());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(done && fulfilled && token_calls >= 1);
  std::lock_guard<std::mutex> g(m);
  CHECK(!lines.empty());
  for (const auto &l : lines) CHECK(l.find("dev-token") == std::string::npos);
  return true;
}

bool http_error_details() {
  gsms::Config cfg;
  CHECK(cfg.base_url(g_base_url) && cfg.auth_token("garbage"));
  auto c = gsms::Client::create(cfg);
  CHECK(c.ok());
  auto r = c->create_cluster(session(2008, "unauthorized"));
  CHECK(!r && r.error().status == gsms::Status::Unauthorized && r.error().http_status == 401);
  CHECK(!r.error().correlation_id.empty() && !r.error().message.empty());
  return true;
}

// Needs GSMS_SLOW_BASE_URL: an emulator answering after >= 1 s (--latency-ms 1500). The request
// is still running on a library thread when the client is destroyed; that thread logs when it
// finishes, after gsms_client_free returned, and must not reach the (destroyed) callable.
bool log_callable_not_called_after_client_destroyed() {
  const char *slow = std::getenv("GSMS_SLOW_BASE_URL");
  if (!slow || !*slow) {
    g_skip = "GSMS_SLOW_BASE_URL not set (an emulator with --latency-ms 1500)";
    return true;
  }
  std::atomic<int> after{0};
  std::atomic<bool> destroyed{false};
  {
    gsms::Config cfg;
    CHECK(cfg.base_url(slow) && cfg.auth_token(kToken));
    CHECK(cfg.log_callback([&](gsms::LogLevel, const char *) { after += destroyed ? 1 : 0; }, gsms::LogLevel::Trace));
    auto c = gsms::Client::create(cfg);
    CHECK(c.ok());
    auto op = c->create_cluster_async(session(2009, "slow"), [](gsms::Result<gsms::ClusterResult>) {});
    CHECK(op.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  destroyed = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  CHECK(after == 0);
  return true;
}

}  // namespace

int main() {
  const char *url = std::getenv("GSMS_BASE_URL");
  if (!url || !*url) {
    std::fprintf(stderr, "set GSMS_BASE_URL to a running gsms-emulator\n");
    return 2;
  }
  g_base_url = url;
  struct Test {
    const char *name;
    bool (*fn)();
  };
  const Test tests[] = {
      {"invalid_argument_is_an_error_with_a_message", invalid_argument_is_an_error_with_a_message},
      {"failed_start_frees_the_callable_and_never_calls_it", failed_start_frees_the_callable_and_never_calls_it},
      {"blocking_allocate_reads_ports", blocking_allocate_reads_ports},
      {"async_allocate_reports_queued_then_fulfilled_on_dispatch", async_allocate_reports_queued_then_fulfilled_on_dispatch},
      {"cancel_completes_with_cancelled_and_frees_state", cancel_completes_with_cancelled_and_frees_state},
      {"take_result_without_callbacks", take_result_without_callbacks},
      {"worker_mode_log_and_token_provider", worker_mode_log_and_token_provider},
      {"http_error_details", http_error_details},
      {"log_callable_not_called_after_client_destroyed", log_callable_not_called_after_client_destroyed},
  };
  int failed = 0, skipped = 0;
  for (const Test &t : tests) {
    g_failure.clear();
    g_skip.clear();
    const bool passed = t.fn();
    if (passed && !g_skip.empty()) {
      ++skipped;  // never counted as passed
      std::printf("SKIPPED - %s: %s\n", t.name, g_skip.c_str());
    } else if (passed) {
      std::printf("ok - %s\n", t.name);
    } else {
      ++failed;
      std::printf("not ok - %s: %s\n", t.name, g_failure.c_str());
    }
  }
  const int total = static_cast<int>(sizeof tests / sizeof tests[0]);
  std::printf("cpp tests: %d passed, %d failed, %d skipped\n", total - failed - skipped, failed, skipped);
  return failed == 0 ? 0 : 1;
}
