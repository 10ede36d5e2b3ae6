/*
 * wineshim.sys: the Wine test bench's own module between rdmus.sys and Wine's kernel
 * (issue 14, item 3). Never shipped; built by crates/wine-run (src/shim.rs) with mingw-w64.
 *
 * The bench's copy of rdmus.sys imports everything it took from ntoskrnl.exe and hal.dll from
 * this module instead. The export list (a .def file the builder writes from the image's
 * imports) forwards every name to ntoskrnl.exe or hal.dll, except the three Wine 8.0 only
 * stubs (calling a stub kills winedevice.exe), which are defined here:
 *
 * - KeStallExecutionProcessor (hal.dll): busy-waits on hal's KeQueryPerformanceCounter,
 *   which Wine implements.
 * - KeRemoveQueueDpc: TRUE if the DPC was queued. Wine 8.0 queues no DPC a timer fires:
 *   KeSetTimerEx's expiry runs the DPC routine straight from a thread-pool callback, so a
 *   timer DPC is never waiting in a queue and the answer is FALSE. (rdmus queues no DPC of
 *   its own: KeInsertQueueDpc is not among its imports.)
 * - MmUserProbeAddress: exported data, the first address above user space. Wine's export is
 *   a code stub; x64 Windows (8.1 and later) and Wine x64 end user space at 0x7FFFFFFF0000.
 *
 * The entry is called as DllMain (Wine loads a driver's dependency as a DLL) and returns TRUE.
 */

typedef unsigned char BOOLEAN;
typedef long long LONGLONG;
typedef union {
    struct {
        unsigned long LowPart;
        long HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER;

__declspec(dllimport) LARGE_INTEGER __stdcall KeQueryPerformanceCounter(LARGE_INTEGER *Frequency);

unsigned long long MmUserProbeAddress = 0x7FFFFFFF0000ULL;

void __stdcall KeStallExecutionProcessor(unsigned long MicroSeconds)
{
    LARGE_INTEGER frequency;
    LONGLONG start = KeQueryPerformanceCounter(&frequency).QuadPart;
    /* At most 2^32 us times a 10 MHz (Wine) counter: far below 2^63. */
    LONGLONG ticks = (LONGLONG)MicroSeconds * frequency.QuadPart / 1000000;
    while (KeQueryPerformanceCounter(0).QuadPart - start < ticks)
        __builtin_ia32_pause();
}

BOOLEAN __stdcall KeRemoveQueueDpc(void *Dpc)
{
    (void)Dpc;
    return 0;
}

int __stdcall ShimEntry(void *Instance, unsigned long Reason, void *Reserved)
{
    (void)Instance;
    (void)Reason;
    (void)Reserved;
    return 1;
}
