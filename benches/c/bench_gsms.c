/* libgsms through its C ABI: the same POST as bench_curl, plus the async contract numbers.
 *
 *   bench_gsms warm   URL N [CAFILE]        one client, blocking calls, N timed after 200 warm-up calls
 *   bench_gsms cold   URL N [CAFILE]        new config + client (new connection, TLS handshake) per call
 *   bench_gsms warmup URL N CAFILE          first call of a new client, without and with gsms_client_warmup
 *   bench_gsms async  URL N                 gsms_client_create_cluster_async time on the calling thread,
 *                                           dispatch cost per completion, empty dispatch cost
 *   bench_gsms cancel N                     cancel -> completion, requests stuck on a silent listener
 *   bench_gsms free   N INFLIGHT            gsms_client_free with INFLIGHT requests stuck on a silent listener
 *   bench_gsms tput   URL INFLIGHT TOTAL WORKERS   completions per second, INFLIGHT operations kept in flight
 *   bench_gsms mem    URL N                 RSS/heap of an idle client, per in-flight operation, after N calls
 *
 * URL is the base URL (http://127.0.0.1:port or https://...); CAFILE a PEM bundle of extra roots. */
#include <stdatomic.h>

#include <gsms.h>

#include "bench.h"

static const char *g_url, *g_ca;
static const char *g_label = "libgsms";

static void check(gsms_status st, const char *what) {
  if (st != GSMS_OK) {
    fprintf(stderr, "bench_gsms: %s: %s: %s\n", what, gsms_status_name(st), gsms_last_error_message());
    exit(1);
  }
}

static gsms_client *new_client(const char *url, uint32_t mode, uint32_t workers, uint32_t request_ms) {
  gsms_config *cfg = gsms_config_new();
  check(gsms_config_set_base_url(cfg, url), "base url");
  check(gsms_config_set_auth_token(cfg, BENCH_TOKEN), "token");
  check(gsms_config_set_callback_mode(cfg, mode), "callback mode");
  if (workers) check(gsms_config_set_worker_threads(cfg, workers), "workers");
  if (request_ms) check(gsms_config_set_timeouts(cfg, 5000, request_ms), "timeouts");
  if (g_ca && *g_ca && strncmp(url, "https", 5) == 0) check(gsms_config_set_ca_bundle_path(cfg, g_ca), "ca bundle");
  gsms_client *c = NULL;
  check(gsms_client_new(cfg, &c), "client");
  gsms_config_free(cfg);
  return c;
}

static gsms_cluster_request *new_request(void) {
  gsms_cluster_request *r = gsms_cluster_request_new(BENCH_TITLE_ID);
  check(gsms_cluster_request_set_session(r, BENCH_SCID, BENCH_TEMPLATE, BENCH_SESSION), "session");
  return r;
}

static void call(gsms_client *c, const gsms_cluster_request *r) {
  gsms_cluster_result *res = NULL;
  gsms_status st = gsms_client_create_cluster(c, r, &res);
  if (st != GSMS_OK || gsms_cluster_result_fulfillment_state(res) != GSMS_FULFILLMENT_FULFILLED) {
    fprintf(stderr, "bench_gsms: call failed: %s: %s\n", gsms_status_name(st),
                    res ? gsms_cluster_result_error_message(res) : "");
    exit(1);
  }
  gsms_cluster_result_free(res);
}

static const char *scheme(const char *url) { return strncmp(url, "https", 5) == 0 ? "https" : "http"; }

/* ---- completions ---- */

struct waiter {
  atomic_int done;
  atomic_uint_fast64_t at_ns;
  gsms_status status;
};

static void on_done(void *ud, gsms_status st, const gsms_cluster_result *r) {
  (void)r;
  struct waiter *w = ud;
  w->status = st;
  atomic_store(&w->at_ns, now_ns());
  atomic_store(&w->done, 1);
}

/* ---- modes ---- */

