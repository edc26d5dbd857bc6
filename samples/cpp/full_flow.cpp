// The whole flow of a game joining a match with the C++ layer (gsms.hpp), every call async with
// its completion run inside a dispatch loop on this thread (as a game's frame loop would):
//
//   1. list the QoS servers (one per region) and measure latency to each: pick the best region;
//   2. read the title's game variants and server image (GSI) sets: pick one of each;
//   3. allocate an inline cluster (no MPSD) for a ticket in the best region, following the ticket
//      until it is Active, then read the ticket's status;
//   4. say hello over UDP to the server's GameData port.
//
//   full_flow [ticket-id]
// Environment: GSMS_BASE_URL, GSMS_TOKEN, GSMS_TITLE_ID (see ../c/full_flow.c). Against the
// emulator: gsms-emulator --udp-echo --region West:delay=5 --region East:delay=25
#include <gsms.hpp>

#include "sample_util.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

namespace {

// Runs frames (dispatch, then sleep) until the async call `start(done)` completes; its outcome.
template <typename T, typename Start>
gsms::Result<T> run_frames(gsms::Client &client, Start start) {
  std::optional<gsms::Result<T>> outcome;
  auto op = start([&](gsms::Result<T> r) { outcome.emplace(std::move(r)); });  // inside dispatch()
  if (!op) return op.error();
  while (!outcome) {
    client.dispatch();
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  return std::move(*outcome);
}

int fail(const char *what, const gsms::Error &e) {
  std::fprintf(stderr, "%s failed: %s\n", what, e.describe().c_str());
  return 1;
}

}  // namespace

int main(int argc, char **argv) {
  const uint32_t title = static_cast<uint32_t>(std::strtoul(sample::env_or("GSMS_TITLE_ID", "123").c_str(), nullptr, 10));
  const std::string ticket = argc > 1 ? std::string(argv[1])
                                      : "ticket-" + std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr));
  gsms::Config cfg;
  for (auto r : {cfg.base_url(sample::env_or("GSMS_BASE_URL", "https://gameserverms.xboxlive.com")),
                 cfg.auth_token(sample::env_or("GSMS_TOKEN", "XBL3.0 x=dev;dev-token")),
                 cfg.callback_mode(gsms::CallbackMode::OnDispatch)}) {
    if (!r) return fail("configuration", r.error());
  }
  auto client = gsms::Client::create(cfg);
  if (!client) return fail("client", client.error());
  gsms::Client &c = *client;

  // 1. QoS: the regions' beacons, then latency to each.
  auto servers = run_frames<gsms::QosServersResult>(c, [&](auto done) { return c.get_qos_servers_async(true, done); });
  if (!servers) return fail("QoS servers", servers.error());
  gsms::QosProbe probe;
  if (auto r = probe.add_servers(*servers); !r) return fail("QoS probe", r.error());
  if (auto r = probe.options(5, 4, 250); !r) return fail("QoS probe", r.error());
  auto qos = run_frames<gsms::QosResult>(c, [&](auto done) { return c.measure_qos_async(probe, done); });
  if (!qos) return fail("QoS measurement", qos.error());
  for (const gsms::QosRegion &region : qos->regions()) {
    if (region.has_latency()) {
      std::printf("QoS %-16s %7.2f ms (%u/%u replies)\n", region.name.c_str(), region.latency_ms(), region.received,
                  region.sent);
    } else {
      std::printf("QoS %-16s no answer (%s)\n", region.name.c_str(), region.message.c_str());
    }
  }
  const std::string best = qos->best_region();
  if (best.empty()) {
    std::fprintf(stderr, "no region answered\n");
    return 1;
  }
  std::printf("Best region: %s\n", best.c_str());

  // 2. Variants: the first game mode, and a server image set of the same schema.
  gsms::VariantsRequest vreq(title);
  auto variants = run_frames<gsms::VariantsResult>(c, [&](auto done) { return c.get_variants_async(vreq, done); });
  if (!variants) return fail("variants", variants.error());
  const std::vector<gsms::Variant> modes = variants->variants();
  std::optional<gsms::GsiSet> gsi = modes.empty() ? std::nullopt : variants->gsi_set_for(modes.front());
  if (!gsi) {
    std::fprintf(stderr, "the title has no game variants or no GSI sets\n");
    return 1;
  }
  const gsms::Variant &variant = modes.front();
  std::printf("Variant: %s (%s); GSI set: %s (%s)\n", variant.name.c_str(), variant.id.c_str(), gsi->name.c_str(),
              gsi->id.c_str());

  // 3. An inline cluster for the ticket, in the best region, followed until Active.
  gsms::InlineClusterRequest req(title);
  const uint32_t players =
      gsi->max_allowed_players > 0 && gsi->max_allowed_players < 1000 ? static_cast<uint32_t>(gsi->max_allowed_players) : 8;
  for (auto r : {req.service_config_id("00000000-0000-0000-0000-000000000000"), req.sandbox_id("XDKS.1"),
                 req.ticket_id(ticket), req.gsi_set_id(gsi->id), req.game_variant_id(variant.id), req.location(best),
                 req.max_allowed_players(players)}) {
    if (!r) return fail("request", r.error());
  }
  auto server = run_frames<gsms::ClusterResult>(c, [&](auto done) {
    return c.allocate_inline_cluster_async(
        req, 60000,
        [](gsms::ClusterResultView queued) {  // inside dispatch(); `queued` is borrowed
          std::printf("Queued: no free server yet, polling again in %u ms (%u requests so far)\n",
                      queued.poll_interval_ms(), queued.attempts());
        },
        done);
  });
  if (!server) return fail("allocation", server.error());
  if (!server->fulfilled()) {
    std::fprintf(stderr, "no server: %s\n", gsms::state_name(server->state()));
    return 1;
  }
  auto status =
      run_frames<gsms::TicketResult>(c, [&](auto done) { return c.get_ticket_status_async(title, ticket, done); });
  if (!status) return fail("ticket status", status.error());
  if (!status->active()) {
    std::fprintf(stderr, "ticket %s is %s, not Active\n", ticket.c_str(), gsms::host_status_name(status->status()));
    return 1;
  }
  std::printf("Ticket %s Active after %u request(s): %s in %s\n", status->ticket_id().c_str(), server->attempts(),
              status->host_name().c_str(), status->region().c_str());

  // 4. Hello to the game server.
  const auto game = server->port("GameData");
  if (!game) {
    std::fprintf(stderr, "the answer has no GameData port\n");
    return 1;
  }
  const std::string host = server->host_name();
  std::printf("GameData: %s:%u (server port %u)\n", host.c_str(), game->external_port, game->internal_port);
  const auto echo = sample::udp_round_trip(host, game->external_port, "hello");
  if (!echo) {
    std::fprintf(stderr, "no UDP echo from the game server\n");
    return 1;
  }
  std::printf("UDP echo from %s:%u: %s\n", host.c_str(), game->external_port, echo->c_str());
  return 0;
}
