/* Lifecycle suite: freeing a client is safe from any thread and inside any callback.
 *
 * Free races every public call that takes a client, from every kind of callback (completion,
 * progress, log, token provider), in both callback modes, against three servers: one that never
 * answers (in-process, mini_server.h), a slow one (an emulator with latency) and an answering one
 * (an emulator). Also the defects this suite was written for (each named in its scenario).
 * Built and run natively and with AddressSanitizer by scripts/test_c.sh; a hang is a failure
 * (a watchdog ends the program).
 *
 * Usage: test_lifecycle <emulator base url> <slow emulator base url>
 * The emulator runs with --servers 2; title 5555 is this suite's own. */
#include "gsms.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "check.h"
#include "mini_server.h"

#define TOKEN "XBL3.0 x=1234567890;lifecycle-token"
#define SECRET_TOKEN "XBL3.0 x=9876543210;lifecycle-secret-token-XYZ"
#define SECRET_PART "lifecycle-secret-token-XYZ"
#define TITLE 5555
#define QTITLE 5556 /* used only to queue allocations */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define INC(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
/* 1 for the one caller that moves *p from 0 to 1 (the one that frees). */
static int claim(volatile int *p) {
  int zero = 0;
  return __atomic_compare_exchange_n(p, &zero, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

enum { SRV_STUCK, SRV_SLOW, SRV_ANSWER, SRV_COUNT };
static const char *g_server_name[SRV_COUNT] = {"stuck", "slow", "answering"};
static const char *g_url[SRV_COUNT];
static const char *g_emu;
static mini_server g_stuck;
static const char *g_scenario = "";
static int g_seq;

/* ---- watchdog: a hang fails the run instead of blocking CI ---- */
static void on_alarm(int sig) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "HANG: scenario \"%s\" did not finish in time\n", g_scenario);
  (void)sig;
  if (write(2, msg, (size_t)n) < 0) {
  }
  _exit(3);
}

/* GSMS_LIFECYCLE_ONLY=<text> runs only the scenarios whose name holds it (for debugging). */
static int wanted(const char *name) {
  const char *only = getenv("GSMS_LIFECYCLE_ONLY");
  return !only || strstr(name, only) != NULL;
}

static void scenario(const char *name) {
  g_scenario = name;
  alarm(30);
  printf("# %s\n", name);
  fflush(stdout);
}

/* ---- helpers ---- */
static gsms_cluster_request *request_for(uint32_t title) {
  char s[256];
  gsms_cluster_request *r = gsms_cluster_request_new(title);
  /* Unique across runs too: the emulator remembers sessions (a repeat is answered with its state). */
  snprintf(s, sizeof s, "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/lc-%ld-%ld-%d",
           (long)getpid(), (long)time(NULL), INC(&g_seq));
  CHECK_STATUS(gsms_cluster_request_set_session_id(r, s), GSMS_OK);
  return r;
}

typedef struct {
  const char *url;
  uint32_t mode;
  uint32_t request_ms;
  uint32_t workers;
  gsms_token_provider_fn provider;
  gsms_log_fn log;
  uint32_t log_level;
  void *ud;
  const char *token;
} client_opts;

static gsms_client *make_client(client_opts o) {
  gsms_config *c = gsms_config_new();
  gsms_client *cl = NULL;
  CHECK_STATUS(gsms_config_set_base_url(c, o.url), GSMS_OK);
  CHECK_STATUS(gsms_config_set_auth_token(c, o.token ? o.token : TOKEN), GSMS_OK);
  CHECK_STATUS(gsms_config_set_timeouts(c, 2000, o.request_ms ? o.request_ms : 10000), GSMS_OK);
  CHECK_STATUS(gsms_config_set_retry_policy(c, 2, 1, 5), GSMS_OK);
  CHECK_STATUS(gsms_config_set_callback_mode(c, o.mode), GSMS_OK);
  CHECK_STATUS(gsms_config_set_worker_threads(c, o.workers ? o.workers : 2), GSMS_OK);
  if (o.provider) CHECK_STATUS(gsms_config_set_token_provider(c, o.provider, o.ud), GSMS_OK);
  if (o.log) CHECK_STATUS(gsms_config_set_log_callback(c, o.log, o.ud, o.log_level ? o.log_level : GSMS_LOG_DEBUG), GSMS_OK);
  CHECK_STATUS(gsms_client_new(c, &cl), GSMS_OK);
  gsms_config_free(c);
  return cl;
}

/* Waits until *flag becomes non-zero; 0 on time-out. */
static int wait_flag(volatile int *flag, int ms) {
  double end = now_ms() + ms;
  while (!LOAD(flag)) {
    if (now_ms() > end) return 0;
    sleep_ms(1);
  }
  return 1;
}

/* One async operation's completions, counted. */
typedef struct {
  int done;      /* completions seen (must end at exactly 1) */
  int progress;  /* progress callbacks seen */
  gsms_status status;
  volatile int *delivered; /* if set: raised by this op's completion */
} op_state;

