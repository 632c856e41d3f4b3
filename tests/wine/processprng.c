/* bcryptprimitives.dll for Wine 8.0 (Debian 12), which lacks it: Go's Windows
 * runtime (1.24 and later) loads ProcessPrng from it at start and stops with
 * "bcryptprimitives.dll not found" otherwise. ProcessPrng fills a buffer
 * with random bytes and always succeeds (Microsoft's documentation); here it
 * is RtlGenRandom, advapi32's SystemFunction036, which Wine implements.
 * Built by tests/wine/run.sh with Debian's mingw-w64 and copied into the
 * test's Wine prefix only; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
