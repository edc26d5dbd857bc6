/* ThreadSanitizer shim for a Rust library built with -Zsanitizer=thread and a C program built
   with gcc 12: rustc emits calls to __tsan_memcpy, __tsan_memset and __tsan_memmove, which gcc 12's
   libtsan does not export. These forward to the C library functions, which libtsan intercepts
   (so the accesses are still checked). Used by scripts/test_sanitizers.sh (GSMS_TSAN=1) only. */
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);

void *__tsan_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *__tsan_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
void *__tsan_memmove(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