static void on_done_count(void *ud, gsms_status st, const gsms_cluster_result *r) {
  op_state *s = (op_state *)ud;
  (void)r;
  s->status = st;
  if (s->delivered && st == GSMS_ERR_SHUTDOWN) STORE(s->delivered, 1);
  INC(&s->done);
}

/* Waits until each op has completed once (or the time-out); returns how many have exactly 1. */
static int wait_ops(op_state *ops, int n, int ms) {
  double end = now_ms() + ms;
  int ok;
  do {
    int i;
    ok = 0;
    for (i = 0; i < n; i++) ok += LOAD(&ops[i].done) >= 1;
    if (ok == n) break;
    sleep_ms(1);
  } while (now_ms() < end);
  sleep_ms(20); /* a second completion would show up now */
  ok = 0;
  {
    int i;
    for (i = 0; i < n; i++) ok += LOAD(&ops[i].done) == 1;
  }
  return ok;
}

/* ====================================================================================
 * Defect 1: a blocking call is inside a request when another thread frees the client.
 * It must end promptly (SHUTDOWN, or its real outcome) and never touch freed memory.
 * ==================================================================================== */
typedef struct {
  gsms_client *cl;
  gsms_cluster_request *req;
  int allocate;
  gsms_status st;
  double returned_at;
  volatile int entered;
} blocking_call;

static gsms_status provider_signals_entry(void *ud, uint32_t force, gsms_token_sink *sink) {
  blocking_call *b = (blocking_call *)ud;
  (void)force;
  STORE(&b->entered, 1);
  return gsms_token_sink_set(sink, TOKEN);
}

static void *run_blocking(void *arg) {
  blocking_call *b = (blocking_call *)arg;
  gsms_cluster_result *res = NULL;
  b->st = b->allocate ? gsms_client_allocate_cluster(b->cl, b->req, 0, &res) : gsms_client_create_cluster(b->cl, b->req, &res);
  b->returned_at = now_ms();
  gsms_cluster_result_free(res);
  return NULL;
}

static void blocking_call_freed_from_another_thread(int srv, int allocate, uint32_t mode) {
  blocking_call b;
  pthread_t t;
  double t0, free_ms;
  client_opts o = {0};
  memset(&b, 0, sizeof b);
  o.url = g_url[srv];
  o.mode = mode;
  o.provider = provider_signals_entry;
  o.ud = &b;
  b.cl = make_client(o);
  b.req = request_for(TITLE);
  b.allocate = allocate;
  pthread_create(&t, NULL, run_blocking, &b);
  CHECK(wait_flag(&b.entered, 5000));
  if (srv != SRV_ANSWER) sleep_ms(30); /* well inside the request */
  t0 = now_ms();
  gsms_client_free(b.cl);
  free_ms = now_ms() - t0;
  pthread_join(t, NULL);
  CHECK(free_ms < 250);
  CHECK(b.returned_at - t0 < 1000); /* promptly, not after the 10 s request timeout */
  if (srv == SRV_ANSWER) {
    CHECK(b.st == GSMS_ERR_SHUTDOWN || b.st == GSMS_OK);
  } else {
    CHECK_STATUS(b.st, GSMS_ERR_SHUTDOWN);
  }
  gsms_cluster_request_free(b.req);
}

/* ====================================================================================
 * Defect 2: gsms_client_free inside the log callback or the token provider of a blocking call.
 * ==================================================================================== */
typedef struct {
  gsms_client *cl;
  volatile int freed; /* 1 while freeing, 2 once free has returned */
  int hook_calls_after_free;
} hook_free;

static gsms_status provider_frees(void *ud, uint32_t force, gsms_token_sink *sink) {
  hook_free *h = (hook_free *)ud;
  (void)force;
  if (LOAD(&h->freed) == 2) INC(&h->hook_calls_after_free);
  if (claim(&h->freed)) {
    gsms_client_free(h->cl);
    STORE(&h->freed, 2);
  }
  return gsms_token_sink_set(sink, TOKEN);
}

static void log_frees(void *ud, gsms_log_level level, const char *msg) {
  hook_free *h = (hook_free *)ud;
  (void)level;
  (void)msg;
  if (LOAD(&h->freed) == 2) INC(&h->hook_calls_after_free);
  if (claim(&h->freed)) {
    gsms_client_free(h->cl);
    STORE(&h->freed, 2);
  }
}

