/* Portability for the C-ABI test programs, so the same tests, with the same assertions, run on
   Linux (natively, under valgrind, and aarch64 under qemu) and on Windows (mingw-w64, under wine):
   - sockets: BSD sockets, or Winsock 2 (started once with WSAStartup);
   - threads, clock_gettime(CLOCK_MONOTONIC) and nanosleep: POSIX, which mingw-w64's winpthreads
     provides on Windows (scripts/test_platforms.sh links it statically, so the test programs need
     no DLL besides gsms.dll).
   The tests include this through check.h and use only the names below for sockets. */
#ifndef GSMS_TEST_PORTABLE_H
#define GSMS_TEST_PORTABLE_H

#include <stddef.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

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