static void warm(size_t n, uint64_t *v) {
  gsms_client *c = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
  gsms_cluster_request *r = new_request();
  for (int i = 0; i < 200; i++) call(c, r);
  uint64_t cpu0 = cpu_ns();
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    call(c, r);
    v[i] = now_ns() - t0;
  }
  uint64_t cpu = cpu_ns() - cpu0;
  char test[64];
  snprintf(test, sizeof test, "warm_%s", scheme(g_url));
  print_latency(g_label, test, v, n, cpu);
  gsms_cluster_request_free(r);
  gsms_client_free(c);
}

static void cold(size_t n, uint64_t *v) {
  gsms_cluster_request *r = new_request();
  uint64_t *phase[3];
  for (int k = 0; k < 3; k++) phase[k] = calloc(n, sizeof(uint64_t));
  uint64_t cpu0 = cpu_ns();
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    gsms_client *c = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
    uint64_t t1 = now_ns();
    call(c, r);
    uint64_t t2 = now_ns();
    gsms_client_free(c);
    uint64_t t3 = now_ns();
    v[i] = t3 - t0;
    phase[0][i] = t1 - t0;
    phase[1][i] = t2 - t1;
    phase[2][i] = t3 - t2;
  }
  uint64_t cpu = cpu_ns() - cpu0;
  char test[64];
  snprintf(test, sizeof test, "cold_%s", scheme(g_url));
  print_latency(g_label, test, v, n, cpu);
  /* The parts: config + gsms_client_new, the first call (connect, handshake, POST), gsms_client_free. */
  const char *names[3] = {"new", "call", "free"};
  for (int k = 0; k < 3; k++) {
    snprintf(test, sizeof test, "cold_%s_part_%s", scheme(g_url), names[k]);
    print_latency(g_label, test, phase[k], n, 0);
    free(phase[k]);
  }
  gsms_cluster_request_free(r);
}

/* First call of a fresh client, 300 ms after gsms_client_new, without and with a warmup in
 * between; and, as the floor, a call on a client whose connection is already pooled, also after
 * 300 ms idle (an idle machine, and this VM, take time to wake up: that is not the library's). */
static void warmup(size_t n, uint64_t *v) {
  gsms_cluster_request *r = new_request();
  static const char *names[3] = {"no_warmup", "with_warmup", "pooled_floor"};
  for (int k = 0; k < 3; k++) {
    for (size_t i = 0; i < n; i++) {
      gsms_client *c = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
      if (k == 1) check(gsms_client_warmup(c), "warmup");
      if (k == 2) call(c, r);
      sleep_ms(300);
      uint64_t t0 = now_ns();
      call(c, r);
      v[i] = now_ns() - t0;
      gsms_client_free(c);
    }
    char test[64];
    snprintf(test, sizeof test, "first_call_%s_%s", scheme(g_url), names[k]);
    print_latency(g_label, test, v, n, 0);
  }
  gsms_cluster_request_free(r);
}

