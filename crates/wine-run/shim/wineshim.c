/*
 * wineshim.sys: the Wine test bench's own module between rdmus.sys and Wine's kernel
 * (issue 14, item 3). Never shipped; built by crates/wine-run (src/shim.rs) with mingw-w64.
 *
 * The bench's copy of rdmus.sys imports everything it took from ntoskrnl.exe and hal.dll from
 * this module instead. The export list (a .def file the builder writes from the image's
 * imports) forwards every name to ntoskrnl.exe or hal.dll, except those Wine 8.0 gets wrong,
 * which are defined here (as Shim<Name>, exported under the kernel's name):
 *
 * - KeStallExecutionProcessor (hal.dll, a stub in Wine): busy-waits on hal's
 *   KeQueryPerformanceCounter, which Wine implements.
 * - MmUserProbeAddress (data; Wine's export is a code stub): the first address above user
 *   space. x64 Windows (8.1 and later) and Wine x64 end user space at 0x7FFFFFFF0000.
 * - The timer and DPC routines the image imports: KeInitializeTimerEx, KeSetTimerEx,
 *   KeCancelTimer, KeInitializeDpc, KeRemoveQueueDpc (a stub in Wine), KeFlushQueuedDpcs.
 *   Wine 8.0's KeSetTimerEx cancels the timer first and waits for its running callback
 *   (TpWaitForTimer), so a DPC that re-arms its own timer waits for itself and never returns
 *   (rdmus's MPU-401 render DPC re-arms when bytes are left after a burst). Wine's own
 *   KeFlushQueuedDpcs knows nothing of the shim's DPC queue, so the shim has its own.
 *
 * # The timers
 * As wdm.h and the KeSetTimerEx / KeCancelTimer / KeRemoveQueueDpc reference pages describe:
 * - KeSetTimerEx on a timer in the queue takes it out and puts it back with the new due time,
 *   and returns TRUE (FALSE if it was not in the queue). It never waits, so a DPC may re-arm
 *   its own timer. Due time: negative = relative, in 100 ns; positive = absolute system time
 *   (NtQuerySystemTime), turned into a relative one when set (a change of the system clock
 *   after that does not move the timer, a difference from Windows rdmus does not meet: it
 *   only sets relative times). Period > 0: in ms, re-queued at each expiry.
 * - At expiry the timer leaves the queue, is signalled, and its DPC is queued unless it is
 *   already queued (KeInsertQueueDpc's rule).
 * - KeCancelTimer takes the timer out of the queue, returns whether it was in it, and does
 *   not touch a DPC its expiry queued or wait for a running one (Windows does neither).
 * - KeRemoveQueueDpc takes a queued DPC out and returns TRUE; FALSE if it was not queued
 *   (a running DPC is not queued: it is not waited for, as on Windows).
 * So once KeCancelTimer and KeRemoveQueueDpc have returned, the DPC does not start again
 * (it is neither queued nor in a queued timer), and a DPC already running may still run on,
 * exactly as on Windows. The shim is never more lenient than that: it waits for nothing
 * Windows does not wait for.
 * - KeFlushQueuedDpcs (PASSIVE_LEVEL) returns once every DPC queued or running at the call has
 *   run (or was removed); DPCs queued later are not waited for. rdmus's stream timer
 *   (driver/miniport/timer.rs) calls it after cancel and remove, before it frees the KTIMER,
 *   the KDPC and the stream. The shim queues a marker DPC of its own behind the queue (the
 *   timer thread runs DPCs one at a time, first queued first, so the marker runs after all
 *   of them) and waits for it; with nothing queued or running it returns at once. Called
 *   from a DPC (DISPATCH_LEVEL on Windows; here, on the timer thread, it would wait for
 *   itself) it bug-checks instead.
 *
 * One thread of the shim ("the timer thread", made when the module is loaded) plays the
 * clock interrupt and one processor's DPC queue: it expires due timers, then runs the
 * queued DPCs one at a time, first queued first, with no lock of the shim held (a DPC may
 * call every routine here), and sleeps until the earliest due time or until a set makes an
 * earlier one. Time is the interrupt time read from hal's KeQueryPerformanceCounter
 * (monotonic, 100 ns). Expiry is as late as Wine's waits wake (about 1 ms), not quantised
 * to a 15.6 ms clock interval: the timing of a system at 1 ms timer resolution.
 *
 * # Where the state lives: in the objects' own fields
 * Each KTIMER and KDPC keeps its state in the fields wdm.h gives the kernel (drivers never
 * touch them), as Windows does: the queue of timers is a list through each
 * KTIMER.TimerListEntry ordered by KTIMER.DueTime (interrupt time), Header.Inserted says a
 * timer is in it, Header.SignalState that it expired; the DPC queue is a list through each
 * KDPC.DpcListEntry, and KDPC.DpcData is non-null exactly while the DPC is queued. Not a side
 * table keyed by the KTIMER's address: that would need a capacity (a set at DISPATCH_LEVEL
 * cannot fail or allocate), and an entry would outlive the driver's memory, which the shim
 * never sees freed. Header.Type is 8 or 9 (TimerNotificationObject, TimerSynchronizationObject)
 * and a KDPC's Type 19 (DpcObject), the values of Windows' KOBJECTS (no public header defines
 * them; only this module reads them).
 *
 * # What the shim stops on (KeBugCheckEx: Wine writes it and ends winedevice.exe)
 * - 0xC7 TIMER_OR_DPC_INVALID when the module is unloaded (after the driver, which imports
 *   it) with a timer still in the queue (parameter 1 = 0, 2 = the KTIMER) or a DPC queued or
 *   running (1, the KDPC): the driver unloaded without cancelling them;
 * - the same when a timer in the queue is initialised again (0, the KTIMER), or a DPC that is
 *   queued or running (1, the KDPC);
 * - 0xC7 with parameter 1 = 0x100 | the object's Type when KeSetTimerEx / KeCancelTimer is
 *   given something KeInitializeTimerEx did not initialise, or KeSetTimerEx /
 *   KeRemoveQueueDpc a DPC that KeInitializeDpc did not;
 * - 0x133 DPC_WATCHDOG_VIOLATION (parameter 1 = 0) when, at unload, the timer thread has not
 *   ended within 5 s (a DPC that does not return): its code must not go while it runs;
 * - 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION when KeFlushQueuedDpcs is called from a DPC
 *   (parameter 1 = 0x1000, the shim's own value: no public table has one for this case;
 *   parameter 2 = the calling DPC's KDPC).
 *
 * # Load and unload
 * The entry (called as DllMain: Wine loads a driver's dependency as a DLL) makes the timer
 * thread at PROCESS_ATTACH (PsCreateSystemThread) and returns TRUE. At PROCESS_DETACH by
 * FreeLibrary, after the driver's unload, it checks that nothing is pending, stops the thread
 * and waits for it. The thread ends with NtTerminateThread, not PsTerminateSystemThread:
 * Wine's usual thread exit runs the thread-detach notifications under the loader lock, which
 * the detaching thread holds while it waits (a 5 s stall per unload, then the module's code
 * gone under a thread still on its stack).
 */

