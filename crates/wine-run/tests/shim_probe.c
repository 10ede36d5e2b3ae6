/*
 * shim_probe.exe: drives wineshim.sys's timer and DPC routines directly under Wine, as a
 * driver would, and prints one line per check: "ok NAME: details" or "FAIL NAME: details".
 * Built and run by tests/shim_timers.rs (mingw-w64, a console program beside wineshim.sys).
 *
 *   shim_probe semantics     every check below, then FreeLibrary (the shim's unload), timed
 *   shim_probe leak          leaves a timer queued and unloads the shim: it must bug-check
 *   shim_probe flush_in_dpc  a DPC calls KeFlushQueuedDpcs: it must bug-check
 *
 * The KTIMER and KDPC are opaque 64-byte storage here (wdm.h's x64 sizes): only the shim
 * reads their fields. DPC routines run on the shim's timer thread.
 */

#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    _Alignas(16) unsigned char bytes[64];
} OBJECT_STORAGE;

typedef void(__stdcall *DEFERRED_ROUTINE)(void *dpc, void *context, void *argument1,
                                          void *argument2);
typedef void(__stdcall *INITIALIZE_TIMER)(void *timer, int type);
typedef BOOLEAN(__stdcall *SET_TIMER)(void *timer, LONGLONG due, LONG period, void *dpc);
typedef BOOLEAN(__stdcall *CANCEL_TIMER)(void *timer);
typedef void(__stdcall *INITIALIZE_DPC)(void *dpc, DEFERRED_ROUTINE routine, void *context);
typedef BOOLEAN(__stdcall *REMOVE_QUEUE_DPC)(void *dpc);
typedef void(__stdcall *FLUSH_QUEUED_DPCS)(void);

static INITIALIZE_TIMER initialize_timer;
static SET_TIMER set_timer;
static CANCEL_TIMER cancel_timer;
static INITIALIZE_DPC initialize_dpc;
static REMOVE_QUEUE_DPC remove_queue_dpc;
static FLUSH_QUEUED_DPCS flush_queued_dpcs;

static int failures;

static void report(int ok, const char *name, const char *details)
{
    printf("%s %s: %s\n", ok ? "ok" : "FAIL", name, details);
    fflush(stdout);
    failures += !ok;
}

/* Milliseconds on the performance counter. */
static double now_ms(void)
{
    LARGE_INTEGER counter, frequency;
    QueryPerformanceCounter(&counter);
    QueryPerformanceFrequency(&frequency);
    return (double)counter.QuadPart * 1000.0 / (double)frequency.QuadPart;
}

/* Waits (bounded by `limit_ms`) until *value reaches `target`; TRUE if it did. */
static BOOL wait_for(volatile LONG *value, LONG target, double limit_ms)
{
    double end = now_ms() + limit_ms;
    while (*value < target) {
        if (now_ms() > end)
            return FALSE;
        Sleep(1);
    }
    return TRUE;
}

#define MS(n) (-(LONGLONG)(n) * 10000)

/* ---- A DPC that counts its runs and notes when it ran ---- */

struct counting {
    OBJECT_STORAGE timer, dpc;
    volatile LONG runs;
    volatile double ran_at_ms;
};

static void __stdcall count_run(void *dpc, void *context, void *argument1, void *argument2)
{
    struct counting *c = context;
    (void)dpc, (void)argument1, (void)argument2;
    c->ran_at_ms = now_ms();
    InterlockedIncrement(&c->runs);
}

static void counting_init(struct counting *c, DEFERRED_ROUTINE routine)
{
    initialize_timer(&c->timer, 0 /* NotificationTimer */);
    initialize_dpc(&c->dpc, routine, c);
    c->runs = 0;
}

static void set_returns_whether_the_timer_was_queued(void)
{
    struct counting c;
    char text[200];
    counting_init(&c, count_run);
    BOOLEAN first = set_timer(&c.timer, MS(10000), 0, NULL);
    BOOLEAN again = set_timer(&c.timer, MS(10000), 0, NULL);
    BOOLEAN cancelled = cancel_timer(&c.timer);
    BOOLEAN cancelled_again = cancel_timer(&c.timer);
    snprintf(text, sizeof text, "set %d, set again %d, cancel %d, cancel again %d", first, again,
             cancelled, cancelled_again);
    report(!first && again && cancelled && !cancelled_again, "set_and_cancel_return_values", text);
}