static void free_inside_hook_of_blocking_call(int use_provider, int srv, uint32_t mode) {
  hook_free h;
  client_opts o = {0};
  gsms_cluster_request *r = request_for(TITLE);
  gsms_cluster_result *res = NULL;
  gsms_status st;
  double t0;
  memset(&h, 0, sizeof h);
  o.url = g_url[srv];
  o.mode = mode;
  o.request_ms = 1000; /* the stuck server's first log line comes when this times out */
  o.ud = &h;
  if (use_provider) {
    o.provider = provider_frees;
  } else {
    o.log = log_frees;
    o.log_level = GSMS_LOG_TRACE;
  }
  h.cl = make_client(o);
  t0 = now_ms();
  st = gsms_client_create_cluster(h.cl, r, &res);
  CHECK(LOAD(&h.freed) == 2);
  CHECK(now_ms() - t0 < 3000);
  /* The call ends with SHUTDOWN or with what had already happened (a time-out, an answer). */
  CHECK(st == GSMS_ERR_SHUTDOWN || st == GSMS_ERR_TIMEOUT || st == GSMS_OK || st == GSMS_ERR_RETRIES_EXHAUSTED);
  CHECK(h.hook_calls_after_free == 0);
  gsms_cluster_result_free(res);
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * Defect 3: two workers are inside the token provider (or the log callback) and one frees.
 * Free must return, and every operation complete exactly once.
 * ==================================================================================== */
typedef struct {
  gsms_client *cl;
  volatile int inside;
  volatile int freed;
  volatile int both_seen;
} two_inside;

static void two_inside_hook(two_inside *t) {
  int me = INC(&t->inside);
  if (me > 2) return; /* later calls (retries, other lines) pass straight through */
  {
    double end = now_ms() + 5000;
    while (LOAD(&t->inside) < 2 && now_ms() < end) sleep_ms(1);
  }
  if (LOAD(&t->inside) >= 2) STORE(&t->both_seen, 1);
  if (me == 2) {
    gsms_client_free(t->cl); /* the other worker is inside a hook right now */
    STORE(&t->freed, 2);
  } else {
    wait_flag(&t->freed, 5000);
  }
}

static gsms_status provider_two_inside(void *ud, uint32_t force, gsms_token_sink *sink) {
  (void)force;
  two_inside_hook((two_inside *)ud);
  return gsms_token_sink_set(sink, TOKEN);
}

static void log_two_inside(void *ud, gsms_log_level level, const char *msg) {
  (void)level;
  (void)msg;
  two_inside_hook((two_inside *)ud);
}

static void two_workers_inside_hooks_one_frees(int use_provider, uint32_t mode) {
  two_inside t;
  op_state ops[2];
  gsms_cluster_request *r = request_for(TITLE);
  client_opts o = {0};
  int i;
  memset(&t, 0, sizeof t);
  memset(ops, 0, sizeof ops);
  o.url = g_url[SRV_ANSWER];
  o.mode = mode;
  o.workers = 2;
  o.ud = &t;
  if (use_provider) {
    o.provider = provider_two_inside;
  } else {
    o.log = log_two_inside;
    o.log_level = GSMS_LOG_DEBUG;
  }
  t.cl = make_client(o);
  for (i = 0; i < 2; i++) CHECK_STATUS(gsms_client_create_cluster_async(t.cl, r, on_done_count, &ops[i], NULL), GSMS_OK);
  CHECK(wait_flag(&t.freed, 10000)); /* free returned: no deadlock */
  CHECK(LOAD(&t.both_seen));
  CHECK(wait_ops(ops, 2, 5000) == 2); /* never dispatched: the freeing side delivers them */
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * Defect 4: a server echoes the Authorization value in an error body and a header.
 * ==================================================================================== */
typedef struct {
  pthread_mutex_t mu;
  char text[65536];
  size_t len;
  int lines;
} log_buffer;

static void log_collect(void *ud, gsms_log_level level, const char *msg) {
  log_buffer *b = (log_buffer *)ud;
  size_t n = strlen(msg);
  (void)level;
  pthread_mutex_lock(&b->mu);
  if (b->len + n + 2 < sizeof b->text) {
    memcpy(b->text + b->len, msg, n);
    b->len += n;
    b->text[b->len++] = '\n';
    b->text[b->len] = 0;
  }
  b->lines++;
  pthread_mutex_unlock(&b->mu);
}

typedef struct {
  int done;
  gsms_status st;
  int leaked;
} echo_async;

static void on_done_echo(void *ud, gsms_status st, const gsms_cluster_result *r) {
  echo_async *e = (echo_async *)ud;
  e->st = st;
  e->leaked = r == NULL || strstr(gsms_cluster_result_error_message(r), SECRET_PART) != NULL ||
              strstr(gsms_cluster_result_raw_json(r), SECRET_PART) != NULL ||
              strstr(gsms_cluster_result_correlation_id(r), SECRET_PART) != NULL;
  STORE(&e->done, 1);
}

static void server_echoing_the_token_never_leaks_it(mini_mode mode, gsms_status want) {
  mini_server s;
  log_buffer logs;
  client_opts o = {0};
  gsms_client *cl;
  gsms_cluster_request *r = request_for(TITLE);
  gsms_cluster_result *res = NULL;
  echo_async e;
  memset(&logs, 0, sizeof logs);
  memset(&e, 0, sizeof e);
  pthread_mutex_init(&logs.mu, NULL);
  CHECK(mini_start(&s, mode) == 0);
  o.url = s.base_url;
  o.mode = GSMS_CALLBACKS_ON_WORKER;
  o.log = log_collect;
  o.log_level = GSMS_LOG_TRACE;
  o.ud = &logs;
  o.token = SECRET_TOKEN;
  cl = make_client(o);
  CHECK_STATUS(gsms_client_create_cluster(cl, r, &res), want);
  CHECK(strstr(gsms_last_error_message(), SECRET_PART) == NULL);
  CHECK(strstr(gsms_last_error_message(), "<redacted>") != NULL); /* the server's text is kept, cleaned */
  CHECK(res != NULL);
  if (res) {
    CHECK(strstr(gsms_cluster_result_error_message(res), SECRET_PART) == NULL);
    CHECK(strstr(gsms_cluster_result_raw_json(res), SECRET_PART) == NULL);
    CHECK(strstr(gsms_cluster_result_raw_json(res), "you sent Authorization") != NULL);
    CHECK(strstr(gsms_cluster_result_correlation_id(res), SECRET_PART) == NULL);
    CHECK_STATUS(gsms_cluster_result_status(res), want);
    CHECK(strstr(gsms_last_error_message(), SECRET_PART) == NULL);
  }
  gsms_cluster_result_free(res);
  CHECK_STATUS(gsms_client_create_cluster_async(cl, r, on_done_echo, &e, NULL), GSMS_OK);
  CHECK(wait_flag(&e.done, 5000));
  CHECK(e.st == want);
  CHECK(!e.leaked);
  gsms_client_free(cl);
  pthread_mutex_lock(&logs.mu);
  CHECK(logs.lines > 0);
  CHECK(strstr(logs.text, SECRET_PART) == NULL);
  pthread_mutex_unlock(&logs.mu);
  mini_stop(&s);
  pthread_mutex_destroy(&logs.mu);
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * Defect 5: 1e400 in pollIntervalMilliseconds / fulfillmentState is "unparsable", not a failure.
 * ==================================================================================== */
static void huge_numbers_are_unparsable_not_protocol_errors(void) {
  mini_server s;
  client_opts o = {0};
  gsms_client *cl;
  gsms_cluster_request *r = request_for(TITLE);
  gsms_cluster_result *res = NULL;
  CHECK(mini_start(&s, MINI_HUGE_NUMBERS) == 0);
  o.url = s.base_url;
  o.mode = GSMS_CALLBACKS_ON_DISPATCH;
  cl = make_client(o);
  CHECK_STATUS(gsms_client_create_cluster(cl, r, &res), GSMS_OK);
  CHECK(res && gsms_cluster_result_fulfillment_state(res) == GSMS_FULFILLMENT_UNKNOWN);
  CHECK(res && gsms_cluster_result_poll_interval_ms(res) == 1000);
  CHECK(res && strcmp(gsms_cluster_result_host_name(res), "h.example") == 0);
  gsms_cluster_result_free(res);
  res = NULL;
  /* An allocation ends at once on an unrecognised state (it is not polled). */
  CHECK_STATUS(gsms_client_allocate_cluster(cl, r, 5000, &res), GSMS_OK);
  CHECK(res && gsms_cluster_result_attempts(res) == 1);
  gsms_cluster_result_free(res);
  gsms_client_free(cl);
  mini_stop(&s);
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * Defect 6: setters refuse what the transport would refuse later, and nothing is sent.
 * ==================================================================================== */
static void setters_refuse_what_the_transport_refuses(void) {
  gsms_config *c = gsms_config_new();
  gsms_client *cl = NULL;
  long before = emu_request_count(g_emu);
  char *url = (char *)malloc(65600);
  CHECK_STATUS(gsms_config_set_auth_token(c, "XBL3.0 x=u;tok\xc3\xa9n"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gsms_last_error_message(), "non-ASCII") != NULL);
  CHECK_STATUS(gsms_config_set_auth_token(c, "XBL3.0 x=u;tok\xc2\x85n"), GSMS_ERR_INVALID_ARGUMENT); /* U+0085 */
  CHECK_STATUS(gsms_config_set_xbl_token(c, "u", "tok\xc2\x85n"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_config_set_xbl_token(c, "\xc3\xa9", "tok"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gsms_config_set_user_agent(c, "Jeu\xc3\xa9/1"), GSMS_ERR_INVALID_ARGUMENT);
  snprintf(url, 65600, "%s/", g_emu);
  memset(url + strlen(url), 'p', 65500);
  url[strlen(g_emu) + 1 + 65500] = 0;
  CHECK_STATUS(gsms_config_set_base_url(c, url), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gsms_last_error_message(), "2048") != NULL);
  CHECK_STATUS(gsms_config_set_base_url(c, g_emu), GSMS_OK);
  CHECK_STATUS(gsms_config_set_auth_token(c, TOKEN), GSMS_OK);
  CHECK_STATUS(gsms_client_new(c, &cl), GSMS_OK);
  CHECK_STATUS(gsms_client_set_auth_token(cl, "XBL3.0 x=u;\xe2\x80\xae"), GSMS_ERR_INVALID_ARGUMENT);
  CHECK(emu_request_count(g_emu) == before);
  gsms_client_free(cl);
  gsms_config_free(c);
  free(url);
}

/* ====================================================================================
 * Defect 8: a dispatch whose callback frees the client counts every callback it ran.
 * ==================================================================================== */
typedef struct {
  gsms_client *cl;
  int calls;
  int freed;
} dispatch_free;

static void on_done_frees_once(void *ud, gsms_status st, const gsms_cluster_result *r) {
  dispatch_free *d = (dispatch_free *)ud;
  (void)st;
  (void)r;
  d->calls++;
  if (!d->freed) {
    d->freed = 1;
    gsms_client_free(d->cl);
  }
}

static void dispatch_that_frees_counts_every_callback(uint32_t max) {
  dispatch_free d;
  client_opts o = {0};
  gsms_cluster_request *r = request_for(TITLE);
  gsms_operation *ops[5];
  uint32_t ran;
  int i;
  memset(&d, 0, sizeof d);
  o.url = g_url[SRV_ANSWER];
  o.mode = GSMS_CALLBACKS_ON_DISPATCH;
  d.cl = make_client(o);
  for (i = 0; i < 5; i++) CHECK_STATUS(gsms_client_create_cluster_async(d.cl, r, on_done_frees_once, &d, &ops[i]), GSMS_OK);
  for (i = 0; i < 5; i++) {
    double end = now_ms() + 5000;
    while (gsms_operation_take_result(ops[i], NULL) == GSMS_PENDING && now_ms() < end) sleep_ms(1);
  }
  ran = gsms_client_dispatch(d.cl, max); /* the first callback frees the client */
  CHECK(ran == 5);
  CHECK(d.calls == 5);
  for (i = 0; i < 5; i++) gsms_operation_free(ops[i]);
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * Free from inside every kind of callback, both modes, each server; the other operations in
 * flight complete exactly once and nothing runs after the client is released.
 * ==================================================================================== */
enum { CB_COMPLETION, CB_PROGRESS, CB_LOG, CB_PROVIDER, CB_COUNT };
static const char *g_cb_name[CB_COUNT] = {"completion", "progress", "log", "token provider"};

typedef struct {
  gsms_client *cl;
  volatile int armed; /* set once the test thread is done calling the client: callbacks wait for it */
  volatile int freed; /* 1 while freeing, 2 once free has returned */
  /* Raised by the first completion of another operation. A free from inside a hook returns at
     once, while hooks on other threads may still be running; the client is released (and the
     other operations' completions delivered) only once every hook has returned: from then on, no
     hook may start. */
  volatile int delivered;
  int hook_calls_after_free;
  int freeing_thread_calls; /* SHUTDOWN-time calls made from callbacks */
  int shutdown_answers;
  op_state queued; /* the progress case's queued allocation */
} cb_free;

static op_state g_never; /* handed to calls that must be refused: never completed */

static void try_calls_during_shutdown(cb_free *f) {
  /* Calls on the client from a callback while it is being freed: SHUTDOWN, no deadlock. */
  gsms_cluster_request *r = request_for(TITLE);
  gsms_cluster_result *res = NULL;
  f->freeing_thread_calls++;
  f->shutdown_answers += gsms_client_set_auth_token(f->cl, TOKEN) == GSMS_ERR_SHUTDOWN;
  f->shutdown_answers += gsms_client_create_cluster(f->cl, r, &res) == GSMS_ERR_SHUTDOWN;
  gsms_cluster_result_free(res);
  f->shutdown_answers += gsms_client_create_cluster_async(f->cl, r, on_done_count, &g_never, NULL) == GSMS_ERR_SHUTDOWN;
  f->shutdown_answers += gsms_client_warmup(f->cl) == GSMS_ERR_SHUTDOWN;
  f->shutdown_answers += gsms_client_dispatch(f->cl, 0) == 0;
  gsms_cluster_request_free(r);
}

static void cb_free_now(cb_free *f) {
  /* The first callback to get here frees, once this thread's last call on the handle is done
     (hooks that come earlier wait here for it). */
  if (!wait_flag(&f->armed, 5000)) return;
  if (claim(&f->freed)) {
    gsms_client_free(f->cl);
    try_calls_during_shutdown(f);
    STORE(&f->freed, 2);
  }
}

static void on_done_frees(void *ud, gsms_status st, const gsms_cluster_result *r) {
  (void)st;
  (void)r;
  cb_free_now((cb_free *)ud);
}

static void on_progress_frees(void *ud, const gsms_cluster_result *q) {
  (void)q;
  cb_free_now((cb_free *)ud);
}

static void on_done_queued(void *ud, gsms_status st, const gsms_cluster_result *r) {
  on_done_count(&((cb_free *)ud)->queued, st, r);
}

static void log_frees_cb(void *ud, gsms_log_level level, const char *msg) {
  cb_free *f = (cb_free *)ud;
  (void)level;
  (void)msg;
  if (LOAD(&f->delivered)) INC(&f->hook_calls_after_free);
  cb_free_now(f);
}

static gsms_status provider_frees_cb(void *ud, uint32_t force, gsms_token_sink *sink) {
  cb_free *f = (cb_free *)ud;
  (void)force;
  if (LOAD(&f->delivered)) INC(&f->hook_calls_after_free);
  cb_free_now(f);
  return gsms_token_sink_set(sink, TOKEN);
}

static void free_from_callback(int cb, int srv, uint32_t mode) {
  cb_free f;
  op_state others[3];
  client_opts o = {0};
  gsms_cluster_request *r, *q;
  gsms_operation *trigger = NULL;
  int i;
  double end;
  if (cb == CB_PROGRESS && srv == SRV_STUCK) return; /* a server that never answers never says Queued */
  r = request_for(TITLE);
  q = request_for(QTITLE);
  memset(&f, 0, sizeof f);
  memset(others, 0, sizeof others);
  o.url = g_url[srv];
  o.mode = mode;
  o.request_ms = 1000;
  o.workers = 4;
  o.ud = &f;
  if (cb == CB_LOG) {
    o.log = log_frees_cb;
    o.log_level = GSMS_LOG_DEBUG;
  }
  if (cb == CB_PROVIDER) o.provider = provider_frees_cb;
  f.cl = make_client(o);
  for (i = 0; i < 3; i++) {
    others[i].delivered = &f.delivered;
    CHECK_STATUS(gsms_client_allocate_cluster_async(f.cl, r, 0, NULL, on_done_count, &others[i], NULL), GSMS_OK);
  }
  if (cb == CB_COMPLETION) {
    CHECK_STATUS(gsms_client_create_cluster_async(f.cl, r, on_done_frees, &f, &trigger), GSMS_OK);
    if (srv != SRV_ANSWER) {
      sleep_ms(50);
      CHECK_STATUS(gsms_operation_cancel(trigger), GSMS_OK); /* its completion (CANCELLED) frees */
    }
  } else if (cb == CB_PROGRESS) {
    /* Hold the queued title's two servers so that the next allocation is Queued. */
    gsms_cluster_request *h1 = request_for(QTITLE), *h2 = request_for(QTITLE);
    CHECK_STATUS(gsms_client_create_cluster(f.cl, h1, NULL), GSMS_OK);
    CHECK_STATUS(gsms_client_create_cluster(f.cl, h2, NULL), GSMS_OK);
    CHECK_STATUS(gsms_client_allocate_cluster_async(f.cl, q, 0, on_progress_frees, on_done_queued, &f, &trigger), GSMS_OK);
    gsms_cluster_request_free(h1);
    gsms_cluster_request_free(h2);
  }
  STORE(&f.armed, 1); /* no call on the handle from this thread from here on, but dispatch */
  /* Completion and progress callbacks run in dispatch (ON_DISPATCH): dispatch until one frees.
     Hooks free on a library thread: then this thread must not touch the client at all. */
  end = now_ms() + 8000;
  while (!LOAD(&f.freed) && now_ms() < end) {
    if (mode == GSMS_CALLBACKS_ON_DISPATCH && (cb == CB_COMPLETION || cb == CB_PROGRESS)) {
      gsms_client_dispatch(f.cl, 0);
      if (LOAD(&f.freed)) break; /* freed inside that dispatch: the handle is gone */
    }
    sleep_ms(2);
  }
  if (!wait_flag(&f.freed, 8000)) {
    fprintf(stderr, "  not freed: queued op done %d status %s\n", LOAD(&f.queued.done), gsms_status_name(f.queued.status));
    CHECK(0);
  }
  while (LOAD(&f.freed) != 2 && now_ms() < end) sleep_ms(1);
  CHECK(LOAD(&f.freed) == 2);
  /* A free from inside a callback is deferred: the operations still running complete (once) when
     that callback has returned, on the thread that ran it. */
  CHECK(wait_ops(others, 3, 5000) == 3);
  if (cb == CB_PROGRESS) CHECK(wait_ops(&f.queued, 1, 5000) == 1);
  sleep_ms(50);
  CHECK(f.hook_calls_after_free == 0);
  CHECK(f.freeing_thread_calls == 1 && f.shutdown_answers == 5);
  gsms_operation_free(trigger);
  gsms_cluster_request_free(r);
  gsms_cluster_request_free(q);
}

/* ====================================================================================
 * Async calls and warmup racing free from another thread.
 * ==================================================================================== */
static void async_calls_racing_free(int srv, uint32_t mode) {
  op_state ops[6];
  client_opts o = {0};
  gsms_cluster_request *r = request_for(TITLE);
  gsms_client *cl;
  double t0;
  int i;
  memset(ops, 0, sizeof ops);
  o.url = g_url[srv];
  o.mode = mode;
  cl = make_client(o);
  CHECK_STATUS(gsms_client_warmup(cl), GSMS_OK);
  for (i = 0; i < 6; i++) {
    gsms_status st = i % 2 ? gsms_client_allocate_cluster_async(cl, r, 0, NULL, on_done_count, &ops[i], NULL)
                           : gsms_client_create_cluster_async(cl, r, on_done_count, &ops[i], NULL);
    CHECK_STATUS(st, GSMS_OK);
  }
  if (srv != SRV_ANSWER) sleep_ms(30);
  t0 = now_ms();
  gsms_client_free(cl);
  CHECK(now_ms() - t0 < 250);
  /* Every accepted operation completed once, before free returned. */
  for (i = 0; i < 6; i++) CHECK(ops[i].done == 1);
  gsms_cluster_request_free(r);
}

/* A dispatch call is running a callback when another thread frees: free waits for that callback,
   then delivers the rest on its own thread. */
typedef struct {
  gsms_client *cl;
  volatile int in_callback;
  int ran;
} dispatch_race;

static void on_done_blocks(void *ud, gsms_status st, const gsms_cluster_result *r) {
  dispatch_race *d = (dispatch_race *)ud;
  (void)st;
  (void)r;
  if (INC(&d->in_callback) == 1) sleep_ms(150);
}

static void *run_dispatch(void *arg) {
  dispatch_race *d = (dispatch_race *)arg;
  d->ran = (int)gsms_client_dispatch(d->cl, 1);
  return NULL;
}

static void dispatch_racing_free(void) {
  dispatch_race d;
  client_opts o = {0};
  gsms_cluster_request *r = request_for(TITLE);
  gsms_operation *op[3];
  pthread_t t;
  int i;
  memset(&d, 0, sizeof d);
  o.url = g_url[SRV_ANSWER];
  o.mode = GSMS_CALLBACKS_ON_DISPATCH;
  d.cl = make_client(o);
  for (i = 0; i < 3; i++) CHECK_STATUS(gsms_client_create_cluster_async(d.cl, r, on_done_blocks, &d, &op[i]), GSMS_OK);
  for (i = 0; i < 3; i++) {
    double end = now_ms() + 5000;
    while (gsms_operation_take_result(op[i], NULL) == GSMS_PENDING && now_ms() < end) sleep_ms(1);
  }
  pthread_create(&t, NULL, run_dispatch, &d);
  CHECK(wait_flag(&d.in_callback, 5000));
  gsms_client_free(d.cl); /* waits for the running callback, then runs the other two here */
  pthread_join(t, NULL);
  CHECK(d.ran == 1);
  CHECK(LOAD(&d.in_callback) == 3);
  for (i = 0; i < 3; i++) gsms_operation_free(op[i]);
  gsms_cluster_request_free(r);
}

/* ====================================================================================
 * ON_WORKER: a cancelled operation reports CANCELLED at once even while another callback blocks.
 * ==================================================================================== */
typedef struct {
  volatile int blocking;
  volatile int release;
} blocker;

static void on_done_blocks_until_released(void *ud, gsms_status st, const gsms_cluster_result *r) {
  blocker *b = (blocker *)ud;
  (void)st;
  (void)r;
  STORE(&b->blocking, 1);
  wait_flag(&b->release, 5000);
}

static void cancel_reports_at_once_while_a_callback_blocks(void) {
  blocker b;
  op_state s;
  client_opts os = {0};
  gsms_client *stuck;
  gsms_cluster_request *r = request_for(TITLE);
  gsms_operation *op = NULL;
  gsms_status st;
  double t0;
  memset(&b, 0, sizeof b);
  memset(&s, 0, sizeof s);
  /* One client, so both callbacks share its one callback thread; the first (cancelled) op's
     callback blocks in user code. */
  os.url = g_url[SRV_STUCK];
  os.mode = GSMS_CALLBACKS_ON_WORKER;
  stuck = make_client(os);
  {
    gsms_operation *first = NULL;
    CHECK_STATUS(gsms_client_create_cluster_async(stuck, r, on_done_blocks_until_released, &b, &first), GSMS_OK);
    CHECK_STATUS(gsms_operation_cancel(first), GSMS_OK);
    CHECK(wait_flag(&b.blocking, 2000)); /* the callback thread is now blocked in user code */
    CHECK_STATUS(gsms_client_create_cluster_async(stuck, r, on_done_count, &s, &op), GSMS_OK);
    sleep_ms(20);
    t0 = now_ms();
    CHECK_STATUS(gsms_operation_cancel(op), GSMS_OK);
    while ((st = gsms_operation_take_result(op, NULL)) == GSMS_PENDING && now_ms() - t0 < 1000) sleep_ms(1);
    CHECK_STATUS(st, GSMS_ERR_CANCELLED);
    CHECK(now_ms() - t0 < 100);
    CHECK(LOAD(&s.done) == 0); /* its callback waits for the blocked one */
    STORE(&b.release, 1);
    CHECK(wait_ops(&s, 1, 2000) == 1);
    CHECK(s.status == GSMS_ERR_CANCELLED);
    gsms_operation_free(first);
  }
  gsms_operation_free(op);
  gsms_client_free(stuck);
  gsms_cluster_request_free(r);
}

int main(int argc, char **argv) {
  int srv, cb, m, i;
  const uint32_t modes[2] = {GSMS_CALLBACKS_ON_DISPATCH, GSMS_CALLBACKS_ON_WORKER};
  const char *mode_name[2] = {"on-dispatch", "on-worker"};
  char name[160];
  if (argc < 3) {
    fprintf(stderr, "usage: test_lifecycle <emulator base url> <slow emulator base url>\n");
    return 2;
  }
  signal(SIGALRM, on_alarm);
  signal(SIGPIPE, SIG_IGN);
  g_emu = argv[1];
  if (mini_start(&g_stuck, MINI_SILENT) != 0) {
    fprintf(stderr, "cannot start the silent server\n");
    return 2;
  }
  g_url[SRV_STUCK] = g_stuck.base_url;
  g_url[SRV_SLOW] = argv[2];
  g_url[SRV_ANSWER] = argv[1];

  for (srv = 0; srv < SRV_COUNT; srv++) {
    for (m = 0; m < 2; m++) {
      for (i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "defect 1: blocking %s inside a request (%s server, %s) freed from another thread",
                 i ? "allocate" : "create", g_server_name[srv], mode_name[m]);
        if (wanted(name)) scenario(name), blocking_call_freed_from_another_thread(srv, i, modes[m]);
      }
      for (i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "defect 2: free inside the %s of a blocking call (%s server, %s)",
                 i ? "token provider" : "log callback", g_server_name[srv], mode_name[m]);
        if (wanted(name)) scenario(name), free_inside_hook_of_blocking_call(i, srv, modes[m]);
      }
      for (cb = 0; cb < CB_COUNT; cb++) {
        snprintf(name, sizeof name, "free inside a %s callback (%s server, %s)", g_cb_name[cb], g_server_name[srv],
                 mode_name[m]);
        if (wanted(name)) scenario(name), free_from_callback(cb, srv, modes[m]);
      }
      snprintf(name, sizeof name, "async calls and warmup racing free (%s server, %s)", g_server_name[srv], mode_name[m]);
      if (wanted(name)) scenario(name), async_calls_racing_free(srv, modes[m]);
    }
  }
  for (m = 0; m < 2; m++) {
    for (i = 0; i < 2; i++) {
      snprintf(name, sizeof name, "defect 3: two workers inside the %s, one frees (%s)", i ? "token provider" : "log callback",
               mode_name[m]);
      if (wanted(name)) scenario(name), two_workers_inside_hooks_one_frees(i, modes[m]);
    }
  }
  if (wanted("defect 4: a 400 body echoing the Authorization value leaks nothing")) scenario("defect 4: a 400 body echoing the Authorization value leaks nothing"), server_echoing_the_token_never_leaks_it(MINI_ECHO_AUTH_400, GSMS_ERR_HTTP_STATUS);
  if (wanted("defect 4: a 503 body echoing the Authorization value leaks nothing")) scenario("defect 4: a 503 body echoing the Authorization value leaks nothing"), server_echoing_the_token_never_leaks_it(MINI_ECHO_AUTH_503, GSMS_ERR_RETRIES_EXHAUSTED);
  if (wanted("defect 5: 1e400 in the answer is unparsable, not a protocol error")) scenario("defect 5: 1e400 in the answer is unparsable, not a protocol error"), huge_numbers_are_unparsable_not_protocol_errors();
  if (wanted("defect 6: setters refuse non-ASCII header values and over-long URLs; nothing sent")) scenario("defect 6: setters refuse non-ASCII header values and over-long URLs; nothing sent"), setters_refuse_what_the_transport_refuses();
  if (wanted("defect 8: a dispatch whose callback frees the client counts every callback (max 0)")) scenario("defect 8: a dispatch whose callback frees the client counts every callback (max 0)"), dispatch_that_frees_counts_every_callback(0);
  if (wanted("defect 8: a dispatch whose callback frees the client counts every callback (max 2)")) scenario("defect 8: a dispatch whose callback frees the client counts every callback (max 2)"), dispatch_that_frees_counts_every_callback(2);
  if (wanted("dispatch running a callback while another thread frees")) scenario("dispatch running a callback while another thread frees"), dispatch_racing_free();
  if (wanted("on-worker: cancel reports CANCELLED at once while another callback blocks")) scenario("on-worker: cancel reports CANCELLED at once while another callback blocks"), cancel_reports_at_once_while_a_callback_blocks();
  alarm(0);
  mini_stop(&g_stuck);
  return report("c-lifecycle");
}
