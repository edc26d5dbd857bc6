/* Stress through the C ABI: 4 threads start operations on 2 clients (one per callback mode), cancel
   a random fifth of them, and free the clients at the end; every operation must complete exactly
   once. Run natively and under valgrind by scripts/test_c.sh.
   Usage: test_stress <base-url> [operations-per-thread] */
#include "gsms.h"

#include <pthread.h>
#include <stdint.h>

#include "check.h"

#define THREADS 4

static const char *g_base;
static gsms_client *g_clients[2];
static int g_per_thread = 250;
static int *g_counts; /* completions per operation */
static int *g_status;

static void on_done(void *ud, gsms_status status, const gsms_cluster_result *r) {
  intptr_t id = (intptr_t)ud;
  (void)r;
  g_status[id] = (int)status;
  __atomic_add_fetch(&g_counts[id], 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg) {
  intptr_t t = (intptr_t)arg;
  gsms_client *c = g_clients[t % 2];
  uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)t;
  char session[200];
  int i;
  for (i = 0; i < g_per_thread; i++) {
    intptr_t id = t * g_per_thread + i;
    gsms_cluster_request *r = gsms_cluster_request_new(1234);
    gsms_operation *op = NULL;
    gsms_status st;
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    snprintf(session, sizeof session,
             "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/stress-%d", (int)id);
    gsms_cluster_request_set_session_id(r, session);
    st = (seed % 3 == 0) ? gsms_client_allocate_cluster_async(c, r, 5000, NULL, on_done, (void *)id, &op)
                         : gsms_client_create_cluster_async(c, r, on_done, (void *)id, &op);
    gsms_cluster_request_free(r);
    if (st != GSMS_OK) {
      g_counts[id] = -1000; /* a start that failed must never complete */
      continue;
    }
    if (seed % 5 == 0) gsms_operation_cancel(op);
    if (seed % 7 == 0) gsms_operation_cancel(op); /* double cancel */
    gsms_operation_free(op);
    if (t % 2 == 1 && i % 8 == 0) gsms_client_dispatch(c, 0);
  }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t th[THREADS];
  gsms_config *cfg;
  intptr_t t;
  int i, total, completed = 0, exactly_once = 1, ok = 0, cancelled = 0;
  double end;

  g_base = argc > 1 ? argv[1] : getenv("GSMS_BASE_URL");
  if (!g_base) return 2;
  if (argc > 2) g_per_thread = atoi(argv[2]);
  total = THREADS * g_per_thread;
  g_counts = (int *)calloc((size_t)total, sizeof(int));
  g_status = (int *)calloc((size_t)total, sizeof(int));
  emu_reset(g_base);
  emu_fault(g_base, "{\"status\":503,\"retryAfter\":\"0\",\"probability\":0.05}");

  cfg = gsms_config_new();
  gsms_config_set_base_url(cfg, g_base);
  gsms_config_set_auth_token(cfg, "XBL3.0 x=1;stress");
  gsms_config_set_retry_policy(cfg, 3, 1, 10);
  gsms_config_set_worker_threads(cfg, 4);
  gsms_config_set_callback_mode(cfg, GSMS_CALLBACKS_ON_WORKER);
  CHECK_STATUS(gsms_client_new(cfg, &g_clients[0]), GSMS_OK);
  gsms_config_set_callback_mode(cfg, GSMS_CALLBACKS_ON_DISPATCH);
  CHECK_STATUS(gsms_client_new(cfg, &g_clients[1]), GSMS_OK);
  gsms_config_free(cfg);

  for (t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, worker, (void *)t);
  for (t = 0; t < THREADS; t++) pthread_join(th[t], NULL);

  /* Let most finish normally, then free both clients: the rest complete with SHUTDOWN. */
  end = now_ms() + 3000;
  while (now_ms() < end) {
    completed = 0;
    for (i = 0; i < total; i++) completed += g_counts[i] == 1;
    if (completed == total) break;
    gsms_client_dispatch(g_clients[1], 0);
    sleep_ms(5);
  }
  gsms_client_free(g_clients[0]);
  gsms_client_free(g_clients[1]);

  for (i = 0; i < total; i++) {
    if (g_counts[i] != 1) exactly_once = 0;
    ok += g_status[i] == GSMS_OK;
    cancelled += g_status[i] == GSMS_ERR_CANCELLED;
  }
  CHECK(exactly_once);
  CHECK(ok > 0);
  CHECK(cancelled > 0);
  printf("stress: %d operations, %d ok, %d cancelled, %d other:", total, ok, cancelled, total - ok - cancelled);
  {
    int hist[16] = {0};
    for (i = 0; i < total; i++)
      if (g_status[i] >= 0 && g_status[i] < 16) hist[g_status[i]]++;
    for (i = 2; i < 16; i++)
      if (hist[i] && i != GSMS_ERR_CANCELLED) printf(" %s=%d", gsms_status_name((uint32_t)i), hist[i]);
    printf("\n");
  }
  emu_admin(g_base, "DELETE", "/_emulator/faults", NULL, NULL, 0);
  free(g_counts);
  free(g_status);
  return report("c-stress");
}
