// Builds a client with gsms.hpp and asks the emulator (argv[1]) for a server: exits 0 when it is
// Fulfilled. Compiled as C++17 because gsms::gsms asks for it; the project itself says C++14.
#include <cstdio>
#include <string>

#include "gsms.hpp"

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: consumer BASE_URL\n");
    return 2;
  }
  std::printf("gsms %s, C++ %ld, ABI compatible: %d\n", gsms::version_string(), (long)__cplusplus, (int)gsms::abi_compatible());
  gsms::Config cfg;
  if (!cfg.base_url(argv[1]) || !cfg.auth_token("XBL3.0 x=dev;dev-token")) return 1;
  auto client = gsms::Client::create(cfg);
  if (!client) {
    std::printf("client: %s\n", client.error().describe().c_str());
    return 1;
  }
  gsms::ClusterRequest req(7);
  if (!req.session("00000000-0000-0000-0000-000000000000", "quick", "cmake-consumer")) return 1;
  auto res = client->allocate_cluster(req, 30000);
  if (!res || !res->fulfilled()) {
    std::printf("allocate: %s\n", res ? "not fulfilled" : res.error().describe().c_str());
    return 1;
  }
  std::printf("Fulfilled: %s\n", res->host_name().c_str());
  return 0;
}