static void async_start(size_t n, uint64_t *v) {
  gsms_client *c = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
  gsms_cluster_request *r = new_request();
  uint64_t *d = calloc(n, sizeof *d), *e = calloc(n * 4 + 16, sizeof *e);
  size_t ne = 0;
  for (int i = 0; i < 100; i++) call(c, r);
  /* The start call's own CPU time on this thread (CLOCK_THREAD_CPUTIME_ID, minus the clock's own
   * cost): what it costs the game thread even when the worker it wakes preempts it on its core. */
  uint64_t *own = calloc(n, sizeof *own), *clk = calloc(1000, sizeof *clk);
  for (int i = 0; i < 1000; i++) {
    uint64_t a = thread_cpu_ns();
    clk[i] = thread_cpu_ns() - a;
  }
  uint64_t clock_cost = pct(clk, 1000, 50);
  struct rusage ru0, ru1;
  getrusage(RUSAGE_THREAD, &ru0);
  for (size_t i = 0; i < n; i++) {
    static struct waiter w;
    atomic_store(&w.done, 0);
    uint64_t c0 = thread_cpu_ns();
    uint64_t t0 = now_ns();
    check(gsms_client_create_cluster_async(c, r, on_done, &w, NULL), "async start");
    v[i] = now_ns() - t0;
    uint64_t c1 = thread_cpu_ns() - c0;
    own[i] = c1 > clock_cost ? c1 - clock_cost : 0;
    for (;;) {
      uint64_t t1 = now_ns();
      uint32_t ran = gsms_client_dispatch(c, 0);
      uint64_t dt = now_ns() - t1;
      if (ran) {
        d[i] = dt / ran;
        break;
      }
      if (ne < n * 4 + 16) e[ne++] = dt;
    }
    if (w.status != GSMS_OK) check(w.status, "async call");
  }
  getrusage(RUSAGE_THREAD, &ru1);
  print_latency(g_label, "async_start", v, n, 0);
  print_latency(g_label, "async_start_own_cpu", own, n, 0);
  printf("RESULT %s async_start_preempted involuntary_switches_per_call=%.3f\n", g_label,
         (double)(ru1.ru_nivcsw - ru0.ru_nivcsw) / (double)n);
  free(own);
  free(clk);
  print_latency(g_label, "dispatch_per_completion", d, n, 0);
  print_latency(g_label, "dispatch_empty", e, ne, 0);
  free(d);
  free(e);
  gsms_cluster_request_free(r);
  gsms_client_free(c);
}

static void cancel(size_t n, uint64_t *v) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", start_blackhole());
  gsms_cluster_request *r = new_request();
  for (int mode = 0; mode < 2; mode++) {
    /* One worker per request so that every cancelled request is really stuck in a read. */
    gsms_client *c = new_client(url, (uint32_t)mode, 64, 60000);
    for (size_t i = 0; i < n; i++) {
      struct waiter *w = calloc(1, sizeof *w);
      gsms_operation *op = NULL;
      check(gsms_client_create_cluster_async(c, r, on_done, w, &op), "async start");
      sleep_ms(20); /* the worker is now blocked reading the silent socket */
      uint64_t t0 = now_ns();
      check(gsms_operation_cancel(op), "cancel");
      if (mode == GSMS_CALLBACKS_ON_DISPATCH) {
        while (!atomic_load(&w->done)) gsms_client_dispatch(c, 0);
      } else {
        while (!atomic_load(&w->done)) sched_yield();
      }
      v[i] = atomic_load(&w->at_ns) - t0;
      if (w->status != GSMS_ERR_CANCELLED) check(w->status, "cancelled call");
      gsms_operation_free(op);
      free(w);
    }
    print_latency(g_label, mode ? "cancel_on_dispatch" : "cancel_on_worker", v, n, 0);
    uint64_t t0 = now_ns();
    gsms_client_free(c);
    printf("RESULT %s free_after_cancel_test stuck_workers=%zu free_ms=%.1f\n", g_label, n, (now_ns() - t0) / 1e6);
  }
  gsms_cluster_request_free(r);
}

static void free_stuck(size_t n, size_t inflight, uint64_t *v) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", start_blackhole());
  gsms_cluster_request *r = new_request();
  struct waiter *w = calloc(inflight, sizeof *w);
  for (int mode = 0; mode < 2; mode++) {
    for (size_t i = 0; i < n; i++) {
      gsms_client *c = new_client(url, (uint32_t)mode, 0, 2000);
      for (size_t k = 0; k < inflight; k++) {
        atomic_store(&w[k].done, 0);
        check(gsms_client_create_cluster_async(c, r, on_done, &w[k], NULL), "async start");
      }
      sleep_ms(20);
      uint64_t t0 = now_ns();
      gsms_client_free(c);
      v[i] = now_ns() - t0;
      for (size_t k = 0; k < inflight; k++) {
        if (!atomic_load(&w[k].done) || w[k].status != GSMS_ERR_SHUTDOWN) {
          fprintf(stderr, "bench_gsms: operation %zu not completed with SHUTDOWN by free\n", k);
          exit(1);
        }
      }
    }
    char test[64];
    snprintf(test, sizeof test, "free_stuck_%zu_%s", inflight, mode ? "on_dispatch" : "on_worker");
    print_latency(g_label, test, v, n, 0);
  }
  free(w);
  gsms_cluster_request_free(r);
}