#include <ntdef.h>
#include <ddk/wdm.h>
#include <stddef.h>

/* The layouts the shim relies on (wdm.h, x64). */
_Static_assert(sizeof(KTIMER) == 64, "KTIMER is 64 bytes on x64");
_Static_assert(offsetof(KTIMER, DueTime) == 24, "KTIMER.DueTime");
_Static_assert(offsetof(KTIMER, TimerListEntry) == 32, "KTIMER.TimerListEntry");
_Static_assert(offsetof(KTIMER, Dpc) == 48, "KTIMER.Dpc");
_Static_assert(offsetof(KTIMER, Period) == 60, "KTIMER.Period");
_Static_assert(sizeof(KDPC) == 64, "KDPC is 64 bytes on x64");
_Static_assert(offsetof(KDPC, DeferredRoutine) == 24, "KDPC.DeferredRoutine");
_Static_assert(offsetof(KDPC, DpcData) == 56, "KDPC.DpcData");

/* Windows' KOBJECTS values (see the header comment). */
#define SHIM_TIMER_NOTIFICATION_OBJECT 8
#define SHIM_TIMER_SYNCHRONIZATION_OBJECT 9
#define SHIM_DPC_OBJECT 19
/* Bug check TIMER_OR_DPC_INVALID and its first parameter's object kinds. */
#define SHIM_BUGCHECK_TIMER_OR_DPC_INVALID 0xC7
#define SHIM_KIND_TIMER 0
#define SHIM_KIND_DPC 1
#define SHIM_KIND_UNINITIALISED 0x100
/* Bug check DPC_WATCHDOG_VIOLATION (parameter 1 = 0: one DPC ran too long). */
#define SHIM_BUGCHECK_DPC_WATCHDOG_VIOLATION 0x133
/* Bug check DRIVER_VERIFIER_DETECTED_VIOLATION, and the shim's own parameter 1 for
 * KeFlushQueuedDpcs called from a DPC (see the header comment). */
