/* The C side of the CMake consumer: prints the library version, exits 0 when the ABI matches. */
#include <stdio.h>

#include "gsms.h"

int main(void) {
  printf("gsms %s (C)\n", gsms_version_string());
  return (gsms_abi_version() >> 16) == GSMS_ABI_MAJOR ? 0 : 1;
}