/* ---- throughput: ON_WORKER callbacks start the next operation ---- */

static struct {
  gsms_client *c;
  gsms_cluster_request *r;
  pthread_mutex_t mu; /* the request is a builder: one thread at a time */
  pthread_cond_t cv;
  size_t started, completed, total, errors;
} T = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void tput_done(void *ud, gsms_status st, const gsms_cluster_result *res) {
  (void)ud;
  (void)res;
  pthread_mutex_lock(&T.mu);
  if (st != GSMS_OK) T.errors++;
  T.completed++;
  if (T.started < T.total) {
    T.started++;
    check(gsms_client_create_cluster_async(T.c, T.r, tput_done, NULL, NULL), "async start");
  }
  if (T.completed == T.total) pthread_cond_signal(&T.cv);
  pthread_mutex_unlock(&T.mu);
}

static void tput(size_t inflight, size_t total, uint32_t workers, const char *target) {
  T.c = new_client(g_url, GSMS_CALLBACKS_ON_WORKER, workers, 0);
  T.r = new_request();
  for (int i = 0; i < 50; i++) call(T.c, T.r);
  T.total = total;
  uint64_t cpu0 = cpu_ns(), t0 = now_ns();
  pthread_mutex_lock(&T.mu);
  for (size_t i = 0; i < inflight && T.started < total; i++) {
    T.started++;
    check(gsms_client_create_cluster_async(T.c, T.r, tput_done, NULL, NULL), "async start");
  }
  while (T.completed < T.total) pthread_cond_wait(&T.cv, &T.mu);
  pthread_mutex_unlock(&T.mu);
  double secs = (now_ns() - t0) / 1e9;
  uint64_t cpu = cpu_ns() - cpu0;
  printf("RESULT %s tput target=%s inflight=%zu workers=%u calls=%zu errors=%zu calls_per_s=%.0f cpu_us_per_req=%.1f\n",
         g_label, target, inflight, workers, total, T.errors, total / secs, cpu / 1e3 / (double)total);
  gsms_cluster_request_free(T.r);
  gsms_client_free(T.c);
}

/* ---- memory ---- */

