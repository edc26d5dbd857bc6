/* Test-only stand-in for bcryptprimitives.dll, which Windows 10 and later have and Wine 8.0 (Debian
   12) does not. Rust's std (so gsms.dll) imports ProcessPrng from it for random numbers; without
   it the test programs cannot start under wine. scripts/test_platforms.sh builds this next to the
   test programs. It is never shipped: on Windows the system's own DLL is loaded.
   ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036), the generator
   Windows itself had before ProcessPrng. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
