/* Tiny test helpers shared by the C-ABI test programs: checks with counters, and a raw-socket
   client for the emulator's admin API (faults, reset, state). */
#ifndef GSMS_TEST_CHECK_H
#define GSMS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portable.h" /* sockets on POSIX and Windows */

/* Counted atomically: checks may run on library threads (inside callbacks). */
static int g_passed, g_failed;
#define CHECK_COUNT_(c) __atomic_add_fetch(&(c), 1, __ATOMIC_RELAXED)

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (cond) {                                                                     \
      CHECK_COUNT_(g_passed);                                                       \
    } else {                                                                        \
      CHECK_COUNT_(g_failed);                                                       \
      fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              gsms_last_error_message());                                           \
    }                                                                               \
  } while (0)

#define CHECK_STATUS(expr, want)                                                              \
  do {                                                                                        \
    gsms_status got_ = (expr);                                                                \
    if (got_ == (want)) {                                                                     \
      CHECK_COUNT_(g_passed);                                                                 \
    } else {                                                                                  \
      CHECK_COUNT_(g_failed);                                                                 \
      fprintf(stderr, "FAIL %s:%d: %s = %s, want %s (last error: %s)\n", __FILE__, __LINE__, \
              #expr, gsms_status_name(got_), gsms_status_name(want), gsms_last_error_message()); \
    }                                                                                         \
  } while (0)

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* "http://127.0.0.1:PORT" -> PORT */
static inline int emu_port(const char *base) {
  const char *colon = strrchr(base, ':');
  return colon ? atoi(colon + 1) : 0;
}

/* Sends one admin request; returns the HTTP status (0 on failure) and copies the body. */
static inline int emu_admin(const char *base, const char *method, const char *path, const char *body,
                     char *out, size_t out_len) {
  test_socket fd = test_net_init() ? socket(AF_INET, SOCK_STREAM, 0) : TEST_NO_SOCKET;
  struct sockaddr_in a;
  char req[1024], resp[65536];
  size_t got = 0;
  long n;
  int status = 0;
  if (fd == TEST_NO_SOCKET) return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)emu_port(base));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    test_socket_close(fd);
    return 0;
  }
  snprintf(req, sizeof req,
           "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
           "Content-Length: %zu\r\n\r\n%s",
           method, path, body ? strlen(body) : 0, body ? body : "");
  if (test_socket_send(fd, req, strlen(req)) < 0) {
    test_socket_close(fd);
    return 0;
  }
  while (got < sizeof resp - 1 && (n = test_socket_recv(fd, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)n;
  resp[got] = 0;
  test_socket_close(fd);
  sscanf(resp, "HTTP/1.1 %d", &status);
  if (out && out_len) {
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(out, out_len, "%s", b ? b + 4 : "");
  }
  return status;
}

/* Number of requests the emulator has seen on /titles/... */
static inline long emu_request_count(const char *base) {
  char body[65536];
  const char *p;
  if (emu_admin(base, "GET", "/_emulator/state", NULL, body, sizeof body) != 200) return -1;
  p = strstr(body, "\"requestCount\"");
  if (!p) return -1;
  p += strlen("\"requestCount\"");
  while (*p == ':' || *p == ' ') p++;
  return atol(p);
}

static inline void emu_reset(const char *base) { emu_admin(base, "POST", "/_emulator/reset", NULL, NULL, 0); }

static inline void emu_fault(const char *base, const char *json) {
  emu_admin(base, "POST", "/_emulator/faults", json, NULL, 0);
}

static inline int report(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

#endif