static void the_dpc_runs_once_and_never_early(void)
{
    struct counting relative, absolute;
    char text[200];
    counting_init(&relative, count_run);
    counting_init(&absolute, count_run);
    double set_at = now_ms();
    set_timer(&relative.timer, MS(20), 0, &relative.dpc);
    FILETIME system_time;
    GetSystemTimeAsFileTime(&system_time);
    double absolute_set_at = now_ms();
    LONGLONG due = ((LONGLONG)system_time.dwHighDateTime << 32 | system_time.dwLowDateTime)
                   + 30 * 10000;
    set_timer(&absolute.timer, due, 0, &absolute.dpc);
    BOOL both = wait_for(&relative.runs, 1, 1000) && wait_for(&absolute.runs, 1, 1000);
    Sleep(50);
    double late = relative.ran_at_ms - set_at - 20;
    double absolute_late = absolute.ran_at_ms - absolute_set_at - 30;
    snprintf(text, sizeof text,
             "relative 20 ms: ran %ld time(s), %.2f ms after its due time; absolute +30 ms: ran "
             "%ld time(s), %.2f ms after",
             relative.runs, late, absolute.runs, absolute_late);
    /* The absolute due time goes through the system clock, read here and in the shim a few
     * microseconds apart: 1 ms of slack, no more. */
    report(both && relative.runs == 1 && absolute.runs == 1 && late >= 0 && absolute_late >= -1,
           "due_times", text);
}

/* ---- A DPC that re-arms its own timer ---- */

struct rearming {
    struct counting c;
    volatile LONG wrong_returns;
};

static void __stdcall rearm_run(void *dpc, void *context, void *argument1, void *argument2)
{
    struct rearming *r = context;
    (void)argument1, (void)argument2;
    LONG runs = InterlockedIncrement(&r->c.runs);
    if (runs < 5) {
        /* Its timer left the queue when it expired: FALSE; set again while queued: TRUE. */
        if (set_timer(&r->c.timer, MS(1), 0, dpc) != FALSE)
            InterlockedIncrement(&r->wrong_returns);
        if (set_timer(&r->c.timer, MS(1), 0, dpc) != TRUE)
            InterlockedIncrement(&r->wrong_returns);
    }
}

static void a_dpc_rearms_its_own_timer(void)
{
    struct rearming r = {.wrong_returns = 0};
    char text[200];
    /* The context is &r.c, the start of r. */
    counting_init(&r.c, rearm_run);
    set_timer(&r.c.timer, MS(1), 0, &r.c.dpc);
    BOOL all = wait_for(&r.c.runs, 5, 2000);
    Sleep(50);
    snprintf(text, sizeof text,
             "%ld runs (each re-arming from inside itself until the 5th), %ld wrong return "
             "value(s)",
             r.c.runs, r.wrong_returns);
    report(all && r.c.runs == 5 && r.wrong_returns == 0, "rearm_from_own_dpc", text);
}

/* ---- A DPC that holds the timer thread until released ---- */

struct blocking {
    struct counting c;
    volatile LONG entered, release, left;
};

static void __stdcall block_run(void *dpc, void *context, void *argument1, void *argument2)
{
    struct blocking *b = context;
    (void)dpc, (void)argument1, (void)argument2;
    if (InterlockedIncrement(&b->c.runs) == 1) {
        b->entered = 1;
        double end = now_ms() + 2000;
        while (!b->release && now_ms() < end)
            YieldProcessor();
        b->left = 1;
    }
}

static void cancel_does_not_wait_for_a_running_dpc(void)
{
    struct blocking b = {.entered = 0, .release = 0, .left = 0};
    char text[300];
    counting_init(&b.c, block_run);
    set_timer(&b.c.timer, MS(1), 0, &b.c.dpc);
    BOOL entered = wait_for(&b.entered, 1, 1000);
    double started = now_ms();
    BOOLEAN cancelled = cancel_timer(&b.c.timer);
    BOOLEAN removed = remove_queue_dpc(&b.c.dpc);
    BOOLEAN rearmed = set_timer(&b.c.timer, MS(10), 0, &b.c.dpc);
    double took = now_ms() - started;
    LONG still_inside = b.entered && !b.left;
    b.release = 1;
    BOOL ran_again = wait_for(&b.c.runs, 2, 1000);
    snprintf(text, sizeof text,
             "while its DPC ran: cancel %d, remove %d, set %d, in %.2f ms with the DPC still "
             "inside: %ld; the re-armed DPC ran again: %d",
             cancelled, removed, rearmed, took, still_inside, ran_again);
    report(entered && !cancelled && !removed && !rearmed && still_inside && ran_again,
           "no_wait_for_a_running_dpc", text);
}

