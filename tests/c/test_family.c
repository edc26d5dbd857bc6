/* End-to-end test of the rest of the service family through the C ABI (FAMILY.md): variants, QoS
   servers and QoS measurement, inline clusters and ticket status, session hosts and allocation
   status; each call blocking and async (callbacks and polling), real values, error paths (invalid
   arguments send nothing), and gsms_operation_take_<x>_result refusing an operation of another
   kind. Runs against the emulator scripts/lib.sh starts for it (c_test_emulators, FAM_URL):
     --servers 2 --poll-ms 100 --lifetime-secs 1 --titles 1234,4321,77 --no-subscriptions 77
     --session-hosts 2 --activation-ms 250 --region "West US:delay=1" --region "North Europe:delay=25"
   Usage: test_family <base-url> */
#include "gsms.h"

#include <pthread.h>
#include <stdint.h>

#include "check.h"

#define TITLE 1234
#define BUSY_TITLE 4321
#define NO_SUBSCRIPTIONS_TITLE 77
#define TOKEN "XBL3.0 x=1234567890;c-family-token"
#define WEST "West US"
#define EUROPE "North Europe"
/* sessionCookie: at most 32 KiB (FAMILY.md). */
#define COOKIE_LIMIT (32 * 1024)

/* The emulator's sample catalogue (gsms_emulator::VariantCatalogue::sample). */
#define STANDARD_SCHEMA "6f1d2c1e-0000-4000-8000-00000000a001"
#define COMMUNITY_SCHEMA "6f1d2c1e-0000-4000-8000-00000000a002"

static const char *g_base;

static gsms_client *client(uint32_t mode) {
  gsms_config *c = gsms_config_new();
  gsms_client *cl = NULL;
  CHECK(c != NULL);
  /* One URL for both hosts: the discovery URL follows the base URL (FAMILY.md "Hosts"). */
  CHECK_STATUS(gsms_config_set_base_url(c, g_base), GSMS_OK);
  CHECK_STATUS(gsms_config_set_auth_token(c, TOKEN), GSMS_OK);
  CHECK_STATUS(gsms_config_set_timeouts(c, 2000, 3000), GSMS_OK);
  CHECK_STATUS(gsms_config_set_retry_policy(c, 4, 10, 200), GSMS_OK);
  CHECK_STATUS(gsms_config_set_callback_mode(c, mode), GSMS_OK);
  CHECK_STATUS(gsms_client_new(c, &cl), GSMS_OK);
  gsms_config_free(c);
  return cl;
}

static int streq(const char *a, const char *b) { return a != NULL && b != NULL && strcmp(a, b) == 0; }

/* The exchange details every result carries, after a call the emulator answered 200. */
static void check_info_ok(const gsms_call_info *i) {
  CHECK(i != NULL);
  CHECK_STATUS(gsms_call_info_status(i), GSMS_OK);
  CHECK(gsms_call_info_http_status(i) == 200);
  CHECK(gsms_call_info_attempts(i) >= 1);
  CHECK(strlen(gsms_call_info_correlation_id(i)) > 0);
  CHECK(streq(gsms_call_info_error_message(i), ""));
  CHECK(gsms_call_info_raw_json(i)[0] == '{');
  CHECK(strstr(gsms_call_info_describe(i), "GSMS_OK") != NULL);
}

static void admin_json(const char *method, const char *path, const char *body) {
  int st = emu_admin(g_base, method, path, body, NULL, 0);
  CHECK(st == 200 || st == 204);
}

/* ----- async plumbing: one state for every result type ----- */

typedef struct {
  int done;
  int progress;
  gsms_status status;
  void *kept; /* a clone of the result, of the callback's type */
} async_state;

/* A completion callback of result type T: records the status and keeps a clone. */
#define ON_DONE(name, T)                                          \
  static void name(void *ud, gsms_status st, const T##_result *r) { \
    async_state *s = (async_state *)ud;                           \
    s->status = st;                                               \
    s->kept = T##_result_clone(r);                                \
    __atomic_add_fetch(&s->done, 1, __ATOMIC_SEQ_CST);            \
  }
ON_DONE(on_variants, gsms_variants)
ON_DONE(on_qos_servers, gsms_qos_servers)
ON_DONE(on_qos, gsms_qos)
ON_DONE(on_cluster, gsms_cluster)
ON_DONE(on_ticket, gsms_ticket)
ON_DONE(on_session_host, gsms_session_host)

static void on_cluster_progress(void *ud, const gsms_cluster_result *queued) {
  async_state *s = (async_state *)ud;
  if (gsms_cluster_result_fulfillment_state(queued) == GSMS_FULFILLMENT_QUEUED) __atomic_add_fetch(&s->progress, 1, __ATOMIC_SEQ_CST);
}

static void on_session_host_progress(void *ud, const gsms_session_host_result *queued) {
  async_state *s = (async_state *)ud;
  (void)queued;
  __atomic_add_fetch(&s->progress, 1, __ATOMIC_SEQ_CST);
}

static void never_called(void *ud, gsms_status st, const gsms_ticket_result *r) {
  (void)ud;
  (void)st;
  (void)r;
  CHECK(!"a refused async call never calls on_done");
}

/* Dispatches (ON_DISPATCH) until the callback ran once or ms passed. */
static int wait_done(async_state *s, gsms_client *cl, int ms) {
  double end = now_ms() + ms;
  while (__atomic_load_n(&s->done, __ATOMIC_SEQ_CST) == 0 && now_ms() < end) {
    gsms_client_dispatch(cl, 0);
    sleep_ms(2);
  }
  return __atomic_load_n(&s->done, __ATOMIC_SEQ_CST);
}

/* Polls an operation with the take function of its kind until it is not PENDING. */
#define TAKE_UNTIL_DONE(take, op, out, st)                     \
  do {                                                         \
    double end_ = now_ms() + 10000;                            \
    while (((st) = take((op), (out))) == GSMS_PENDING && now_ms() < end_) sleep_ms(2); \
  } while (0)