static void mem(size_t n) {
  gsms_cluster_request *r = new_request();
  /* Idle client: what gsms_client_new costs (agent, queues; threads start with the first async
   * call). Measured on a second client so one-time process state (TLS roots) is already there. */
  gsms_client *c0 = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
  long rss0 = rss_kib(), heap0 = heap_in_use();
  gsms_client *c = new_client(g_url, GSMS_CALLBACKS_ON_DISPATCH, 0, 0);
  long rss1 = rss_kib(), heap1 = heap_in_use();
  gsms_client_free(c0);
  printf("RESULT %s mem_idle_client rss_kib=%ld heap_bytes=%ld\n", g_label, rss1 - rss0, heap1 - heap0);

  /* Steady state: N blocking calls then N async calls on one client; heap after 1,000 and after N. */
  call(c, r);
  long h_a = heap_in_use(), r_a = rss_kib();
  printf("RESULT %s mem_first_call rss_kib=%ld heap_bytes=%ld\n", g_label, r_a - rss1, h_a - heap1);
  for (int i = 1; i < 1000; i++) call(c, r);
  long h_b = heap_in_use(), r_b = rss_kib();
  for (size_t i = 1000; i < n; i++) call(c, r);
  long h_c = heap_in_use(), r_c = rss_kib();
  printf("RESULT %s mem_blocking calls=%zu rss_1k_kib=%ld rss_end_kib=%ld heap_1k_bytes=%ld heap_end_bytes=%ld "
         "heap_growth_per_call_bytes=%.3f\n",
         g_label, n, r_b, r_c, h_b - heap1, h_c - heap1, (double)(h_c - h_b) / (double)(n - 1000));
  static struct waiter w;
  long h_d = 0, r_d = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 1000) {
      h_d = heap_in_use();
      r_d = rss_kib();
    }
    atomic_store(&w.done, 0);
    check(gsms_client_create_cluster_async(c, r, on_done, &w, NULL), "async start");
    while (!atomic_load(&w.done)) {
      if (!gsms_client_dispatch(c, 0)) sched_yield();
    }
    check(w.status, "async call");
  }
  long h_e = heap_in_use(), r_e = rss_kib();
  printf("RESULT %s mem_async calls=%zu rss_1k_kib=%ld rss_end_kib=%ld heap_1k_bytes=%ld heap_end_bytes=%ld "
         "heap_growth_per_call_bytes=%.3f\n",
         g_label, n, r_d, r_e, h_d - heap1, h_e - heap1, (double)(h_e - h_d) / (double)(n - 1000));
  gsms_client_free(c);

  /* Per in-flight operation: 1,000 accepted operations against a silent listener (2 workers stuck
   * in a read, the rest queued). */
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", start_blackhole());
  gsms_client *s = new_client(url, GSMS_CALLBACKS_ON_DISPATCH, 0, 60000);
  static struct waiter w0;
  check(gsms_client_create_cluster_async(s, r, on_done, &w0, NULL), "async start"); /* threads started */
  sleep_ms(20);
  long rss2 = rss_kib(), heap2 = heap_in_use();
  static struct waiter ws[1000];
  for (int i = 0; i < 1000; i++) check(gsms_client_create_cluster_async(s, r, on_done, &ws[i], NULL), "async start");
  sleep_ms(50);
  long rss3 = rss_kib(), heap3 = heap_in_use();
  printf("RESULT %s mem_per_inflight_op ops=1000 rss_bytes=%.0f heap_bytes=%.0f\n", g_label, (rss3 - rss2) * 1024.0 / 1000,
         (heap3 - heap2) / 1000.0);
  gsms_client_free(s);
  gsms_cluster_request_free(r);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: see the comment at the top of benches/c/bench_gsms.c\n");
    return 2;
  }
  const char *mode = argv[1];
  if (getenv("BENCH_LABEL")) g_label = getenv("BENCH_LABEL");
  size_t n = 0;
  if (strcmp(mode, "cancel") == 0 || strcmp(mode, "free") == 0) {
    n = strtoul(argv[2], NULL, 10);
  } else {
    g_url = argv[2];
    n = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
    g_ca = argc > 4 && strcmp(mode, "tput") != 0 ? argv[4] : getenv("BENCH_CA");
  }
  uint64_t *v = calloc(n + 1, sizeof *v);
  if (strcmp(mode, "warm") == 0) warm(n, v);
  else if (strcmp(mode, "cold") == 0) cold(n, v);
  else if (strcmp(mode, "warmup") == 0) warmup(n, v);
  else if (strcmp(mode, "async") == 0) async_start(n, v);
  else if (strcmp(mode, "cancel") == 0) cancel(n, v);
  else if (strcmp(mode, "free") == 0) free_stuck(n, argc > 3 ? strtoul(argv[3], NULL, 10) : 8, v);
  else if (strcmp(mode, "tput") == 0)
    tput(n, argc > 4 ? strtoul(argv[4], NULL, 10) : 20000, argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 2,
         getenv("BENCH_TARGET") ? getenv("BENCH_TARGET") : "server");
  else if (strcmp(mode, "mem") == 0) mem(n);
  else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  free(v);
  return 0;
}
