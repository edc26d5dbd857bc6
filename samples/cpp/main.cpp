// Asks GSMS for a game server with the C++ layer (gsms.hpp): an async allocation whose progress
// and completion run inside a dispatch loop on this thread (as a game's frame loop would), Ctrl-C
// cancels it, and once a server is allocated we say "hello" to its GameData port over UDP.
//
//   allocate_async [session-name]
// Environment: GSMS_BASE_URL, GSMS_TOKEN, GSMS_TITLE_ID (see ../c/allocate.c).
#include <gsms.hpp>

#include "sample_util.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) { g_interrupted = 1; }

}  // namespace

int main(int argc, char **argv) {
  const std::string session = argc > 1 ? argv[1] : "cpp-sample";
  std::printf("libgsms %s\n", gsms::version_string());
  if (!gsms::abi_compatible()) {
    std::fprintf(stderr, "libgsms ABI mismatch\n");
    return 1;
  }

  gsms::Config cfg;
  for (auto r : {cfg.base_url(sample::env_or("GSMS_BASE_URL", "https://gameserverms.xboxlive.com")),
                 cfg.auth_token(sample::env_or("GSMS_TOKEN", "XBL3.0 x=dev;dev-token")),
                 cfg.callback_mode(gsms::CallbackMode::OnDispatch)}) {
    if (!r) {
      std::fprintf(stderr, "configuration: %s\n", r.error().describe().c_str());
      return 1;
    }
  }
  auto client = gsms::Client::create(cfg);
  if (!client) {
    std::fprintf(stderr, "client: %s\n", client.error().describe().c_str());
    return 1;
  }

  gsms::ClusterRequest req(static_cast<uint32_t>(std::strtoul(sample::env_or("GSMS_TITLE_ID", "123").c_str(), nullptr, 10)));
  if (auto r = req.session("00000000-0000-0000-0000-000000000000", "quick", session); !r) {
    std::fprintf(stderr, "request: %s\n", r.error().describe().c_str());
    return 1;
  }

  bool finished = false;
  std::optional<gsms::ClusterResult> server;
  std::optional<gsms::Error> failure;
  auto op = client->allocate_cluster_async(
      req, 60000,
      [](gsms::ClusterResultView queued) {  // runs inside dispatch(); `queued` is borrowed
        std::printf("Queued: no free server yet, polling again in %u ms (%u requests so far)\n",
                    queued.poll_interval_ms(), queued.attempts());
        std::fflush(stdout);
      },
      [&](gsms::Result<gsms::ClusterResult> outcome) {  // exactly once, inside dispatch()
        finished = true;
        if (outcome) {
          server.emplace(std::move(*outcome));
        } else {
          failure = outcome.error();
        }
      });
  if (!op) {
    std::fprintf(stderr, "start: %s\n", op.error().describe().c_str());
    return 1;
  }

  std::signal(SIGINT, on_sigint);
  bool cancel_sent = false;
  while (!finished) {  // a game's frame loop
    if (g_interrupted && !cancel_sent) {
      std::printf("Ctrl-C: cancelling\n");
      if (auto r = op->cancel(); !r) std::fprintf(stderr, "cancel: %s\n", r.error().describe().c_str());
      cancel_sent = true;
    }
    client->dispatch();
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }

  if (failure) {
    std::printf("%s: %s\n", failure->status == gsms::Status::Cancelled ? "Cancelled" : "Failed",
                failure->describe().c_str());
    return failure->status == gsms::Status::Cancelled ? 130 : 1;
  }
  if (!server->fulfilled()) {
    std::printf("No server: %s\n", gsms::state_name(server->state()));
    return 1;
  }
  const auto game = server->port("GameData");
  if (!game) {
    std::fprintf(stderr, "the answer has no GameData port\n");
    return 1;
  }
  const std::string host = server->host_name();
  std::printf("Fulfilled: %s:%u (region %s, %u requests)\n", host.c_str(), game->external_port,
              server->region().c_str(), server->attempts());

  const auto echo = sample::udp_round_trip(host, game->external_port, "hello");
  if (!echo) {
    std::fprintf(stderr, "no UDP answer from %s:%u\n", host.c_str(), game->external_port);
    return 1;
  }
  std::printf("UDP echo from %s:%u: %s\n", host.c_str(), game->external_port, echo->c_str());
  return 0;
}