#define SHIM_BUGCHECK_DRIVER_VERIFIER_DETECTED_VIOLATION 0xC4
#define SHIM_VIOLATION_FLUSH_FROM_DPC 0x1000

/* ntdll.dll (winternl.h) and ntoskrnl.exe (ntifs.h, ntddk.h) routines wdm.h does not declare. */
__declspec(dllimport) NTSTATUS NTAPI NtQuerySystemTime(PLARGE_INTEGER SystemTime);
__declspec(dllimport) NTSTATUS NTAPI ZwWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable,
                                                           PLARGE_INTEGER Timeout);
__declspec(dllimport) NTSTATUS NTAPI NtTerminateThread(HANDLE Thread, NTSTATUS ExitStatus);
/* ntddk.h (which wdm.h does not include); Wine implements it. */
__declspec(dllimport) HANDLE NTAPI PsGetCurrentThreadId(VOID);

/* ---- KeStallExecutionProcessor, MmUserProbeAddress ---- */

ULONG_PTR ShimMmUserProbeAddress = 0x7FFFFFFF0000ULL;

VOID NTAPI ShimKeStallExecutionProcessor(ULONG MicroSeconds)
{
    LARGE_INTEGER frequency;
    LONGLONG start = KeQueryPerformanceCounter(&frequency).QuadPart;
    /* At most 2^32 us times a 10 MHz (Wine) counter: far below 2^63. */
    LONGLONG ticks = (LONGLONG)MicroSeconds * frequency.QuadPart / 1000000;
    while (KeQueryPerformanceCounter(NULL).QuadPart - start < ticks)
        __builtin_ia32_pause();
}

/* ---- The shim's state: two queues, one lock ---- */

/* A spin lock held only for list operations (never across a call out of the shim). */
static volatile LONG queue_lock;
/* KTIMERs in the queue, by DueTime (earliest first), linked through TimerListEntry. */
static LIST_ENTRY timer_queue;
/* Queued KDPCs, first queued first, linked through DpcListEntry. */
static LIST_ENTRY dpc_queue;
/* The DPC the timer thread is running (NULL between DPCs). */
static PKDPC running_dpc;
/* Set (under the lock) when the module is unloaded: the timer thread ends. */
static BOOLEAN stopping;
/* Wakes the timer thread: a set made an earlier due time, or the module is unloaded. */
static KEVENT wake;
/* The timer thread, waited for at unload. */
static HANDLE timer_thread;
/* The timer thread's id (DPCs run on it), set when it starts. */
static HANDLE volatile timer_thread_id;

