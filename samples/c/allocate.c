/* The smallest complete libgsms program: ask GSMS for a game server for one MPSD session,
 * wait (blocking) until one is allocated, and print where to connect.
 *
 *   allocate [session-name]
 * Environment: GSMS_BASE_URL (default https://gameserverms.xboxlive.com), GSMS_TOKEN (the whole
 * Authorization value; default "XBL3.0 x=dev;dev-token", which the emulator accepts),
 * GSMS_TITLE_ID (default 123). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsms.h>

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return (v && *v) ? v : fallback;
}

int main(int argc, char **argv) {
  const char *session = argc > 1 ? argv[1] : "c-sample";
  gsms_config *cfg = gsms_config_new();
  gsms_client *client = NULL;
  gsms_cluster_request *req = NULL;
  gsms_cluster_result *res = NULL;
  gsms_status st;
  int rc = 1;

  if (gsms_config_set_base_url(cfg, env_or("GSMS_BASE_URL", "https://gameserverms.xboxlive.com")) != GSMS_OK ||
      gsms_config_set_auth_token(cfg, env_or("GSMS_TOKEN", "XBL3.0 x=dev;dev-token")) != GSMS_OK ||
      gsms_client_new(cfg, &client) != GSMS_OK) {
    fprintf(stderr, "configuration: %s\n", gsms_last_error_message());
    goto done;
  }

  req = gsms_cluster_request_new((uint32_t)strtoul(env_or("GSMS_TITLE_ID", "123"), NULL, 10));
  if (gsms_cluster_request_set_session(req, "00000000-0000-0000-0000-000000000000", "quick", session) != GSMS_OK) {
    fprintf(stderr, "request: %s\n", gsms_last_error_message());
    goto done;
  }

  /* POST, then poll while Queued; give up after 60 s. Blocking: never on a game's frame thread. */
  st = gsms_client_allocate_cluster(client, req, 60000, &res);
  if (st != GSMS_OK) {
    /* The result carries the details; without one (bad arguments), the thread's last error does
     * (copied: it is valid only until the next gsms call on this thread). */
    char why[512];
    snprintf(why, sizeof why, "%s", res ? gsms_cluster_result_error_message(res) : gsms_last_error_message());
    fprintf(stderr, "allocation failed: %s (HTTP %u, correlation id %s): %s\n", gsms_status_name(st),
            (unsigned)gsms_cluster_result_http_status(res), gsms_cluster_result_correlation_id(res), why);
    goto done;
  }
  if (gsms_cluster_result_fulfillment_state(res) != GSMS_FULFILLMENT_FULFILLED) {
    fprintf(stderr, "no server: fulfillment state %u\n", (unsigned)gsms_cluster_result_fulfillment_state(res));
    goto done;
  }

  printf("Fulfilled after %u request(s): region %s\n", (unsigned)gsms_cluster_result_attempts(res),
         gsms_cluster_result_region(res));
  for (size_t i = 0; i < gsms_cluster_result_port_count(res); i++) {
    const char *name;
    uint32_t internal_port, external_port;
    if (gsms_cluster_result_port(res, i, &name, &internal_port, &external_port) == GSMS_OK) {
      printf("  %s: connect to %s:%u (server port %u)\n", name, gsms_cluster_result_host_name(res),
             (unsigned)external_port, (unsigned)internal_port);
    }
  }
  rc = 0;

done:
  gsms_cluster_result_free(res); /* every *_free accepts NULL */
  gsms_cluster_request_free(req);
  gsms_client_free(client);
  gsms_config_free(cfg);
  return rc;
}
