/* Shared helpers of the C benchmark programs (bench_gsms.c, bench_curl.c): clocks, CPU time,
 * percentiles, RSS and heap-in-use readings, the request both clients send, and a listener that
 * accepts connections and never answers. Results are printed as one line per measurement:
 *   RESULT <client> <test> key=value ...
 * which scripts/bench.sh collects into BENCHMARKS.md. */
#ifndef GSMS_BENCH_H
#define GSMS_BENCH_H

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The request both clients send: same path, headers (but curl's own Accept) and body. */
#define BENCH_TITLE_ID 1234u
#define BENCH_SCID "00000000-0000-0000-0000-000000000000"
#define BENCH_TEMPLATE "quick"
#define BENCH_SESSION "bench"
#define BENCH_PATH "/titles/1234/clusters"
#define BENCH_BODY                                                                                                     \
  "{\"sessionId\":\"/serviceconfigs/" BENCH_SCID "/sessionTemplates/" BENCH_TEMPLATE "/sessions/" BENCH_SESSION "\"}"
#define BENCH_TOKEN "XBL3.0 x=bench;bench-token"
#define BENCH_UA "gsms/0.1.0"

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread, in ns (a system call: measure its own cost). */
static inline uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* User + system CPU time of the whole process (every thread), in ns. */
static inline uint64_t cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
         ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts `v` and returns its p-th percentile (nearest rank). */
static inline uint64_t pct(uint64_t *v, size_t n, double p) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_u64);
  size_t i = (size_t)(p / 100.0 * (double)n);
  if (i >= n) i = n - 1;
  return v[i];
}

static inline double mean_u64(const uint64_t *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)v[i];
  return n ? s / (double)n : 0;
}

/* Resident set size in KiB (from /proc/self/statm). */
static inline long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Bytes handed out by malloc and not yet freed, over every arena (glibc mallinfo2). */
static inline long heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return (long)mi.uordblks + (long)mi.hblkhd;
}

/* Prints latency figures of `n` samples (ns) in microseconds; sorts `v`. */
static inline void print_latency(const char *client, const char *test, uint64_t *v, size_t n, uint64_t cpu) {
  double mean = mean_u64(v, n);
  uint64_t p50 = pct(v, n, 50), p90 = pct(v, n, 90), p99 = pct(v, n, 99);
  printf("RESULT %s %s n=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f cpu_us_per_req=%.1f\n", client,
         test, n, p50 / 1e3, p90 / 1e3, p99 / 1e3, mean / 1e3, v[n - 1] / 1e3, cpu / 1e3 / (double)n);
  fflush(stdout);
}

/* A listener that accepts every connection and never answers (requests stuck on a dead server).
 * Returns its port; the accepted sockets stay open until the process exits. */
static void *blackhole_loop(void *arg) {
  int fd = (int)(intptr_t)arg;
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) continue;
  }
  return NULL;
}

static inline int start_blackhole(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    perror("blackhole");
    exit(2);
  }
  pthread_t t;
  pthread_create(&t, NULL, blackhole_loop, (void *)(intptr_t)fd);
  pthread_detach(t);
  return ntohs(a.sin_port);
}

static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#endif