static void lock_queues(void)
{
    while (__atomic_exchange_n(&queue_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&queue_lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

static void unlock_queues(void)
{
    __atomic_store_n(&queue_lock, 0, __ATOMIC_RELEASE);
}

static void __attribute__((noreturn)) invalid(ULONG_PTR kind, PVOID object)
{
    KeBugCheckEx(SHIM_BUGCHECK_TIMER_OR_DPC_INVALID, kind, (ULONG_PTR)object, 0, 0);
    for (;;)
        __builtin_ia32_pause();
}

/* The interrupt time: 100 ns units of the performance counter since it started. */
static ULONGLONG interrupt_time(void)
{
    LARGE_INTEGER frequency;
    ULONGLONG ticks = (ULONGLONG)KeQueryPerformanceCounter(&frequency).QuadPart;
    ULONGLONG hz = (ULONGLONG)frequency.QuadPart;
    /* Split so the product cannot overflow: whole seconds, then the rest. */
    return ticks / hz * 10000000ULL + ticks % hz * 10000000ULL / hz;
}

static BOOLEAN is_timer(const KTIMER *timer)
{
    return timer->Header.Type == SHIM_TIMER_NOTIFICATION_OBJECT
        || timer->Header.Type == SHIM_TIMER_SYNCHRONIZATION_OBJECT;
}

/* Puts `timer` in the queue by its DueTime (after those due at the same time); TRUE if it
 * is now the first. Under the lock. */
static BOOLEAN enqueue_timer(PKTIMER timer)
{
    PLIST_ENTRY before = timer_queue.Flink;
    while (before != &timer_queue
           && CONTAINING_RECORD(before, KTIMER, TimerListEntry)->DueTime.QuadPart
                  <= timer->DueTime.QuadPart)
        before = before->Flink;
    InsertTailList(before, &timer->TimerListEntry);
    timer->Header.Inserted = 1;
    return timer_queue.Flink == &timer->TimerListEntry;
}

/* Takes `timer` out of the queue; TRUE if it was in it. Under the lock. */
static BOOLEAN dequeue_timer(PKTIMER timer)
{
    if (!timer->Header.Inserted)
        return FALSE;
    RemoveEntryList(&timer->TimerListEntry);
    InitializeListHead(&timer->TimerListEntry);
    timer->Header.Inserted = 0;
    return TRUE;
}

/* Queues `dpc` unless it is queued already (KeInsertQueueDpc's rule). Under the lock. */
static void enqueue_dpc(PKDPC dpc)
{
    if (dpc->DpcData != NULL)
        return;
    InsertTailList(&dpc_queue, &dpc->DpcListEntry);
    dpc->DpcData = &dpc_queue;
}

/* ---- The exported routines ---- */

VOID NTAPI ShimKeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                               PVOID DeferredContext)
{
    lock_queues();
    BOOLEAN busy = Dpc == running_dpc;
    for (PLIST_ENTRY entry = dpc_queue.Flink; entry != &dpc_queue; entry = entry->Flink)
        busy |= entry == &Dpc->DpcListEntry;
    unlock_queues();
    if (busy)
        invalid(SHIM_KIND_DPC, Dpc);
    Dpc->Type = SHIM_DPC_OBJECT;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    InitializeListHead(&Dpc->DpcListEntry);
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = NULL;
    Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
}

VOID NTAPI ShimKeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    lock_queues();
    BOOLEAN queued = FALSE;
    for (PLIST_ENTRY entry = timer_queue.Flink; entry != &timer_queue; entry = entry->Flink)
        queued |= entry == &Timer->TimerListEntry;
    unlock_queues();
    if (queued)
        invalid(SHIM_KIND_TIMER, Timer);
    Timer->Header.Type = Type == SynchronizationTimer ? SHIM_TIMER_SYNCHRONIZATION_OBJECT
                                                      : SHIM_TIMER_NOTIFICATION_OBJECT;
    Timer->Header.TimerControlFlags = 0;
    Timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
    Timer->Header.Inserted = 0;
    Timer->Header.SignalState = 0;
    InitializeListHead(&Timer->Header.WaitListHead);
    Timer->DueTime.QuadPart = 0;
    InitializeListHead(&Timer->TimerListEntry);
    Timer->Dpc = NULL;
    Timer->Processor = 0;
    Timer->Period = 0;
}

BOOLEAN NTAPI ShimKeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    if (!is_timer(Timer))
        invalid(SHIM_KIND_UNINITIALISED | Timer->Header.Type, Timer);
    if (Dpc != NULL && Dpc->Type != SHIM_DPC_OBJECT)
        invalid(SHIM_KIND_UNINITIALISED | Dpc->Type, Dpc);
    ULONGLONG now = interrupt_time();
    ULONGLONG delay;
    if (DueTime.QuadPart < 0) {
        delay = (ULONGLONG)0 - (ULONGLONG)DueTime.QuadPart;
    } else {
        LARGE_INTEGER system_time;
        NtQuerySystemTime(&system_time);
        delay = DueTime.QuadPart > system_time.QuadPart
                    ? (ULONGLONG)(DueTime.QuadPart - system_time.QuadPart)
                    : 0;
    }
    lock_queues();
    BOOLEAN was_queued = dequeue_timer(Timer);
    Timer->Header.SignalState = 0;
    Timer->DueTime.QuadPart = now + delay < now ? ~0ULL : now + delay;
    Timer->Dpc = Dpc;
    Timer->Period = Period > 0 ? (ULONG)Period : 0;
    BOOLEAN first = enqueue_timer(Timer);
    unlock_queues();
    if (first)
        KeSetEvent(&wake, IO_NO_INCREMENT, FALSE);
    return was_queued;
}