static void a_cancelled_and_removed_dpc_never_runs(void)
{
    struct blocking blocker = {.entered = 0, .release = 0, .left = 0};
    struct counting victim;
    char text[300];
    counting_init(&blocker.c, block_run);
    counting_init(&victim, count_run);
    /* Due together: one expiry pass usually takes both, queuing the blocker's DPC first and
     * the victim's behind it; if the victim's timer is still queued, the cancel takes it. */
    set_timer(&blocker.c.timer, MS(50), 0, &blocker.c.dpc);
    set_timer(&victim.timer, MS(50), 0, &victim.dpc);
    BOOL entered = wait_for(&blocker.entered, 1, 1000);
    BOOLEAN cancelled = cancel_timer(&victim.timer);
    BOOLEAN removed = remove_queue_dpc(&victim.dpc);
    blocker.release = 1;
    Sleep(100);
    snprintf(text, sizeof text,
             "victim's timer cancelled: %d, its queued DPC removed: %d (exactly one); victim "
             "ran %ld time(s)",
             cancelled, removed, victim.runs);
    report(entered && (cancelled ^ removed) && victim.runs == 0, "removed_dpc_does_not_run", text);
}

static void a_periodic_timer_repeats_until_cancelled(void)
{
    struct counting c;
    char text[200];
    counting_init(&c, count_run);
    set_timer(&c.timer, MS(5), 5, &c.dpc);
    Sleep(100);
    BOOLEAN cancelled = cancel_timer(&c.timer);
    LONG runs = c.runs;
    Sleep(50);
    snprintf(text, sizeof text, "period 5 ms: %ld runs in 100 ms, cancel %d, %ld after", runs,
             cancelled, c.runs - runs);
    report(runs >= 5 && runs <= 21 && cancelled && c.runs - runs <= 1, "periodic", text);
}

/* ---- KeFlushQueuedDpcs ---- */

/* A DPC that spins for spin_ms (50 unless set), noting when it entered and left. */
struct spinning {
    struct counting c;
    volatile LONG entered, left;
    double spin_ms;
};

static void __stdcall spin_run(void *dpc, void *context, void *argument1, void *argument2)
{
    struct spinning *s = context;
    (void)dpc, (void)argument1, (void)argument2;
    s->entered = 1;
    double end = now_ms() + (s->spin_ms > 0 ? s->spin_ms : 50);
    while (now_ms() < end)
        YieldProcessor();
    s->left = 1;
    InterlockedIncrement(&s->c.runs);
}

static void flush_waits_for_the_running_and_the_queued_dpcs(void)
{
    struct spinning running = {.entered = 0, .left = 0};
    struct counting queued;
    char text[300];
    counting_init(&running.c, spin_run);
    counting_init(&queued, count_run);
    /* Due together: one expiry pass usually queues both, the spinning DPC first; if the
     * second timer is still queued when the flush starts, its DPC is not waited for (a timer
     * is not a queued DPC), and the cancel below takes it. */
    set_timer(&running.c.timer, MS(20), 0, &running.c.dpc);
    set_timer(&queued.timer, MS(20), 0, &queued.dpc);
    BOOL entered = wait_for(&running.entered, 1, 1000);
    LONG left_before = running.left;
    double started = now_ms();
    flush_queued_dpcs();
    double took = now_ms() - started;
    LONG left = running.left;
    LONG queued_runs = queued.runs;
    BOOLEAN timer_still_queued = cancel_timer(&queued.timer);
    snprintf(text, sizeof text,
             "flushed in %.1f ms while a 50 ms DPC ran (inside at the call: %d, finished at the "
             "return: %ld); the DPC queued behind it ran %ld time(s) by then (or its timer was "
             "still queued, not yet expired: %d)",
             took, entered && !left_before, left, queued_runs, timer_still_queued);
    report(entered && !left_before && left
               && (queued_runs == 1 || (queued_runs == 0 && timer_still_queued)),
           "flush_waits_for_running_and_queued", text);
}

