/* The libcurl baseline: the same POST as libgsms (path, headers, body) with libcurl's easy API.
 *
 *   bench_curl warm URL N [CAFILE]   one reused easy handle (keep-alive), N timed calls after 200 warm-up calls
 *   bench_curl cold URL N [CAFILE]   new easy handle (new connection, TLS handshake) per call, N calls
 *   bench_curl mem  URL N [CAFILE]   RSS and heap in use after 1,000 and after N calls on one handle
 *
 * URL is the base URL (http://127.0.0.1:port or https://...); CAFILE the PEM bundle to trust. */
#include <curl/curl.h>

#include "bench.h"

struct sink {
  char buf[4096];
  size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  struct sink *s = ud;
  size_t k = size * n;
  if (s->len + k < sizeof s->buf) {
    memcpy(s->buf + s->len, p, k);
    s->len += k;
  }
  return k;
}

static struct curl_slist *headers(void) {
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "x-xbl-contract-version: 1");
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Authorization: " BENCH_TOKEN);
  return h;
}

static void setup(CURL *c, const char *url, const char *cafile, struct curl_slist *h, struct sink *s) {
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_USERAGENT, BENCH_UA);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, BENCH_BODY);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(BENCH_BODY));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
  if (cafile && *cafile) curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
}

static void perform(CURL *c, struct sink *s) {
  s->len = 0;
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK || code != 200 || s->len == 0 || !strstr(s->buf, "Fulfilled")) {
    fprintf(stderr, "bench_curl: request failed: %s (HTTP %ld)\n", curl_easy_strerror(rc), code);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_curl warm|cold|mem BASE_URL N [CAFILE]\n");
    return 2;
  }
  const char *mode = argv[1];
  char url[512];
  snprintf(url, sizeof url, "%s%s", argv[2], BENCH_PATH);
  size_t n = strtoul(argv[3], NULL, 10);
  const char *cafile = argc > 4 ? argv[4] : NULL;
  const char *scheme = strncmp(url, "https", 5) == 0 ? "https" : "http";
  const char *label = getenv("BENCH_LABEL") ? getenv("BENCH_LABEL") : "libcurl";
  char test[64];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct curl_slist *h = headers();
  static struct sink s;
  uint64_t *v = calloc(n, sizeof *v);

  if (strcmp(mode, "warm") == 0) {
    CURL *c = curl_easy_init();
    setup(c, url, cafile, h, &s);
    for (int i = 0; i < 200; i++) perform(c, &s);
    uint64_t cpu0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
      uint64_t t0 = now_ns();
      perform(c, &s);
      v[i] = now_ns() - t0;
    }
    uint64_t cpu = cpu_ns() - cpu0;
    snprintf(test, sizeof test, "warm_%s", scheme);
    print_latency(label, test, v, n, cpu);
    curl_easy_cleanup(c);
  } else if (strcmp(mode, "cold") == 0) {
    uint64_t cpu0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
      uint64_t t0 = now_ns();
      CURL *c = curl_easy_init();
      setup(c, url, cafile, h, &s);
      perform(c, &s);
      curl_easy_cleanup(c);
      v[i] = now_ns() - t0;
    }
    uint64_t cpu = cpu_ns() - cpu0;
    snprintf(test, sizeof test, "cold_%s", scheme);
    print_latency(label, test, v, n, cpu);
  } else if (strcmp(mode, "mem") == 0) {
    long rss0 = rss_kib(), heap0 = heap_in_use();
    CURL *c = curl_easy_init();
    setup(c, url, cafile, h, &s);
    perform(c, &s);
    long rss_idle = rss_kib(), heap_idle = heap_in_use();
    for (int i = 1; i < 1000; i++) perform(c, &s);
    long rss1k = rss_kib(), heap1k = heap_in_use();
    for (size_t i = 1000; i < n; i++) perform(c, &s);
    long rssn = rss_kib(), heapn = heap_in_use();
    printf("RESULT %s mem_%s calls=%zu rss_base_kib=%ld rss_after_first_call_kib=%ld rss_1k_kib=%ld rss_end_kib=%ld "
           "heap_first_call_bytes=%ld heap_1k_bytes=%ld heap_end_bytes=%ld heap_growth_per_call_bytes=%.3f\n",
           label, scheme, n, rss0, rss_idle, rss1k, rssn, heap_idle - heap0, heap1k - heap0, heapn - heap0,
           (double)(heapn - heap1k) / (double)(n - 1000));
    curl_easy_cleanup(c);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  curl_slist_free_all(h);
  free(v);
  curl_global_cleanup();
  return 0;
}