/* Every take of another kind refuses the operation and writes nothing. */
static void check_other_kinds_refused(gsms_operation *op, const char *kind) {
  gsms_cluster_result *c = (gsms_cluster_result *)(uintptr_t)1;
  gsms_ticket_result *t = (gsms_ticket_result *)(uintptr_t)1;
  gsms_variants_result *v = (gsms_variants_result *)(uintptr_t)1;
  gsms_qos_servers_result *qs = (gsms_qos_servers_result *)(uintptr_t)1;
  gsms_qos_result *q = (gsms_qos_result *)(uintptr_t)1;
  gsms_session_host_result *sh = (gsms_session_host_result *)(uintptr_t)1;
  if (strcmp(kind, "cluster") != 0) {
    CHECK_STATUS(gsms_operation_take_result(op, &c), GSMS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(gsms_operation_take_cluster_result(op, &c), GSMS_ERR_INVALID_ARGUMENT);
  }
  if (strcmp(kind, "ticket") != 0) CHECK_STATUS(gsms_operation_take_ticket_result(op, &t), GSMS_ERR_INVALID_ARGUMENT);
  if (strcmp(kind, "variants") != 0) CHECK_STATUS(gsms_operation_take_variants_result(op, &v), GSMS_ERR_INVALID_ARGUMENT);
  if (strcmp(kind, "qos_servers") != 0)
    CHECK_STATUS(gsms_operation_take_qos_servers_result(op, &qs), GSMS_ERR_INVALID_ARGUMENT);
  if (strcmp(kind, "qos") != 0) CHECK_STATUS(gsms_operation_take_qos_result(op, &q), GSMS_ERR_INVALID_ARGUMENT);
  if (strcmp(kind, "session_host") != 0)
    CHECK_STATUS(gsms_operation_take_session_host_result(op, &sh), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(strlen(gsms_last_error_message()) > 0);
  CHECK(c == (void *)(uintptr_t)1 && t == (void *)(uintptr_t)1 && v == (void *)(uintptr_t)1);
  CHECK(qs == (void *)(uintptr_t)1 && q == (void *)(uintptr_t)1 && sh == (void *)(uintptr_t)1);
}

static gsms_inline_cluster_request *inline_request(uint32_t title, const char *ticket, const char *location) {
  gsms_inline_cluster_request *r = gsms_inline_cluster_request_new(title);
  CHECK(r != NULL);
  CHECK_STATUS(gsms_inline_cluster_request_set_service_config_id(r, "00000000-0000-0000-0000-000000000000"), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_sandbox_id(r, "XDKS.1"), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_ticket_id(r, ticket), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_gsi_set_id(r, "9c4a1d7e-0000-4000-8000-00000000c001"), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_game_variant_id(r, "3b0e7f52-0000-4000-8000-00000000b001"), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_location(r, location), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_max_allowed_players(r, 8), GSMS_OK);
  return r;
}

static gsms_session_host_request *session_host_request(uint32_t title, const char *session_id) {
  gsms_session_host_request *r = gsms_session_host_request_new(title);
  CHECK(r != NULL);
  CHECK_STATUS(gsms_session_host_request_set_session_id(r, session_id), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_set_cloud_game_id(r, "9c4a1d7e-0000-4000-8000-00000000c001"), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_add_location(r, "Nowhere"), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_add_location(r, WEST), GSMS_OK);
  return r;
}

/* ----- invalid arguments: refused, nothing sent ----- */

static void test_invalid_arguments(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_DISPATCH);
  gsms_inline_cluster_request *ir = gsms_inline_cluster_request_new(TITLE);
  gsms_session_host_request *sr = gsms_session_host_request_new(TITLE);
  gsms_variants_request *vr = gsms_variants_request_new(TITLE);
  gsms_qos_probe *p = gsms_qos_probe_new();
  gsms_cluster_result *cres = (gsms_cluster_result *)(uintptr_t)1;
  gsms_ticket_result *tres = (gsms_ticket_result *)(uintptr_t)1;
  gsms_session_host_result *sres = (gsms_session_host_result *)(uintptr_t)1;
  gsms_variants_result *vres = NULL;
  gsms_qos_servers_result *qsres = (gsms_qos_servers_result *)(uintptr_t)1;
  gsms_qos_result *qres = (gsms_qos_result *)(uintptr_t)1;
  gsms_operation *op = NULL;
  char *cookie;
  long before = emu_request_count(g_base);

  CHECK(before >= 0);
  /* Inline clusters: every field required; text non-empty without control characters. */
  CHECK_STATUS(gsms_client_create_inline_cluster(cl, ir, &cres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(cres == NULL); /* nothing is known */
  CHECK(strstr(gsms_last_error_message(), "serviceConfigId") != NULL);
  CHECK_STATUS(gsms_inline_cluster_request_set_service_config_id(ir, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_sandbox_id(ir, "XDKS\n1"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_ticket_id(ir, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_gsi_set_id(ir, "\xff\xfe"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gsms_last_error_message(), "UTF-8") != NULL);
  CHECK_STATUS(gsms_inline_cluster_request_set_game_variant_id(ir, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_location(ir, "West\r\nUS"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_max_allowed_players(ir, 0), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_inline_cluster_request_set_abort_if_queued(ir, 2), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_allocate_inline_cluster(cl, ir, 0, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_create_inline_cluster_async(cl, ir, on_cluster, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
  CHECK_STATUS(gsms_client_allocate_inline_cluster_async(cl, ir, 0, NULL, NULL, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
  gsms_inline_cluster_request_free(ir);
  ir = inline_request(TITLE, "c-nobody", WEST);
  CHECK_STATUS(gsms_client_create_inline_cluster_async(cl, ir, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);

  /* Ticket status and allocation status: the id is required text. */
  CHECK_STATUS(gsms_client_get_ticket_status(cl, TITLE, "", &tres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(tres == NULL);
  CHECK_STATUS(gsms_client_get_ticket_status(cl, TITLE, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_get_ticket_status(cl, TITLE, "t\x01", NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_get_ticket_status_async(cl, TITLE, "", never_called, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
  CHECK_STATUS(gsms_client_get_ticket_status_async(cl, TITLE, "t", NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_get_allocation_status(cl, TITLE, "", &sres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(sres == NULL);
  CHECK_STATUS(gsms_client_get_allocation_status_async(cl, TITLE, NULL, on_session_host, NULL, &op),
               GSMS_ERR_INVALID_ARGUMENT);

  /* Session hosts: session id, cloud game id and a location required; a cookie of at most 32 KiB. */
  CHECK_STATUS(gsms_client_create_session_host(cl, sr, &sres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(sres == NULL);
  CHECK_STATUS(gsms_session_host_request_set_session_id(sr, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_session_host_request_set_cloud_game_id(sr, "a\tb"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_session_host_request_add_location(sr, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_session_host_request_set_game_mode_id(sr, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_session_host_request_set_sandbox_id(sr, NULL), GSMS_ERR_INVALID_ARGUMENT);
  cookie = (char *)malloc(COOKIE_LIMIT + 2);
  memset(cookie, 'c', COOKIE_LIMIT + 1);
  cookie[COOKIE_LIMIT + 1] = 0;
  CHECK_STATUS(gsms_session_host_request_set_session_cookie(sr, cookie), GSMS_ERR_INVALID_ARGUMENT);
  cookie[COOKIE_LIMIT] = 0;
  CHECK_STATUS(gsms_session_host_request_set_session_cookie(sr, cookie), GSMS_OK);
  free(cookie);
  CHECK_STATUS(gsms_session_host_request_set_session_id(sr, "6f1d2c1e-0000-4000-8000-0000000000ff"), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_set_cloud_game_id(sr, "gsi"), GSMS_OK);
  CHECK_STATUS(gsms_client_allocate_session_host(cl, sr, 0, &sres), GSMS_ERR_INVALID_ARGUMENT); /* no location */
  CHECK(strstr(gsms_last_error_message(), "location") != NULL);
  CHECK_STATUS(gsms_client_create_session_host_async(cl, sr, on_session_host, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_allocate_session_host_async(cl, sr, 0, NULL, on_session_host, NULL, &op),
               GSMS_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);

  /* Variants: flags 0/1, locale and tag names non-empty. */
  CHECK_STATUS(gsms_variants_request_set_publisher_only(vr, 2), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_variants_request_set_locale(vr, ""), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_variants_request_add_tag(vr, "", "v"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_variants_request_add_tag(vr, "mode", "a\nb"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_get_variants(cl, NULL, &vres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(vres == NULL);
  CHECK_STATUS(gsms_client_get_variants_async(cl, vr, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);

  /* QoS servers: cross_platform is 0 or 1. QoS probes: ranges, duplicates, no targets. */
  CHECK_STATUS(gsms_client_get_qos_servers(cl, 2, &qsres), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(qsres == NULL);
  CHECK_STATUS(gsms_client_get_qos_servers_async(cl, 2, on_qos_servers, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_measure_qos(cl, p, &qres), GSMS_ERR_INVALID_ARGUMENT); /* no targets */
  CHECK(qres == NULL);
  CHECK_STATUS(gsms_client_measure_qos_async(cl, p, on_qos, NULL, &op), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
  CHECK_STATUS(gsms_qos_probe_add_target(p, WEST, "127.0.0.1", 65536), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_add_target(p, "", "127.0.0.1", 0), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_add_target(p, WEST, "", 0), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_add_target(p, WEST, "127.0.0.1", 0), GSMS_OK);
  CHECK_STATUS(gsms_qos_probe_add_target(p, WEST, "127.0.0.2", 0), GSMS_ERR_INVALID_ARGUMENT); /* duplicate */
  CHECK(gsms_qos_probe_target_count(p) == 1);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 0, 4, 250), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 10, 65, 250), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 10, 4, 10001), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_qos_probe_add_servers(p, NULL), GSMS_ERR_INVALID_ARGUMENT);

  /* Getters tolerate NULL. */
  CHECK(gsms_ticket_result_status(NULL) == GSMS_HOST_UNKNOWN);
  CHECK(gsms_ticket_result_info(NULL) == NULL);
  CHECK(streq(gsms_ticket_result_ticket_id(NULL), ""));
  CHECK(gsms_session_host_result_fulfillment_state(NULL) == GSMS_FULFILLMENT_UNKNOWN);
  CHECK(gsms_variants_result_variant_count(NULL) == 0);
  CHECK(gsms_qos_servers_result_count(NULL) == 0);
  CHECK(streq(gsms_qos_result_best_region(NULL), ""));
  CHECK(streq(gsms_host_status_name(GSMS_HOST_ACTIVE), "GSMS_HOST_ACTIVE"));
  CHECK(streq(gsms_host_status_name(99), "GSMS_HOST_UNKNOWN"));

  CHECK(emu_request_count(g_base) == before); /* nothing was sent */

  gsms_inline_cluster_request_free(ir);
  gsms_session_host_request_free(sr);
  gsms_variants_request_free(vr);
  gsms_qos_probe_free(p);
  gsms_client_free(cl);
}

/* ----- variants ----- */

static void check_catalogue(const gsms_variants_result *r) {
  const char *id = NULL, *name = NULL, *schema = NULL, *content = NULL;
  uint32_t publisher = 9;
  uint64_t rank = 0, min = 0, max = 0, order = 0;

  CHECK(gsms_variants_result_variant_count(r) == 3);
  CHECK_STATUS(gsms_variants_result_variant(r, 0, &id, &name, &publisher, &rank, &schema), GSMS_OK);
  CHECK(streq(id, "3b0e7f52-0000-4000-8000-00000000b001") && streq(name, "Deathmatch"));
  CHECK(publisher == 1 && rank == 1 && streq(schema, STANDARD_SCHEMA));
  CHECK_STATUS(gsms_variants_result_variant(r, 2, &id, &name, &publisher, &rank, &schema), GSMS_OK);
  CHECK(streq(name, "Community Playlist") && publisher == 0 && rank == 3 && streq(schema, COMMUNITY_SCHEMA));
  CHECK_STATUS(gsms_variants_result_variant(r, 0, NULL, NULL, NULL, NULL, NULL), GSMS_OK);
  id = NULL;
  CHECK_STATUS(gsms_variants_result_variant(r, 3, &id, NULL, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(id == NULL);

  CHECK(gsms_variants_result_schema_count(r) == 2);
  CHECK_STATUS(gsms_variants_result_schema(r, 0, &id, &name, &content), GSMS_OK);
  CHECK(streq(id, STANDARD_SCHEMA) && streq(name, "Standard rules"));
  CHECK(strstr(content, "<variantSchema") != NULL && strstr(content, "scoreLimit") != NULL);
  CHECK_STATUS(gsms_variants_result_schema(r, 2, &id, &name, &content), GSMS_ERR_INVALID_ARGUMENT);

  CHECK(gsms_variants_result_gsi_set_count(r) == 2);
  CHECK_STATUS(gsms_variants_result_gsi_set(r, 0, &id, &name, &min, &max, &order, &schema), GSMS_OK);
  CHECK(streq(id, "9c4a1d7e-0000-4000-8000-00000000c001") && streq(name, "Standard (8 players)"));
  CHECK(min == 2 && max == 8 && order == 1 && streq(schema, STANDARD_SCHEMA));
  CHECK_STATUS(gsms_variants_result_gsi_set(r, 1, &id, &name, &min, &max, &order, &schema), GSMS_OK);
  CHECK(min == 4 && max == 16 && order == 2 && streq(schema, COMMUNITY_SCHEMA));
  CHECK_STATUS(gsms_variants_result_gsi_set(r, 2, NULL, NULL, NULL, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(gsms_variants_result_gsi_set_tag_count(r, 0) == 1);
  CHECK(gsms_variants_result_gsi_set_tag_count(r, 1) == 2);
  CHECK(gsms_variants_result_gsi_set_tag_count(r, 2) == 0);
  CHECK_STATUS(gsms_variants_result_gsi_set_tag(r, 0, 0, &name, &content), GSMS_OK);
  CHECK(streq(name, "mode") && streq(content, "ranked"));
  CHECK_STATUS(gsms_variants_result_gsi_set_tag(r, 1, 1, &name, &content), GSMS_OK);
  CHECK(streq(name, "size") && streq(content, "large"));
  CHECK_STATUS(gsms_variants_result_gsi_set_tag(r, 0, 1, &name, &content), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_variants_result_gsi_set_tag(r, 2, 0, &name, &content), GSMS_ERR_INVALID_ARGUMENT);
}

static void test_variants(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_DISPATCH);
  gsms_variants_request *r = gsms_variants_request_new(TITLE);
  gsms_variants_result *res = NULL, *copy;
  gsms_operation *op = NULL;
  async_state s;
  gsms_status st;
  uint32_t publisher = 9;

  CHECK_STATUS(gsms_variants_request_set_locale(r, "en-gb"), GSMS_OK);
  CHECK_STATUS(gsms_variants_request_set_max_allowed_players(r, 16), GSMS_OK);
  CHECK_STATUS(gsms_variants_request_add_tag(r, "mode", "ranked"), GSMS_OK);
  CHECK_STATUS(gsms_variants_request_add_tag(r, "empty", ""), GSMS_OK);
  CHECK_STATUS(gsms_client_get_variants(cl, r, &res), GSMS_OK);
  check_info_ok(gsms_variants_result_info(res));
  check_catalogue(res);
  copy = gsms_variants_result_clone(res);
  gsms_variants_result_free(res);
  check_catalogue(copy);
  gsms_variants_result_free(copy);

  /* publisherOnly and maxVariants narrow the variants; schemas and GSI sets stay. */
  CHECK_STATUS(gsms_variants_request_set_publisher_only(r, 1), GSMS_OK);
  CHECK_STATUS(gsms_client_get_variants(cl, r, &res), GSMS_OK);
  CHECK(gsms_variants_result_variant_count(res) == 2);
  CHECK_STATUS(gsms_variants_result_variant(res, 1, NULL, NULL, &publisher, NULL, NULL), GSMS_OK);
  CHECK(publisher == 1);
  CHECK(gsms_variants_result_gsi_set_count(res) == 2);
  gsms_variants_result_free(res);
  CHECK_STATUS(gsms_variants_request_set_publisher_only(r, 0), GSMS_OK);
  CHECK_STATUS(gsms_variants_request_set_max_variants(r, 1), GSMS_OK);
  CHECK_STATUS(gsms_client_get_variants(cl, r, &res), GSMS_OK);
  CHECK(gsms_variants_result_variant_count(res) == 1);
  gsms_variants_result_free(res);
  CHECK_STATUS(gsms_variants_request_set_max_variants(r, 0), GSMS_OK);

  /* Async with a callback (on dispatch), then polling. */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_get_variants_async(cl, r, on_variants, &s, &op), GSMS_OK);
  CHECK(s.done == 0);
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_OK && s.kept != NULL);
  if (s.kept) check_catalogue((gsms_variants_result *)s.kept);
  gsms_variants_result_free((gsms_variants_result *)s.kept);
  check_other_kinds_refused(op, "variants");
  gsms_operation_free(op);

  CHECK_STATUS(gsms_client_get_variants_async(cl, r, NULL, NULL, &op), GSMS_OK);
  TAKE_UNTIL_DONE(gsms_operation_take_variants_result, op, &res, st);
  CHECK(st == GSMS_OK);
  check_catalogue(res);
  gsms_variants_result_free(res);
  CHECK_STATUS(gsms_operation_take_variants_result(op, NULL), GSMS_OK); /* again */
  gsms_operation_free(op);

  gsms_variants_request_free(r);
  gsms_client_free(cl);
}

/* ----- QoS servers and measurement ----- */

static void test_qos(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_DISPATCH);
  gsms_qos_servers_result *servers = NULL, *legacy = NULL;
  gsms_qos_probe *p = gsms_qos_probe_new();
  gsms_qos_result *q = NULL, *copy;
  gsms_operation *op = NULL;
  async_state s;
  gsms_status st;
  const char *fqdn = NULL, *secure = NULL, *location = NULL, *name = NULL;
  uint32_t lat0 = 0, lat1 = 0, lat2 = 0, sent = 0, received = 0;
  size_t i;
  int saw_west = 0, saw_europe = 0;

  CHECK_STATUS(gsms_client_get_qos_servers(cl, 1, &servers), GSMS_OK);
  check_info_ok(gsms_qos_servers_result_info(servers));
  CHECK(gsms_qos_servers_result_count(servers) == 2);
  for (i = 0; i < gsms_qos_servers_result_count(servers); i++) {
    CHECK_STATUS(gsms_qos_servers_result_server(servers, i, &fqdn, &secure, &location), GSMS_OK);
    CHECK(strncmp(fqdn, "127.0.0.1:", 10) == 0 && atoi(fqdn + 10) > 0);
    CHECK(strlen(secure) > 0);
    if (streq(location, WEST)) saw_west = 1;
    if (streq(location, EUROPE)) saw_europe = 1;
  }
  CHECK(saw_west && saw_europe);
  CHECK_STATUS(gsms_qos_servers_result_server(servers, 2, &fqdn, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_client_get_qos_servers(cl, 0, &legacy), GSMS_OK); /* /qosservers */
  CHECK(gsms_qos_servers_result_count(legacy) == 2);
  gsms_qos_servers_result_free(legacy);

  /* Both regions, plus one whose beacon never answers (UDP port 9 on loopback: nothing there). */
  CHECK_STATUS(gsms_qos_probe_add_servers(p, servers), GSMS_OK);
  CHECK(gsms_qos_probe_target_count(p) == 2);
  CHECK_STATUS(gsms_qos_probe_add_servers(p, servers), GSMS_ERR_INVALID_ARGUMENT); /* all or nothing */
  CHECK(gsms_qos_probe_target_count(p) == 2);
  CHECK_STATUS(gsms_qos_probe_add_target(p, "Silent", "127.0.0.1", 9), GSMS_OK);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 5, 4, 200), GSMS_OK);
  CHECK_STATUS(gsms_client_measure_qos(cl, p, &q), GSMS_OK);
  CHECK(gsms_qos_result_region_count(q) == 3);
  CHECK_STATUS(gsms_qos_result_region(q, 0, &name, &lat0, &sent, &received), GSMS_OK);
  CHECK(streq(name, WEST) && sent == 5 && received == 5 && lat0 != UINT32_MAX);
  CHECK(streq(gsms_qos_result_region_message(q, 0), ""));
  CHECK(strncmp(gsms_qos_result_region_address(q, 0), "127.0.0.1:", 10) == 0);
  CHECK_STATUS(gsms_qos_result_region(q, 1, &name, &lat1, &sent, &received), GSMS_OK);
  CHECK(streq(name, EUROPE) && received == 5 && lat1 != UINT32_MAX);
  CHECK(lat1 > lat0 && lat1 >= 20000); /* 25 ms beacon delay, in us */
  CHECK_STATUS(gsms_qos_result_region(q, 2, &name, &lat2, &sent, &received), GSMS_OK);
  CHECK(streq(name, "Silent") && lat2 == UINT32_MAX && sent == 5 && received == 0);
  CHECK(strlen(gsms_qos_result_region_message(q, 2)) > 0);
  CHECK_STATUS(gsms_qos_result_region(q, 3, &name, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(streq(gsms_qos_result_region_message(q, 3), ""));
  CHECK(streq(gsms_qos_result_best_region(q), WEST));
  CHECK(gsms_qos_result_info(q) != NULL && gsms_call_info_status(gsms_qos_result_info(q)) == GSMS_OK);
  CHECK(gsms_call_info_attempts(gsms_qos_result_info(q)) == 15); /* probes sent */
  copy = gsms_qos_result_clone(q);
  gsms_qos_result_free(q);
  CHECK(streq(gsms_qos_result_best_region(copy), WEST));
  gsms_qos_result_free(copy);

  /* Async: QoS servers (callback), then a measurement by callback and by polling. */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_get_qos_servers_async(cl, 1, on_qos_servers, &s, &op), GSMS_OK);
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_OK && gsms_qos_servers_result_count((gsms_qos_servers_result *)s.kept) == 2);
  gsms_qos_servers_result_free((gsms_qos_servers_result *)s.kept);
  check_other_kinds_refused(op, "qos_servers");
  gsms_operation_free(op);
  CHECK_STATUS(gsms_client_get_qos_servers_async(cl, 1, NULL, NULL, &op), GSMS_OK);
  TAKE_UNTIL_DONE(gsms_operation_take_qos_servers_result, op, &legacy, st);
  CHECK(st == GSMS_OK && gsms_qos_servers_result_count(legacy) == 2);
  gsms_qos_servers_result_free(legacy);
  gsms_operation_free(op);

  gsms_qos_probe_free(p);
  p = gsms_qos_probe_new();
  CHECK_STATUS(gsms_qos_probe_add_servers(p, servers), GSMS_OK);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 3, 2, 500), GSMS_OK);
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_measure_qos_async(cl, p, on_qos, &s, &op), GSMS_OK);
  gsms_qos_probe_free(p); /* the measurement keeps its own copy */
  p = NULL;
  CHECK(wait_done(&s, cl, 10000) == 1);
  CHECK(s.status == GSMS_OK);
  CHECK(streq(gsms_qos_result_best_region((gsms_qos_result *)s.kept), WEST));
  gsms_qos_result_free((gsms_qos_result *)s.kept);
  check_other_kinds_refused(op, "qos");
  TAKE_UNTIL_DONE(gsms_operation_take_qos_result, op, &q, st);
  CHECK(st == GSMS_OK && gsms_qos_result_region_count(q) == 2);
  gsms_qos_result_free(q);
  gsms_operation_free(op);

  gsms_qos_servers_result_free(servers);
  gsms_client_free(cl);
}

/* ----- inline clusters and ticket status ----- */

static void check_ports_match(const gsms_cluster_result *c, const gsms_ticket_result *t) {
  size_t i, n = gsms_cluster_result_port_count(c);
  CHECK(n == 2 && gsms_ticket_result_port_count(t) == n);
  for (i = 0; i < n; i++) {
    const char *cn = NULL, *tn = NULL;
    uint32_t ci = 0, ce = 0, ti = 0, te = 0;
    CHECK_STATUS(gsms_cluster_result_port(c, i, &cn, &ci, &ce), GSMS_OK);
    CHECK_STATUS(gsms_ticket_result_port(t, i, &tn, &ti, &te), GSMS_OK);
    CHECK(streq(cn, tn) && ci == ti && ce == te && ce > 0);
  }
  CHECK_STATUS(gsms_ticket_result_port(t, n, NULL, NULL, NULL), GSMS_ERR_INVALID_ARGUMENT);
}

static void test_inline_clusters(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_DISPATCH);
  gsms_inline_cluster_request *r = inline_request(TITLE, "c-ticket/1 x", EUROPE);
  gsms_inline_cluster_request *hold_a = inline_request(BUSY_TITLE, "c-hold-a", WEST);
  gsms_inline_cluster_request *hold_b = inline_request(BUSY_TITLE, "c-hold-b", WEST);
  gsms_inline_cluster_request *impatient = inline_request(BUSY_TITLE, "c-impatient", WEST);
  gsms_inline_cluster_request *waiter = inline_request(BUSY_TITLE, "c-waiter", WEST);
  gsms_inline_cluster_request *doomed = inline_request(BUSY_TITLE, "c-doomed", WEST);
  gsms_cluster_result *c = NULL;
  gsms_ticket_result *t = NULL, *copy;
  gsms_operation *op = NULL;
  async_state s;
  gsms_status st;
  double end;

  /* One POST: Fulfilled at once (a free server); the ticket follows it, Active, same server. The
     ticket id has a '/' and a space: percent-encoded in the status path. */
  CHECK_STATUS(gsms_client_create_inline_cluster(cl, r, &c), GSMS_OK);
  check_info_ok(gsms_cluster_result_info(c));
  CHECK(gsms_cluster_result_fulfillment_state(c) == GSMS_FULFILLMENT_FULFILLED);
  CHECK(streq(gsms_cluster_result_host_name(c), "127.0.0.1"));
  CHECK(streq(gsms_cluster_result_region(c), EUROPE)); /* location names a configured region */
  CHECK_STATUS(gsms_client_get_ticket_status(cl, TITLE, "c-ticket/1 x", &t), GSMS_OK);
  check_info_ok(gsms_ticket_result_info(t));
  CHECK(gsms_ticket_result_status(t) == GSMS_HOST_ACTIVE);
  CHECK(streq(gsms_ticket_result_ticket_id(t), "c-ticket/1 x"));
  CHECK(gsms_ticket_result_title_id(t) == TITLE);
  CHECK(streq(gsms_ticket_result_host_name(t), "127.0.0.1"));
  CHECK(streq(gsms_ticket_result_region(t), EUROPE));
  CHECK(strlen(gsms_ticket_result_cluster_id(t)) > 0);
  CHECK(strlen(gsms_ticket_result_game_host_id(t)) > 0);
  CHECK(streq(gsms_ticket_result_secure_context(t), gsms_cluster_result_secure_context(c)));
  check_ports_match(c, t);
  copy = gsms_ticket_result_clone(t);
  gsms_ticket_result_free(t);
  CHECK(gsms_ticket_result_status(copy) == GSMS_HOST_ACTIVE);
  gsms_ticket_result_free(copy);
  gsms_cluster_result_free(c);

  /* An unknown ticket: 404, not retried: GSMS_ERR_HTTP_STATUS with the details. */
  CHECK_STATUS(gsms_client_get_ticket_status(cl, TITLE, "c-no-such-ticket", &t), GSMS_ERR_HTTP_STATUS);
  CHECK(t != NULL && gsms_call_info_http_status(gsms_ticket_result_info(t)) == 404);
  CHECK(gsms_call_info_attempts(gsms_ticket_result_info(t)) == 1);
  CHECK(gsms_ticket_result_status(t) == GSMS_HOST_UNKNOWN);
  CHECK(strlen(gsms_call_info_error_message(gsms_ticket_result_info(t))) > 0);
  gsms_ticket_result_free(t);

  /* Queued: both servers of BUSY_TITLE held (2.5 s lifetime). */
  CHECK_STATUS(gsms_client_create_inline_cluster(cl, hold_a, NULL), GSMS_OK);
  CHECK_STATUS(gsms_client_create_inline_cluster(cl, hold_b, NULL), GSMS_OK);
  CHECK_STATUS(gsms_inline_cluster_request_set_abort_if_queued(impatient, 1), GSMS_OK);
  CHECK_STATUS(gsms_client_allocate_inline_cluster(cl, impatient, 0, &c), GSMS_OK);
  CHECK(gsms_cluster_result_fulfillment_state(c) == GSMS_FULFILLMENT_ABORTED);
  gsms_cluster_result_free(c);
  CHECK_STATUS(gsms_client_allocate_inline_cluster(cl, waiter, 150, &c), GSMS_ERR_TIMEOUT);
  CHECK(gsms_cluster_result_fulfillment_state(c) == GSMS_FULFILLMENT_QUEUED);
  gsms_cluster_result_free(c);
  CHECK_STATUS(gsms_client_get_ticket_status(cl, BUSY_TITLE, "c-waiter", &t), GSMS_OK);
  CHECK(gsms_ticket_result_status(t) == GSMS_HOST_QUEUED);
  gsms_ticket_result_free(t);

  /* A queued ticket the service fails: the allocation (async, polling) ends ALLOCATION_FAILED. */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_allocate_inline_cluster_async(cl, doomed, 10000, on_cluster_progress, on_cluster, &s, &op),
               GSMS_OK);
  end = now_ms() + 5000;
  while (__atomic_load_n(&s.progress, __ATOMIC_SEQ_CST) == 0 && now_ms() < end) {
    gsms_client_dispatch(cl, 0);
    sleep_ms(2);
  }
  CHECK(s.progress >= 1);
  admin_json("POST", "/_emulator/tickets/c-doomed", "{\"status\":\"Error\",\"description\":\"c-no-capacity\"}");
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_ERR_ALLOCATION_FAILED);
  CHECK(s.kept != NULL && strstr(gsms_cluster_result_error_message((gsms_cluster_result *)s.kept), "c-no-capacity") != NULL);
  gsms_cluster_result_free((gsms_cluster_result *)s.kept);
  CHECK_STATUS(gsms_operation_take_cluster_result(op, &c), GSMS_ERR_ALLOCATION_FAILED);
  CHECK(c != NULL);
  gsms_cluster_result_free(c);
  check_other_kinds_refused(op, "cluster");
  gsms_operation_free(op);

  /* The waiter gets a server once the holders' lifetime ends (blocking, following its ticket). */
  CHECK_STATUS(gsms_client_allocate_inline_cluster(cl, waiter, 10000, &c), GSMS_OK);
  CHECK(gsms_cluster_result_fulfillment_state(c) == GSMS_FULFILLMENT_FULFILLED);
  CHECK(streq(gsms_cluster_result_host_name(c), "127.0.0.1") && gsms_cluster_result_port_count(c) == 2);
  CHECK(gsms_cluster_result_attempts(c) >= 2);
  gsms_cluster_result_free(c);

  /* Async create (callback), async ticket status (callback, then polling). */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_create_inline_cluster_async(cl, r, on_cluster, &s, NULL), GSMS_OK);
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_OK);
  CHECK(gsms_cluster_result_fulfillment_state((gsms_cluster_result *)s.kept) == GSMS_FULFILLMENT_FULFILLED);
  gsms_cluster_result_free((gsms_cluster_result *)s.kept);
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_get_ticket_status_async(cl, TITLE, "c-ticket/1 x", on_ticket, &s, &op), GSMS_OK);
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_OK && gsms_ticket_result_status((gsms_ticket_result *)s.kept) == GSMS_HOST_ACTIVE);
  gsms_ticket_result_free((gsms_ticket_result *)s.kept);
  check_other_kinds_refused(op, "ticket");
  gsms_operation_free(op);
  CHECK_STATUS(gsms_client_get_ticket_status_async(cl, TITLE, "c-no-such-ticket", NULL, NULL, &op), GSMS_OK);
  TAKE_UNTIL_DONE(gsms_operation_take_ticket_result, op, &t, st);
  CHECK(st == GSMS_ERR_HTTP_STATUS && t != NULL && gsms_call_info_http_status(gsms_ticket_result_info(t)) == 404);
  gsms_ticket_result_free(t);
  gsms_operation_free(op);

  gsms_inline_cluster_request_free(r);
  gsms_inline_cluster_request_free(hold_a);
  gsms_inline_cluster_request_free(hold_b);
  gsms_inline_cluster_request_free(impatient);
  gsms_inline_cluster_request_free(waiter);
  gsms_inline_cluster_request_free(doomed);
  gsms_client_free(cl);
}

/* ----- session hosts and allocation status ----- */

#define SESSION_A "6f1d2c1e-0000-4000-8000-00000000000a"
#define SESSION_B "6f1d2c1e-0000-4000-8000-00000000000b"
#define SESSION_C "6f1d2c1e-0000-4000-8000-00000000000c"

static void check_host(const gsms_session_host_result *h) {
  CHECK(gsms_session_host_result_fulfillment_state(h) == GSMS_FULFILLMENT_FULFILLED);
  CHECK(streq(gsms_session_host_result_host_name(h), "127.0.0.1"));
  CHECK(streq(gsms_session_host_result_region(h), WEST)); /* the first location that names a region */
  CHECK(strlen(gsms_session_host_result_session_host_id(h)) > 0);
  CHECK(gsms_session_host_result_port_count(h) >= 1);
}

static void test_session_hosts(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_DISPATCH);
  gsms_session_host_request *a = session_host_request(TITLE, SESSION_A);
  gsms_session_host_request *b = session_host_request(TITLE, SESSION_B);
  gsms_session_host_request *extra = session_host_request(TITLE, SESSION_C);
  gsms_session_host_request *unsubscribed = session_host_request(NO_SUBSCRIPTIONS_TITLE, SESSION_A);
  gsms_session_host_result *h = NULL, *copy;
  gsms_operation *op = NULL;
  async_state s;
  gsms_status st;
  const char *name = NULL;
  uint32_t in = 0, ex = 0;

  CHECK_STATUS(gsms_session_host_request_set_session_cookie(a, "{\"map\":\"harbour\"}"), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_set_game_mode_id(a, "3b0e7f52-0000-4000-8000-00000000b001"), GSMS_OK);
  CHECK_STATUS(gsms_session_host_request_set_sandbox_id(a, "XDKS.1"), GSMS_OK);

  /* The first POST claims a StandingBy host, which activates in 250 ms: 200 Queued. */
  CHECK_STATUS(gsms_client_create_session_host(cl, a, &h), GSMS_OK);
  check_info_ok(gsms_session_host_result_info(h));
  CHECK(gsms_session_host_result_fulfillment_state(h) == GSMS_FULFILLMENT_QUEUED);
  gsms_session_host_result_free(h);
  /* Again while activating: 409, an error for the one-POST call. */
  CHECK_STATUS(gsms_client_create_session_host(cl, a, &h), GSMS_ERR_HTTP_STATUS);
  CHECK(h != NULL && gsms_call_info_http_status(gsms_session_host_result_info(h)) == 409);
  gsms_session_host_result_free(h);
  /* The second host goes to B (async, following it); then no host stands by: 503, Retry-After 1 s
     beyond the policy's 200 ms max delay. */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_allocate_session_host_async(cl, b, 10000, on_session_host_progress, on_session_host, &s, &op),
               GSMS_OK);
  CHECK(wait_done(&s, cl, 10000) == 1);
  CHECK(s.status == GSMS_OK && s.progress >= 1);
  if (s.kept) check_host((gsms_session_host_result *)s.kept);
  gsms_session_host_result_free((gsms_session_host_result *)s.kept);
  check_other_kinds_refused(op, "session_host");
  TAKE_UNTIL_DONE(gsms_operation_take_session_host_result, op, &h, st);
  CHECK(st == GSMS_OK);
  check_host(h);
  gsms_session_host_result_free(h);
  gsms_operation_free(op);
  CHECK_STATUS(gsms_client_create_session_host(cl, extra, &h), GSMS_ERR_RETRIES_EXHAUSTED);
  CHECK(h != NULL && gsms_call_info_http_status(gsms_session_host_result_info(h)) == 503);
  CHECK(gsms_call_info_retry_after_ms(gsms_session_host_result_info(h)) == 1000);
  gsms_session_host_result_free(h);

  /* A follows its allocation to Fulfilled (blocking: POST 409 or Fulfilled, then status). */
  CHECK_STATUS(gsms_client_allocate_session_host(cl, a, 10000, &h), GSMS_OK);
  check_host(h);
  CHECK_STATUS(gsms_session_host_result_port(h, 0, &name, &in, &ex), GSMS_OK);
  CHECK(strlen(name) > 0 && ex > 0);
  CHECK_STATUS(gsms_session_host_result_port(h, gsms_session_host_result_port_count(h), NULL, NULL, NULL),
               GSMS_ERR_INVALID_ARGUMENT);
  copy = gsms_session_host_result_clone(h);
  gsms_session_host_result_free(h);
  check_host(copy);

  /* Allocation status: the same host, with the session id. */
  CHECK_STATUS(gsms_client_get_allocation_status(cl, TITLE, SESSION_A, &h), GSMS_OK);
  check_info_ok(gsms_session_host_result_info(h));
  check_host(h);
  CHECK(streq(gsms_session_host_result_session_id(h), SESSION_A));
  CHECK(streq(gsms_session_host_result_session_host_id(h), gsms_session_host_result_session_host_id(copy)));
  CHECK(strlen(gsms_session_host_result_cluster_id(h)) > 0);
  CHECK(strlen(gsms_session_host_result_game_host_id(h)) > 0);
  (void)gsms_session_host_result_description(h);
  (void)gsms_session_host_result_ticket_id(h);
  CHECK(streq(gsms_session_host_result_secure_context(h), gsms_session_host_result_secure_context(copy)));
  gsms_session_host_result_free(h);
  gsms_session_host_result_free(copy);

  /* Unknown session, title without subscriptions: 404. */
  CHECK_STATUS(gsms_client_get_allocation_status(cl, TITLE, "c-no-such-session", &h), GSMS_ERR_HTTP_STATUS);
  CHECK(h != NULL && gsms_call_info_http_status(gsms_session_host_result_info(h)) == 404);
  gsms_session_host_result_free(h);
  CHECK_STATUS(gsms_client_create_session_host(cl, unsubscribed, &h), GSMS_ERR_HTTP_STATUS);
  CHECK(h != NULL && gsms_call_info_http_status(gsms_session_host_result_info(h)) == 404);
  gsms_session_host_result_free(h);

  /* Async: create (an Active host answers Fulfilled again) and allocation status, polling. */
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_create_session_host_async(cl, a, on_session_host, &s, NULL), GSMS_OK);
  CHECK(wait_done(&s, cl, 5000) == 1);
  CHECK(s.status == GSMS_OK);
  if (s.kept) check_host((gsms_session_host_result *)s.kept);
  gsms_session_host_result_free((gsms_session_host_result *)s.kept);
  CHECK_STATUS(gsms_client_get_allocation_status_async(cl, TITLE, SESSION_B, NULL, NULL, &op), GSMS_OK);
  TAKE_UNTIL_DONE(gsms_operation_take_session_host_result, op, &h, st);
  CHECK(st == GSMS_OK && streq(gsms_session_host_result_session_id(h), SESSION_B));
  gsms_session_host_result_free(h);
  gsms_operation_free(op);

  gsms_session_host_request_free(a);
  gsms_session_host_request_free(b);
  gsms_session_host_request_free(extra);
  gsms_session_host_request_free(unsubscribed);
  gsms_client_free(cl);
}

/* ----- the whole flow, on a library thread ----- */

static void test_flow_on_worker(void) {
  gsms_client *cl = client(GSMS_CALLBACKS_ON_WORKER);
  gsms_qos_servers_result *servers = NULL;
  gsms_qos_probe *p = gsms_qos_probe_new();
  gsms_qos_result *q = NULL;
  gsms_inline_cluster_request *r;
  gsms_cluster_result *c = NULL;
  async_state s;
  double end;

  /* QoS servers -> measure -> best region -> allocate there. */
  CHECK_STATUS(gsms_client_get_qos_servers(cl, 1, &servers), GSMS_OK);
  CHECK_STATUS(gsms_qos_probe_add_servers(p, servers), GSMS_OK);
  CHECK_STATUS(gsms_qos_probe_set_options(p, 3, 4, 500), GSMS_OK);
  CHECK_STATUS(gsms_client_measure_qos(cl, p, &q), GSMS_OK);
  r = inline_request(TITLE, "c-flow", gsms_qos_result_best_region(q));
  memset(&s, 0, sizeof s);
  CHECK_STATUS(gsms_client_allocate_inline_cluster_async(cl, r, 10000, NULL, on_cluster, &s, NULL), GSMS_OK);
  end = now_ms() + 10000;
  while (__atomic_load_n(&s.done, __ATOMIC_SEQ_CST) == 0 && now_ms() < end) sleep_ms(2);
  CHECK(s.done == 1 && s.status == GSMS_OK);
  c = (gsms_cluster_result *)s.kept;
  CHECK(streq(gsms_cluster_result_region(c), WEST));
  gsms_cluster_result_free(c);
  gsms_inline_cluster_request_free(r);
  gsms_qos_result_free(q);
  gsms_qos_probe_free(p);
  gsms_qos_servers_result_free(servers);
  gsms_client_free(cl);
}

int main(int argc, char **argv) {
  g_base = argc > 1 ? argv[1] : getenv("GSMS_FAMILY_URL");
  if (!g_base) {
    fprintf(stderr, "usage: test_family <emulator base url>\n");
    return 2;
  }
  emu_reset(g_base);
  test_invalid_arguments();
  test_variants();
  test_qos();
  emu_reset(g_base);
  test_inline_clusters();
  emu_reset(g_base);
  test_session_hosts();
  emu_reset(g_base);
  test_flow_on_worker();
  return report("c-family");
}
