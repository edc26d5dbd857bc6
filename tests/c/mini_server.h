/* A tiny HTTP/1.1 server on 127.0.0.1 for the C-ABI tests that need answers the emulator never
   gives: silence (a request that is accepted and never answered), error bodies that echo the
   request's Authorization value, 2xx bodies with numbers no JSON library can hold.
   One thread accepts; each connection is served on its own thread until the peer closes it. */
#ifndef GSMS_TEST_MINI_SERVER_H
#define GSMS_TEST_MINI_SERVER_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portable.h" /* sockets on POSIX and Windows */

typedef enum {
  MINI_SILENT,        /* read the request, never answer, keep the connection open */
  MINI_ECHO_AUTH_400, /* 400 whose body, message and correlation id echo the Authorization value */
  MINI_ECHO_AUTH_503, /* the same with 503 (retried, then RETRIES_EXHAUSTED) */
  MINI_HUGE_NUMBERS   /* 200 with pollIntervalMilliseconds and fulfillmentState holding 1e400 */
} mini_mode;

typedef struct {
  test_socket listen_fd;
  int port;
  mini_mode mode;
  int stop; /* read and written atomically */
  pthread_t accept_thread;
  char base_url[64];
} mini_server;

typedef struct {
  mini_server *srv;
  test_socket fd;
} mini_conn;

/* The value of header `name` (case-insensitive) in a request head, copied into out. */
static inline void mini_header(const char *head, const char *name, char *out, size_t n) {
  size_t len = strlen(name);
  const char *p = head;
  out[0] = 0;
  while ((p = strstr(p, "\r\n")) != NULL) {
    p += 2;
    if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
      const char *v = p + len + 1, *e;
      while (*v == ' ') v++;
      e = strstr(v, "\r\n");
      if (!e) e = v + strlen(v);
      snprintf(out, n, "%.*s", (int)(e - v), v);
      return;
    }
  }
}

static void *mini_serve(void *arg) {
  mini_conn *c = (mini_conn *)arg;
  char buf[65536];
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(c->fd, buf + got, sizeof buf - 1 - got, 0);
    char *end;
    if (n <= 0) break;
    got += (size_t)n;
    buf[got] = 0;
    while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
      char auth[1024], cl[32], body[4096], resp[8192];
      size_t head_len = (size_t)(end - buf) + 4, body_len, total;
      int status = 200;
      const char *reason = "OK";
      mini_header(buf, "Authorization", auth, sizeof auth);
      mini_header(buf, "Content-Length", cl, sizeof cl);
      body_len = (size_t)atol(cl);
      total = head_len + body_len;
      if (got < total) break; /* the body is still coming */
      if (c->srv->mode == MINI_SILENT) {
        got = 0; /* swallow it; never answer */
        break;
      }
      if (c->srv->mode == MINI_HUGE_NUMBERS) {
        snprintf(body, sizeof body,
                 "{\"pollIntervalMilliseconds\":1e400,\"fulfillmentState\":1e400,\"hostName\":\"h.example\","
                 "\"region\":\"r\",\"extra\":-1e400}");
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(body), body);
      } else {
        status = c->srv->mode == MINI_ECHO_AUTH_400 ? 400 : 503;
        reason = status == 400 ? "Bad Request" : "Service Unavailable";
        snprintf(body, sizeof body,
                 "{\"code\":%d,\"source\":\"echo\",\"description\":\"you sent Authorization: %s\","
                 "\"message\":\"token %s is bad\",\"errorMessage\":\"%s\"}",
                 status, auth, auth, auth);
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nX-XblCorrelationId: echo-%s\r\n%s"
                 "Content-Length: %zu\r\n\r\n%s",
                 status, reason, auth, status == 503 ? "Retry-After: 0\r\n" : "", strlen(body), body);
      }
      if (send(c->fd, resp, strlen(resp), 0) < 0) break;
      memmove(buf, buf + total, got - total);
      got -= total;
      buf[got] = 0;
    }
    if (got >= sizeof buf - 1) break;
  }
  test_socket_close(c->fd);
  free(c);
  return NULL;
}

static void *mini_accept(void *arg) {
  mini_server *s = (mini_server *)arg;
  while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
    test_socket fd = accept(s->listen_fd, NULL, NULL);
    pthread_t t;
    mini_conn *c;
    if (fd == TEST_NO_SOCKET) continue;
    if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
      test_socket_close(fd);
      break;
    }
    c = (mini_conn *)malloc(sizeof *c);
    c->srv = s;
    c->fd = fd;
    if (pthread_create(&t, NULL, mini_serve, c) == 0) {
      pthread_detach(t);
    } else {
      test_socket_close(fd);
      free(c);
    }
  }
  return NULL;
}

/* Starts a server in `mode` on a free port; base_url is "http://127.0.0.1:PORT". 0 on success. */
static inline int mini_start(mini_server *s, mini_mode mode) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int one = 1;
  memset(s, 0, sizeof *s);
  s->mode = mode;
  if (!test_net_init()) return -1;
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->listen_fd == TEST_NO_SOCKET) return -1;
  setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->listen_fd, 128) != 0 ||
      getsockname(s->listen_fd, (struct sockaddr *)&a, &len) != 0)
    return -1;
  s->port = ntohs(a.sin_port);
  snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", s->port);
  return pthread_create(&s->accept_thread, NULL, mini_accept, s) == 0 ? 0 : -1;
}

/* Stops accepting (connections already served stay until their peer closes them). */
static inline void mini_stop(mini_server *s) {
  test_socket fd;
  struct sockaddr_in a;
  __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
  /* Wake the accept() with a connection of our own. */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)s->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd != TEST_NO_SOCKET) {
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
      pthread_join(s->accept_thread, NULL);
    }
    test_socket_close(fd);
  }
  test_socket_close(s->listen_fd);
}

#endif
