/* Portability for the C-ABI test programs, so the same tests, with the same assertions, run on
   Linux (natively, under valgrind, and aarch64 under qemu) and on Windows (mingw-w64, under wine):
   - sockets: BSD sockets, or Winsock 2 (started once with WSAStartup);
   - threads, clock_gettime(CLOCK_MONOTONIC) and nanosleep: POSIX, which mingw-w64's winpthreads
     provides on Windows (scripts/test_platforms.sh links it statically, so the test programs need
     no DLL besides gsms.dll);
   - signal(SIGALRM) + alarm() watchdogs: a thread on Windows.
   The tests include this through check.h (or mini_server.h) and use only the names below for
   sockets. */
#ifndef GSMS_TEST_PORTABLE_H
#define GSMS_TEST_PORTABLE_H

#include <stddef.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <io.h>     /* write */
#include <unistd.h> /* mingw-w64's: getpid, usleep */

typedef SOCKET test_socket;
#define TEST_NO_SOCKET INVALID_SOCKET

/* 1 once Winsock is started (WSAStartup is reference counted, so a racing second call is harmless). */
static inline int test_net_init(void) {
  static int started;
  WSADATA wsa;
  if (!started) started = WSAStartup(MAKEWORD(2, 2), &wsa) == 0;
  return started;
}
static inline void test_socket_close(test_socket s) { closesocket(s); }
static inline long test_socket_send(test_socket s, const char *buf, size_t len) {
  return (long)send(s, buf, (int)len, 0);
}
static inline long test_socket_recv(test_socket s, char *buf, size_t len) {
  return (long)recv(s, buf, (int)len, 0);
}

/* A watchdog for the tests' signal(SIGALRM, handler) + alarm(seconds), which Windows lacks: a
   thread runs the handler (or exits, as SIGALRM's default would) once the deadline passes.
   SIGPIPE does not exist there either (a send on a closed socket fails instead): ignoring it is
   what the tests ask, so signal(SIGPIPE, ...) does nothing. */
#include <signal.h>
#include <stdlib.h>
#ifndef SIGALRM
#define SIGALRM 14
#endif
#ifndef SIGPIPE
#define SIGPIPE 13
#endif
typedef void (*test_sig_fn)(int);
static inline test_sig_fn *test_alarm_handler(void) {
  static test_sig_fn handler = SIG_DFL;
  return &handler;
}
static inline volatile LONG64 *test_alarm_deadline(void) { /* GetTickCount64() ms; 0: none */
  static volatile LONG64 deadline;
  return &deadline;
}
static inline DWORD WINAPI test_alarm_thread(LPVOID unused) {
  (void)unused;
  for (;;) {
    LONG64 d = InterlockedCompareExchange64(test_alarm_deadline(), 0, 0);
    if (d != 0 && (LONG64)GetTickCount64() >= d) {
      test_sig_fn h = *test_alarm_handler();
      if (h != SIG_DFL && h != SIG_IGN) h(SIGALRM);
      if (h != SIG_IGN) _exit(128 + SIGALRM);
      InterlockedExchange64(test_alarm_deadline(), 0);
    }
    Sleep(20);
  }
  return 0;
}
static inline test_sig_fn test_signal(int sig, test_sig_fn fn) {
  test_sig_fn old;
  if (sig == SIGPIPE) return SIG_IGN;
  if (sig != SIGALRM) return signal(sig, fn);
  old = *test_alarm_handler();
  *test_alarm_handler() = fn;
  return old;
}
static inline unsigned test_alarm(unsigned seconds) {
  static volatile LONG started;
  InterlockedExchange64(test_alarm_deadline(), seconds ? (LONG64)GetTickCount64() + (LONG64)seconds * 1000 : 0);
  if (InterlockedCompareExchange(&started, 1, 0) == 0) CloseHandle(CreateThread(NULL, 0, test_alarm_thread, NULL, 0, NULL));
  return 0;
}
#define signal test_signal
#define alarm test_alarm

#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int test_socket;
#define TEST_NO_SOCKET (-1)

static inline int test_net_init(void) { return 1; }
static inline void test_socket_close(test_socket s) { close(s); }
static inline long test_socket_send(test_socket s, const char *buf, size_t len) { return (long)write(s, buf, len); }
static inline long test_socket_recv(test_socket s, char *buf, size_t len) { return (long)read(s, buf, len); }
#endif

#endif
