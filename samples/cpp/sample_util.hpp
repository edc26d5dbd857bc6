// sample_util.hpp: what both C++ samples need besides gsms.hpp (POSIX sockets: Linux and macOS).
#ifndef GSMS_SAMPLE_UTIL_HPP
#define GSMS_SAMPLE_UTIL_HPP

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace sample {

inline std::string env_or(const char *name, const char *fallback) {
  const char *v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

// Sends `text` to host:port over UDP and waits up to 2 s for the answer.
inline std::optional<std::string> udp_round_trip(const std::string &host, uint32_t port, const std::string &text) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo *addrs = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs) != 0 || !addrs) return std::nullopt;
  std::optional<std::string> reply;
  const int fd = socket(addrs->ai_family, addrs->ai_socktype, addrs->ai_protocol);
  if (fd >= 0) {
    timeval tv{};
    tv.tv_sec = 2;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[1500];
    if (sendto(fd, text.data(), text.size(), 0, addrs->ai_addr, addrs->ai_addrlen) == static_cast<ssize_t>(text.size())) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n >= 0) reply = std::string(buf, static_cast<size_t>(n));
    }
    close(fd);
  }
  freeaddrinfo(addrs);
  return reply;
}

}  // namespace sample

#endif  // GSMS_SAMPLE_UTIL_HPP