BOOLEAN NTAPI ShimKeCancelTimer(PKTIMER Timer)
{
    if (!is_timer(Timer))
        invalid(SHIM_KIND_UNINITIALISED | Timer->Header.Type, Timer);
    lock_queues();
    BOOLEAN was_queued = dequeue_timer(Timer);
    unlock_queues();
    return was_queued;
}

BOOLEAN NTAPI ShimKeRemoveQueueDpc(PRKDPC Dpc)
{
    if (Dpc->Type != SHIM_DPC_OBJECT)
        invalid(SHIM_KIND_UNINITIALISED | Dpc->Type, Dpc);
    lock_queues();
    BOOLEAN was_queued = Dpc->DpcData != NULL;
    if (was_queued) {
        RemoveEntryList(&Dpc->DpcListEntry);
        InitializeListHead(&Dpc->DpcListEntry);
        Dpc->DpcData = NULL;
    }
    unlock_queues();
    return was_queued;
}

/* KeFlushQueuedDpcs's marker: its routine sets the flushing thread's event, its last access
 * to the marker (Wine's KeSetEvent holds its sync lock while it touches the event, and the
 * waiter takes that lock again before its wait returns). The timer thread reads nothing of
 * a KDPC after its routine returns; it only clears running_dpc, which the flushing thread
 * waits for before its frame (the marker, the event) goes. */
static VOID NTAPI flush_marker_run(PKDPC Dpc, PVOID Context, PVOID Argument1,
                                   PVOID Argument2)
{
    (void)Dpc, (void)Argument1, (void)Argument2;
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
}

