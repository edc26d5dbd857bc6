/* The floor: what one warm request costs with no HTTP library at all. One blocking keep-alive
 * socket (TCP_NODELAY), one write of a prebuilt request (byte for byte what libgsms sends: same
 * header names, order and values, same body), then reads until the head and Content-Length bytes
 * of body are in. Nothing is parsed beyond that (libgsms also parses the JSON answer). HTTPS is
 * OpenSSL (one SSL_write, SSL_read until complete), verifying the server against CAFILE.
 *
 *   bench_raw warm URL N [CAFILE]   one connection, N timed requests after 200 warm-up requests
 *   bench_raw cold URL N [CAFILE]   a new connection (and full TLS handshake) per request, N requests;
 *                                   the SSL_CTX (CAFILE loaded once) is shared, no session resumption
 *
 * URL is the base URL (http://127.0.0.1:port or https://127.0.0.1:port): an IPv4 literal. */
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>

#include "bench.h"

/* What libgsms sends (checked against a capture; benches/c/bench.h has the pieces). */
#define REQ_FMT                                                                                                        \
  "POST " BENCH_PATH " HTTP/1.1\r\n"                                                                                   \
  "host: %s:%d\r\n"                                                                                                    \
  "user-agent: " BENCH_UA "\r\n"                                                                                       \
  "accept: */*\r\n"                                                                                                    \
  "x-xbl-contract-version: 1\r\n"                                                                                      \
  "authorization: " BENCH_TOKEN "\r\n"                                                                                 \
  "content-type: application/json\r\n"                                                                                 \
  "content-length: %zu\r\n"                                                                                            \
  "\r\n"                                                                                                               \
  "%s"

static char g_host[64];
static int g_port;
static int g_tls;
static SSL_CTX *g_ctx;
static char g_req[1024];
static size_t g_req_len;

struct conn {
  int fd;
  SSL *ssl;
};

static void die(const char *what) {
  fprintf(stderr, "bench_raw: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static struct conn open_conn(void) {
  struct conn c = {-1, NULL};
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)g_port);
  if (inet_pton(AF_INET, g_host, &a.sin_addr) != 1) die("the URL's host must be an IPv4 literal");
  c.fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (g_tls) {
    c.ssl = SSL_new(g_ctx);
    if (!c.ssl) die("SSL_new");
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl), g_host);
    SSL_set_fd(c.ssl, c.fd);
    if (SSL_connect(c.ssl) != 1) die("TLS handshake");
  }
  return c;
}

static void close_conn(struct conn *c) {
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
  }
  close(c->fd);
}

static void send_all(struct conn *c, const char *p, size_t n) {
  if (c->ssl) {
    if (SSL_write(c->ssl, p, (int)n) != (int)n) die("SSL_write");
    return;
  }
  while (n) {
    ssize_t k = send(c->fd, p, n, 0);
    if (k <= 0) die("send");
    p += k;
    n -= (size_t)k;
  }
}

static ssize_t recv_some(struct conn *c, char *p, size_t n) {
  if (c->ssl) {
    int k = SSL_read(c->ssl, p, (int)n);
    return k > 0 ? k : -1;
  }
  return recv(c->fd, p, n, 0);
}

/* One request: one write, then reads until the head and Content-Length bytes of body are in. */
static void request(struct conn *c) {
  static char buf[16384];
  size_t len = 0, want = 0;
  send_all(c, g_req, g_req_len);
  for (;;) {
    ssize_t k = recv_some(c, buf + len, sizeof buf - 1 - len);
    if (k <= 0) die("connection closed before the whole answer");
    len += (size_t)k;
    buf[len] = 0;
    if (!want) {
      char *end = strstr(buf, "\r\n\r\n");
      if (!end) continue;
      if (strncmp(buf, "HTTP/1.1 200", 12) != 0) die("not a 200 answer");
      char *cl = strcasestr(buf, "\r\ncontent-length:");
      if (!cl || cl > end) die("no Content-Length");
      want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
    }
    if (len >= want) break;
  }
  if (len != want) die("more bytes than Content-Length");
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_raw warm|cold BASE_URL N [CAFILE]\n");
    return 2;
  }
  const char *mode = argv[1], *url = argv[2];
  size_t n = strtoul(argv[3], NULL, 10);
  const char *cafile = argc > 4 ? argv[4] : NULL;
  const char *label = getenv("BENCH_LABEL") ? getenv("BENCH_LABEL") : "raw";
  g_tls = strncmp(url, "https://", 8) == 0;
  const char *hp = url + (g_tls ? 8 : 7);
  const char *colon = strrchr(hp, ':');
  if (!colon || (size_t)(colon - hp) >= sizeof g_host) die("URL must be http(s)://IPV4:PORT");
  memcpy(g_host, hp, (size_t)(colon - hp));
  g_port = atoi(colon + 1);
  int w = snprintf(g_req, sizeof g_req, REQ_FMT, g_host, g_port, strlen(BENCH_BODY), BENCH_BODY);
  if (w <= 0 || (size_t)w >= sizeof g_req) die("request too long");
  g_req_len = (size_t)w;
  if (g_tls) {
    g_ctx = SSL_CTX_new(TLS_client_method());
    if (!g_ctx) die("SSL_CTX_new");
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, NULL);
    if (!cafile || SSL_CTX_load_verify_locations(g_ctx, cafile, NULL) != 1) die("CAFILE");
    /* Full handshakes only: no session cache on the client. */
    SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
    /* Read whole socket buffers, not a record header and then its body: one read per answer. */
    SSL_CTX_set_read_ahead(g_ctx, 1);
  }
  const char *scheme = g_tls ? "https" : "http";
  char test[64];
  uint64_t *v = calloc(n ? n : 1, sizeof *v);
  if (strcmp(mode, "warm") == 0) {
    struct conn c = open_conn();
    for (int i = 0; i < 200; i++) request(&c);
    uint64_t cpu0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
      uint64_t t0 = now_ns();
      request(&c);
      v[i] = now_ns() - t0;
    }
    uint64_t cpu = cpu_ns() - cpu0;
    snprintf(test, sizeof test, "warm_%s", scheme);
    print_latency(label, test, v, n, cpu);
    close_conn(&c);
  } else if (strcmp(mode, "cold") == 0) {
    uint64_t cpu0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
      uint64_t t0 = now_ns();
      struct conn c = open_conn();
      request(&c);
      close_conn(&c);
      v[i] = now_ns() - t0;
    }
    uint64_t cpu = cpu_ns() - cpu0;
    snprintf(test, sizeof test, "cold_%s", scheme);
    print_latency(label, test, v, n, cpu);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  free(v);
  if (g_ctx) SSL_CTX_free(g_ctx);
  return 0;
}