static void flush_with_nothing_queued_returns_at_once(void)
{
    char text[100];
    double started = now_ms();
    flush_queued_dpcs();
    double took = now_ms() - started;
    snprintf(text, sizeof text, "returned in %.2f ms", took);
    report(took < 5, "flush_idle", text);
}

/* What the stream timer's teardown does: two flushes in a row while its DPC may be running
 * (each flush's marker lives in the same stack slot). */
static void back_to_back_flushes(void)
{
    char text[200];
    LONG waited = 0, not_finished = 0;
    for (int round = 0; round < 200; round++) {
        struct spinning s = {.entered = 0, .left = 0, .spin_ms = 2};
        counting_init(&s.c, spin_run);
        set_timer(&s.c.timer, MS(1), 0, &s.c.dpc);
        while (!s.entered)
            YieldProcessor();
        flush_queued_dpcs();
        not_finished += !s.left;
        flush_queued_dpcs();
        waited += s.left;
        cancel_timer(&s.c.timer);
    }
    snprintf(text, sizeof text,
             "200 rounds of flush, flush while a 2 ms DPC ran: %ld finished by the first flush's "
             "return, %ld not",
             waited, not_finished);
    report(waited == 200 && not_finished == 0, "back_to_back_flushes", text);
}

static void __stdcall flush_run(void *dpc, void *context, void *argument1, void *argument2)
{
    (void)context, (void)argument1, (void)argument2;
    printf("flushing from DPC %p\n", dpc);
    fflush(stdout);
    flush_queued_dpcs();
}

static void *routine(HMODULE shim, const char *name)
{
    void *address = (void *)GetProcAddress(shim, name);
    if (address == NULL) {
        printf("FAIL exports: no %s\n", name);
        exit(2);
    }
    return address;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "semantics";
    HMODULE shim = LoadLibraryA("wineshim.sys");
    if (shim == NULL) {
        printf("FAIL load: LoadLibrary(wineshim.sys) failed, error %lu\n", GetLastError());
        return 2;
    }
    initialize_timer = (INITIALIZE_TIMER)routine(shim, "KeInitializeTimerEx");
    set_timer = (SET_TIMER)routine(shim, "KeSetTimerEx");
    cancel_timer = (CANCEL_TIMER)routine(shim, "KeCancelTimer");
    initialize_dpc = (INITIALIZE_DPC)routine(shim, "KeInitializeDpc");
    remove_queue_dpc = (REMOVE_QUEUE_DPC)routine(shim, "KeRemoveQueueDpc");
    flush_queued_dpcs = (FLUSH_QUEUED_DPCS)routine(shim, "KeFlushQueuedDpcs");
    if (strcmp(mode, "leak") == 0) {
        static struct counting left;
        counting_init(&left, count_run);
        set_timer(&left.timer, MS(10000), 0, &left.dpc);
        printf("leaving timer %p queued\n", (void *)&left.timer);
        fflush(stdout);
        FreeLibrary(shim);
        printf("FAIL unload: the shim unloaded with a timer queued\n");
        return 1;
    }
    if (strcmp(mode, "flush_in_dpc") == 0) {
        static struct counting flusher;
        counting_init(&flusher, flush_run);
        set_timer(&flusher.timer, MS(1), 0, &flusher.dpc);
        Sleep(2000);
        printf("FAIL flush_in_dpc: KeFlushQueuedDpcs from a DPC did not bug-check\n");
        return 1;
    }
    set_returns_whether_the_timer_was_queued();
    the_dpc_runs_once_and_never_early();
    a_dpc_rearms_its_own_timer();
    cancel_does_not_wait_for_a_running_dpc();
    a_cancelled_and_removed_dpc_never_runs();
    a_periodic_timer_repeats_until_cancelled();
    flush_waits_for_the_running_and_the_queued_dpcs();
    flush_with_nothing_queued_returns_at_once();
    back_to_back_flushes();
    double started = now_ms();
    BOOL freed = FreeLibrary(shim);
    char text[100];
    snprintf(text, sizeof text, "FreeLibrary %d in %.1f ms (the timer thread ended)", freed,
             now_ms() - started);
    report(freed && now_ms() - started < 1000, "unload", text);
    return failures;
}