VOID NTAPI ShimKeFlushQueuedDpcs(VOID)
{
    if (PsGetCurrentThreadId() == timer_thread_id) {
        KeBugCheckEx(SHIM_BUGCHECK_DRIVER_VERIFIER_DETECTED_VIOLATION,
                     SHIM_VIOLATION_FLUSH_FROM_DPC, (ULONG_PTR)running_dpc, 0, 0);
        for (;;)
            __builtin_ia32_pause();
    }
    KDPC marker;
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    ShimKeInitializeDpc(&marker, flush_marker_run, &done);
    lock_queues();
    BOOLEAN idle = running_dpc == NULL && IsListEmpty(&dpc_queue);
    if (!idle)
        enqueue_dpc(&marker);
    unlock_queues();
    if (idle)
        return;
    /* The thread is running a DPC or about to take the queue: no wake needed, but harmless. */
    KeSetEvent(&wake, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
    /* The timer thread forgets the marker (running_dpc) a few instructions after its routine
     * set the event: wait for that too, so the marker is not taken for a running DPC once
     * this frame is gone (a later flush's marker at the same address would bug-check). */
    for (;;) {
        lock_queues();
        BOOLEAN forgotten = running_dpc != &marker;
        unlock_queues();
        if (forgotten)
            break;
        __builtin_ia32_pause();
    }
}

/* ---- The timer thread ---- */

/* Expires every timer due at `now`: out of the queue (back in, a period later, if periodic),
 * signalled, its DPC queued. Under the lock. */
static void expire_due_timers(ULONGLONG now)
{
    while (!IsListEmpty(&timer_queue)) {
        PKTIMER timer = CONTAINING_RECORD(timer_queue.Flink, KTIMER, TimerListEntry);
        if (timer->DueTime.QuadPart > now)
            break;
        dequeue_timer(timer);
        timer->Header.SignalState = 1;
        if (timer->Period != 0) {
            ULONGLONG next = timer->DueTime.QuadPart + (ULONGLONG)timer->Period * 10000;
            timer->DueTime.QuadPart = next > now ? next : now + (ULONGLONG)timer->Period * 10000;
            enqueue_timer(timer);
        }
        if (timer->Dpc != NULL)
            enqueue_dpc(timer->Dpc);
    }
}

static VOID NTAPI timer_thread_main(PVOID Context)
{
    (void)Context;
    timer_thread_id = PsGetCurrentThreadId();
    for (;;) {
        lock_queues();
        if (stopping) {
            unlock_queues();
            break;
        }
        ULONGLONG now = interrupt_time();
        expire_due_timers(now);
        if (!IsListEmpty(&dpc_queue)) {
            PKDPC dpc = CONTAINING_RECORD(RemoveHeadList(&dpc_queue), KDPC, DpcListEntry);
            InitializeListHead(&dpc->DpcListEntry);
            dpc->DpcData = NULL;
            running_dpc = dpc;
            PKDEFERRED_ROUTINE routine = dpc->DeferredRoutine;
            PVOID context = dpc->DeferredContext;
            PVOID argument1 = dpc->SystemArgument1;
            PVOID argument2 = dpc->SystemArgument2;
            unlock_queues();
            routine(dpc, context, argument1, argument2);
            lock_queues();
            running_dpc = NULL;
            unlock_queues();
            continue;
        }
        LARGE_INTEGER timeout;
        PLARGE_INTEGER wait_for = NULL;
        if (!IsListEmpty(&timer_queue)) {
            PKTIMER first = CONTAINING_RECORD(timer_queue.Flink, KTIMER, TimerListEntry);
            ULONGLONG delay = first->DueTime.QuadPart - now;
            /* At most a second at a time (a far due time is looked at again). */
            timeout.QuadPart = -(LONGLONG)(delay < 10000000ULL ? delay : 10000000ULL);
            wait_for = &timeout;
        }
        unlock_queues();
        KeWaitForSingleObject(&wake, Executive, KernelMode, FALSE, wait_for);
    }
    /* Ends here, without the thread-detach notifications (see "Load and unload"). */
    NtTerminateThread(NtCurrentThread(), STATUS_SUCCESS);
}

/* ---- Load and unload ---- */

static BOOLEAN start(void)
{
    InitializeListHead(&timer_queue);
    InitializeListHead(&dpc_queue);
    KeInitializeEvent(&wake, SynchronizationEvent, FALSE);
    return NT_SUCCESS(PsCreateSystemThread(&timer_thread, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                           timer_thread_main, NULL));
}

/* Unloaded with the driver: nothing may be left queued or running; the timer thread ends
 * and is waited for (bounded) before the module's code goes. */
static void stop(void)
{
    lock_queues();
    PVOID left = NULL;
    ULONG_PTR kind = SHIM_KIND_TIMER;
    if (!IsListEmpty(&timer_queue)) {
        left = CONTAINING_RECORD(timer_queue.Flink, KTIMER, TimerListEntry);
    } else if (running_dpc != NULL || !IsListEmpty(&dpc_queue)) {
        kind = SHIM_KIND_DPC;
        left = running_dpc != NULL
                   ? (PVOID)running_dpc
                   : (PVOID)CONTAINING_RECORD(dpc_queue.Flink, KDPC, DpcListEntry);
    }
    stopping = TRUE;
    unlock_queues();
    if (left != NULL)
        invalid(kind, left);
    KeSetEvent(&wake, IO_NO_INCREMENT, FALSE);
    LARGE_INTEGER limit;
    limit.QuadPart = -50000000LL; /* 5 s */
    NTSTATUS waited = ZwWaitForSingleObject(timer_thread, FALSE, &limit);
    /* A thread still in the module's code must not outlive it: a DPC that has not returned
     * in 5 s is what Windows' DPC watchdog stops on. */
    if (waited != STATUS_SUCCESS)
        KeBugCheckEx(SHIM_BUGCHECK_DPC_WATCHDOG_VIOLATION, 0, (ULONG_PTR)waited, 0, 0);
    ZwClose(timer_thread);
}

int __stdcall ShimEntry(PVOID Instance, ULONG Reason, PVOID Reserved)
{
    (void)Instance;
    if (Reason == 1) /* DLL_PROCESS_ATTACH */
        return start();
    /* DLL_PROCESS_DETACH by FreeLibrary (Reserved NULL); at process exit the thread is gone. */
    if (Reason == 0 && Reserved == NULL)
        stop();
    return 1;
}
