/* The whole flow of a game joining a match through GSMS, in plain C (blocking calls: a tool, or a
 * game's background thread; see samples/cpp for the async way):
 *
 *   1. list the QoS servers (one per region) and measure latency to each: pick the best region;
 *   2. read the title's game variants and server image (GSI) sets: pick one of each;
 *   3. allocate an inline cluster (no MPSD) for a ticket, in the best region, and follow the
 *      ticket until it is Active;
 *   4. say hello over UDP to the server's GameData port.
 *
 *   full_flow [ticket-id]
 * Environment: GSMS_BASE_URL (default the real service; the discovery host follows it), GSMS_TOKEN
 * (the whole Authorization value; default "XBL3.0 x=dev;dev-token", which the emulator accepts),
 * GSMS_TITLE_ID (default 123). Against the emulator: gsms-emulator --udp-echo --region West:delay=5
 * --region East:delay=25 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gsms.h>

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return (v && *v) ? v : fallback;
}

/* Prints why a call failed, from its result's call info when there is one. */
static void report(const char *what, gsms_status st, const gsms_call_info *info) {
  fprintf(stderr, "%s failed: %s\n", what, info ? gsms_call_info_describe(info) : gsms_last_error_message());
  (void)st;
}

/* Sends "hello" to host:port over UDP and prints the echo (1 s timeout). 0 on success. */
static int udp_hello(const char *host, unsigned port) {
  struct addrinfo hints, *ai = NULL;
  char service[16], buf[256];
  struct timeval tv = {1, 0};
  int fd, rc = 1;
  ssize_t n;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  snprintf(service, sizeof service, "%u", port);
  if (getaddrinfo(host, service, &hints, &ai) != 0) return 1;
  fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (sendto(fd, "hello", 5, 0, ai->ai_addr, ai->ai_addrlen) == 5 && (n = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
      buf[n] = 0;
      printf("UDP echo from %s:%u: %s\n", host, port, buf);
      rc = 0;
    }
    close(fd);
  }
  freeaddrinfo(ai);
  return rc;
}

int main(int argc, char **argv) {
  uint32_t title = (uint32_t)strtoul(env_or("GSMS_TITLE_ID", "123"), NULL, 10);
  char ticket[96];
  gsms_config *cfg = gsms_config_new();
  gsms_client *client = NULL;
  gsms_qos_servers_result *servers = NULL;
  gsms_qos_probe *probe = gsms_qos_probe_new();
  gsms_qos_result *qos = NULL;
  gsms_variants_request *vreq = gsms_variants_request_new(title);
  gsms_variants_result *variants = NULL;
  gsms_inline_cluster_request *req = gsms_inline_cluster_request_new(title);
  gsms_cluster_result *res = NULL;
  const char *variant_id = NULL, *variant_name = NULL, *variant_schema = NULL, *gsi_id = NULL, *gsi_name = NULL;
  const char *best;
  uint64_t gsi_max = 0;
  gsms_status st;
  size_t i;
  int rc = 1;

  if (argc > 1) {
    snprintf(ticket, sizeof ticket, "%s", argv[1]);
  } else {
    snprintf(ticket, sizeof ticket, "ticket-%ld-%ld", (long)getpid(), (long)time(NULL));
  }
  if (gsms_config_set_base_url(cfg, env_or("GSMS_BASE_URL", "https://gameserverms.xboxlive.com")) != GSMS_OK ||
      gsms_config_set_auth_token(cfg, env_or("GSMS_TOKEN", "XBL3.0 x=dev;dev-token")) != GSMS_OK ||
      gsms_client_new(cfg, &client) != GSMS_OK) {
    fprintf(stderr, "configuration: %s\n", gsms_last_error_message());
    goto done;
  }

  /* 1. QoS: the regions' beacons, then latency to each. */
  st = gsms_client_get_qos_servers(client, 1, &servers);
  if (st != GSMS_OK) {
    report("QoS servers", st, gsms_qos_servers_result_info(servers));
    goto done;
  }
  if (gsms_qos_probe_add_servers(probe, servers) != GSMS_OK ||
      gsms_qos_probe_set_options(probe, 5, 4, 250) != GSMS_OK) {
    fprintf(stderr, "QoS probe: %s\n", gsms_last_error_message());
    goto done;
  }
  st = gsms_client_measure_qos(client, probe, &qos);
  if (st != GSMS_OK) {
    report("QoS measurement", st, gsms_qos_result_info(qos));
    goto done;
  }
  for (i = 0; i < gsms_qos_result_region_count(qos); i++) {
    const char *name;
    uint32_t latency_us, sent, received;
    gsms_qos_result_region(qos, i, &name, &latency_us, &sent, &received);
    if (latency_us == UINT32_MAX) {
      printf("QoS %-16s no answer (%s)\n", name, gsms_qos_result_region_message(qos, i));
    } else {
      printf("QoS %-16s %7.2f ms (%u/%u replies)\n", name, latency_us / 1000.0, (unsigned)received, (unsigned)sent);
    }
  }
  best = gsms_qos_result_best_region(qos);
  if (!*best) {
    fprintf(stderr, "no region answered\n");
    goto done;
  }
  printf("Best region: %s\n", best);

  /* 2. Variants: the first game mode, and a server image set of the same schema. */
  st = gsms_client_get_variants(client, vreq, &variants);
  if (st != GSMS_OK) {
    report("variants", st, gsms_variants_result_info(variants));
    goto done;
  }
  if (gsms_variants_result_variant(variants, 0, &variant_id, &variant_name, NULL, NULL, &variant_schema) != GSMS_OK) {
    fprintf(stderr, "the title has no game variants\n");
    goto done;
  }
  for (i = 0; i < gsms_variants_result_gsi_set_count(variants); i++) {
    const char *id, *name, *schema;
    uint64_t max_players;
    gsms_variants_result_gsi_set(variants, i, &id, &name, NULL, &max_players, NULL, &schema);
    if (!gsi_id || strcmp(schema, variant_schema) == 0) {
      gsi_id = id;
      gsi_name = name;
      gsi_max = max_players;
      if (strcmp(schema, variant_schema) == 0) break;
    }
  }
  if (!gsi_id) {
    fprintf(stderr, "the title has no GSI sets\n");
    goto done;
  }
  printf("Variant: %s (%s); GSI set: %s (%s)\n", variant_name, variant_id, gsi_name, gsi_id);

  /* 3. An inline cluster for the ticket, in the best region, followed until Active. */
  if (gsms_inline_cluster_request_set_service_config_id(req, "00000000-0000-0000-0000-000000000000") != GSMS_OK ||
      gsms_inline_cluster_request_set_sandbox_id(req, "XDKS.1") != GSMS_OK ||
      gsms_inline_cluster_request_set_ticket_id(req, ticket) != GSMS_OK ||
      gsms_inline_cluster_request_set_gsi_set_id(req, gsi_id) != GSMS_OK ||
      gsms_inline_cluster_request_set_game_variant_id(req, variant_id) != GSMS_OK ||
      gsms_inline_cluster_request_set_location(req, best) != GSMS_OK ||
      gsms_inline_cluster_request_set_max_allowed_players(req, gsi_max > 0 && gsi_max < 1000 ? (uint32_t)gsi_max : 8) !=
          GSMS_OK) {
    fprintf(stderr, "request: %s\n", gsms_last_error_message());
    goto done;
  }
  st = gsms_client_allocate_inline_cluster(client, req, 60000, &res);
  if (st != GSMS_OK) {
    report("allocation", st, gsms_cluster_result_info(res));
    goto done;
  }
  if (gsms_cluster_result_fulfillment_state(res) != GSMS_FULFILLMENT_FULFILLED) {
    fprintf(stderr, "no server: %s\n", gsms_fulfillment_state_name(gsms_cluster_result_fulfillment_state(res)));
    goto done;
  }
  printf("Ticket %s Active after %u request(s): %s in %s\n", ticket, (unsigned)gsms_cluster_result_attempts(res),
         gsms_cluster_result_host_name(res), gsms_cluster_result_region(res));

  /* 4. Hello to the game server. */
  for (i = 0; i < gsms_cluster_result_port_count(res); i++) {
    const char *name;
    uint32_t internal_port, external_port;
    if (gsms_cluster_result_port(res, i, &name, &internal_port, &external_port) == GSMS_OK &&
        strcmp(name, "GameData") == 0) {
      printf("GameData: %s:%u (server port %u)\n", gsms_cluster_result_host_name(res), (unsigned)external_port,
             (unsigned)internal_port);
      rc = udp_hello(gsms_cluster_result_host_name(res), (unsigned)external_port);
      if (rc != 0) fprintf(stderr, "no UDP echo from the game server\n");
      break;
    }
  }

done:
  gsms_cluster_result_free(res); /* every *_free accepts NULL */
  gsms_inline_cluster_request_free(req);
  gsms_variants_result_free(variants);
  gsms_variants_request_free(vreq);
  gsms_qos_result_free(qos);
  gsms_qos_probe_free(probe);
  gsms_qos_servers_result_free(servers);
  gsms_client_free(client);
  gsms_config_free(cfg);
  return rc;
}
