//! The simulated machine's whole state, and the kernel's bookkeeping over it.
//!
//! Everything here is plain safe Rust over addresses: the exported kernel functions
//! (`crate::exports`) translate the driver's pointers into calls on this state, and the
//! scheduler (`crate::machine`) asks it what to run next. No method here calls driver code, so
//! a borrow of the state is never held while the driver runs.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use dmus_sys::kernel::{PEXT_CALLBACK, PIO_WORKITEM_ROUTINE, PKDEFERRED_ROUTINE, PVOID};

use crate::com::{ComRegistry, ReleaseError};
use crate::config::MachineConfig;
use crate::cpu::{Cpu, DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::current;
use crate::dpc::{Dpcs, QueuedDpc};
use crate::emulated_card::Mpu401;
use crate::finding::{Finding, RoutineKind};
use crate::interrupt::InterruptObject;
use crate::lookaside::Lookasides;
use crate::pool::{FreeError, ModifiedAfterFree, Pool};
use crate::portcls::PortClsState;
use crate::stats::DurationStats;
use crate::timers::{Expired, Timers};
use crate::user_space::UserSpace;
use crate::work::{QueuedWork, Work};

/// A callback of the port model, run by the simulation at a virtual time: at `DISPATCH_LEVEL`
/// from the DPC queue, or at `PASSIVE_LEVEL` from the worker queue. It runs with no borrow of
/// the machine held, so it may call the driver and the kernel functions.
pub type HostCallback = Box<dyn FnOnce()>;

/// Where a host callback runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostLevel {
    /// From the DPC queue, at `DISPATCH_LEVEL` (timed like a DPC).
    Dispatch,
    /// From the worker queue, at `PASSIVE_LEVEL`.
    Passive,
}

/// A driver routine (or host callback) ready to run at `DISPATCH_LEVEL`.
pub enum ReadyDpc {
    /// A `KDPC`.
    Kernel {
        /// The `KDPC`'s address.
        dpc: usize,
        /// Its routine.
        routine: PKDEFERRED_ROUTINE,
        /// Its context.
        context: PVOID,
        /// `SystemArgument1`.
        arg1: PVOID,
        /// `SystemArgument2`.
        arg2: PVOID,
    },
    /// An `EX_TIMER` callback.
    ExTimer {
        /// The timer handle.
        timer: usize,
        /// The callback.
        callback: PEXT_CALLBACK,
        /// Its context.
        context: PVOID,
    },
    /// A host callback.
    Host(HostCallback),
}

/// Something ready to run at `PASSIVE_LEVEL` in a worker thread.
pub enum ReadyWork {
    /// An `IO_WORKITEM`.
    Item {
        /// The handle.
        item: usize,
        /// The device object it was allocated for.
        device: usize,
        /// Its routine.
        routine: PIO_WORKITEM_ROUTINE,
        /// Its context.
        context: PVOID,
    },
    /// A host callback.
    Host(HostCallback),
}

/// What the processor takes next.
pub enum Ready {
    /// The interrupt of the `IInterruptSync` at this address.
    Interrupt(usize),
    /// A DPC.
    Dpc(ReadyDpc),
}

#[derive(Default)]
struct HostEvents {
    timed: BTreeMap<(u64, u64), (HostLevel, u64)>,
    callbacks: BTreeMap<u64, HostCallback>,
    next_id: u64,
}

/// The whole simulated machine. One per test, owned by a [`Machine`](crate::Machine).
pub struct MachineState {
    pub(crate) config: MachineConfig,
    pub(crate) clock: u64,
    pub(crate) cpu: Cpu,
    pub(crate) timers: Timers,
    pub(crate) dpcs: Dpcs,
    /// The driver DPC running on the second processor ([`MachineConfig::second_processor`]).
    on_second_processor: Option<ReadyDpc>,
    pub(crate) work: Work,
    pub(crate) pool: Pool,
    /// The user address space of the applications' process.
    pub(crate) user: UserSpace,
    pub(crate) lookasides: Lookasides,
    pub(crate) mpu: Option<Mpu401>,
    pub(crate) interrupts: BTreeMap<usize, InterruptObject>,
    pub(crate) com: ComRegistry,
    pub(crate) dpc_stats: DurationStats,
    pub(crate) isr_stats: DurationStats,
    pub(crate) findings: Vec<Finding>,
    pub(crate) debug_log: Vec<String>,
    host: HostEvents,
    /// Pool allocation attempts when the unload checks last ran.
    checked_at_attempt: Option<u64>,
    /// The `PortCls` model's state (see [`crate::portcls`]).
    pub portcls: PortClsState,
}

impl MachineState {
    /// A machine at time 0, `PASSIVE_LEVEL`, with nothing allocated.
    #[must_use]
    pub fn new(config: MachineConfig) -> Self {
        Self {
            pool: Pool::new(config.faults.clone()),
            user: UserSpace::default(),
            mpu: config.mpu401.clone().map(Mpu401::new),
            config,
            clock: 0,
            cpu: Cpu::default(),
            timers: Timers::default(),
            dpcs: Dpcs::default(),
            on_second_processor: None,
            work: Work::default(),
            lookasides: Lookasides::default(),
            interrupts: BTreeMap::new(),
            com: ComRegistry::default(),
            dpc_stats: DurationStats::default(),
            isr_stats: DurationStats::default(),
            findings: Vec::new(),
            debug_log: Vec::new(),
            host: HostEvents::default(),
            checked_at_attempt: None,
            portcls: PortClsState::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &MachineConfig {
        &self.config
    }

    /// Virtual time, in 100 ns ticks since boot.
    #[must_use]
    pub const fn now(&self) -> u64 {
        self.clock
    }

    /// The current IRQL.
    #[must_use]
    pub const fn irql(&self) -> u8 {
        self.cpu.irql()
    }

    /// Findings so far.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Takes the findings (a test that expects them acknowledges them this way).
    pub fn take_findings(&mut self) -> Vec<Finding> {
        core::mem::take(&mut self.findings)
    }

    /// Records a finding.
    pub fn record(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Checks a kernel call's IRQL (and, if it may wait, that no spin lock is held); records a
    /// finding and returns false if it breaks the rule.
    pub fn check_call(&mut self, call: &'static str, max_irql: u8, may_wait: bool) -> bool {
        self.cpu
            .check_call(call, max_irql, may_wait, &mut self.findings)
    }

    /// Records a finding if `call` is one of the routines this machine's kernel does not export
    /// ([`MachineConfig::missing_routines`]); true if it does export it.
    pub fn check_exported(&mut self, call: &'static str) -> bool {
        let exported = !self.config.missing_routines.contains(&call);
        if !exported {
            self.record(Finding::UnexportedRoutine { call });
        }
        exported
    }

    /// DPC (and timer callback) durations.
    #[must_use]
    pub const fn dpc_stats(&self) -> &DurationStats {
        &self.dpc_stats
    }

    /// ISR durations.
    #[must_use]
    pub const fn isr_stats(&self) -> &DurationStats {
        &self.isr_stats
    }

    /// Lines the driver printed with `DbgPrintEx`.
    #[must_use]
    pub fn debug_log(&self) -> &[String] {
        &self.debug_log
    }

    /// The applications' user address space (mapped user buffers).
    #[must_use]
    pub const fn user_space(&self) -> &UserSpace {
        &self.user
    }

    /// The pool (live allocations, usage by tag, fault-injection counts).
    #[must_use]
    pub const fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The emulated MPU-401, if the machine has one.
    pub const fn mpu401(&mut self) -> Option<&mut Mpu401> {
        self.mpu.as_mut()
    }

    /// The MIDI wire log so far: (start of the byte in ticks, byte).
    #[must_use]
    pub fn wire_log(&mut self) -> Vec<(u64, u8)> {
        let now = self.clock;
        self.mpu
            .as_mut()
            .map(|m| m.wire(now).to_vec())
            .unwrap_or_default()
    }

    /// Schedules MIDI input on the MPU-401: `bytes` arrive back to back, the first at `at`.
    pub fn inject_midi_input(&mut self, at: u64, bytes: &[u8]) {
        if let Some(mpu) = self.mpu.as_mut() {
            mpu.inject(at, bytes);
        }
    }

    // ----- time ---------------------------------------------------------------------------

    /// Moves the clock forward by `ticks` (busy work: port I/O, a stall). Returns the
    /// watchdog finding if the routine running now has run longer than the watchdog allows.
    pub fn advance(&mut self, ticks: u64) -> Option<Finding> {
        self.clock += ticks;
        self.process_due_events();
        let frame = self.cpu.outermost_frame()?;
        let elapsed = self.clock - frame.start;
        (elapsed > self.config.watchdog).then_some(Finding::RoutineTooLong {
            kind: frame.kind,
            routine: frame.routine,
            longest: elapsed,
            over: 1,
            bound: self.config.watchdog,
        })
    }

    /// Moves the clock to `t` if it is earlier (never backwards).
    pub fn advance_to(&mut self, t: u64) {
        self.clock = self.clock.max(t);
        self.process_due_events();
    }

    /// When the next timer, device or host event is due.
    #[must_use]
    pub fn next_event_time(&self) -> Option<u64> {
        let timer = self.timers.next_expiry();
        let device = self.mpu.as_ref().and_then(Mpu401::next_arrival);
        let host = self.host.timed.keys().next().map(|&(t, _)| t);
        [timer, device, host].into_iter().flatten().min()
    }

    /// Handles every event due by now: expired timers queue their DPCs, injected MIDI bytes
    /// arrive, host callbacks are queued.
    pub fn process_due_events(&mut self) {
        let now = self.clock;
        while let Some(expired) = self.timers.expire_next(
            now,
            self.config.clock_interval,
            self.config.high_res_resolution,
        ) {
            match expired {
                Expired::Kernel { dpc: Some(dpc), .. } => {
                    self.dpcs
                        .insert(dpc, core::ptr::null_mut(), core::ptr::null_mut());
                }
                Expired::Kernel { dpc: None, .. } => {}
                Expired::Executive { timer } => {
                    if let Some(t) = self.timers.executive.get_mut(&timer) {
                        if !t.queued {
                            t.queued = true;
                            self.dpcs.queue.push_back(QueuedDpc::ExTimer(timer));
                        }
                    }
                }
            }
        }
        if let Some(mpu) = self.mpu.as_mut() {
            mpu.deliver_arrivals(now);
        }
        while let Some(entry) = self.host.timed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (level, id) = entry.remove();
            match level {
                HostLevel::Dispatch => self.dpcs.queue.push_back(QueuedDpc::Host(id)),
                HostLevel::Passive => self.work.queue.push_back(QueuedWork::Host(id)),
            }
        }
        self.begin_on_second_processor();
    }

    /// Schedules a host callback at virtual time `at` (at once if `at` is past).
    pub fn schedule_host(&mut self, at: u64, level: HostLevel, callback: HostCallback) {
        self.host.next_id += 1;
        let id = self.host.next_id;
        self.host.callbacks.insert(id, callback);
        self.host.timed.insert((at, id), (level, id));
        self.process_due_events();
    }

    // ----- what runs next -----------------------------------------------------------------

    /// The interrupt or DPC the processor takes next at its current IRQL, if any. An
    /// interrupt nobody is connected to is lost (ISA interrupts are edges).
    pub fn next_ready(&mut self) -> Option<Ready> {
        self.begin_on_second_processor();
        let irql = self.cpu.irql();
        if let Some(mpu) = self.mpu.as_mut() {
            if mpu.interrupt_pending() {
                let irq = mpu.config().irq;
                let target = self
                    .interrupts
                    .iter()
                    .find(|(_, i)| i.connected && i.irq == irq)
                    .map(|(&a, i)| (a, i.dirql));
                match target {
                    Some((object, dirql)) if irql < dirql => {
                        mpu.take_interrupt();
                        return Some(Ready::Interrupt(object));
                    }
                    Some(_) => {}
                    None => {
                        mpu.take_interrupt();
                    }
                }
            }
        }
        if irql >= DISPATCH_LEVEL {
            return None;
        }
        while let Some(entry) = self.pop_for_processor_0() {
            if let Some(ready) = self.take_queued(entry) {
                return Some(Ready::Dpc(ready));
            }
        }
        None
    }

    /// The next DPC queue entry processor 0 runs: the first, or on a machine with a second
    /// processor the first host callback (the driver's DPCs wait for processor 1).
    fn pop_for_processor_0(&mut self) -> Option<QueuedDpc> {
        if !self.config.second_processor {
            return self.dpcs.queue.pop_front();
        }
        let index = self
            .dpcs
            .queue
            .iter()
            .position(|q| matches!(q, QueuedDpc::Host(_)))?;
        self.dpcs.queue.remove(index)
    }

    /// What a queue entry runs, taken out of its object (`None` for a stale entry: its object
    /// was removed or freed).
    fn take_queued(&mut self, entry: QueuedDpc) -> Option<ReadyDpc> {
        match entry {
            QueuedDpc::Kernel(dpc) => {
                let object = self.dpcs.objects.get_mut(&dpc)?;
                let (arg1, arg2) = object.queued.take()?;
                Some(ReadyDpc::Kernel {
                    dpc,
                    routine: object.routine,
                    context: object.context,
                    arg1,
                    arg2,
                })
            }
            QueuedDpc::ExTimer(timer) => {
                let t = self.timers.executive.get_mut(&timer)?;
                t.queued = false;
                let ready = ReadyDpc::ExTimer {
                    timer,
                    callback: t.callback,
                    context: t.context,
                };
                if t.delete_after_expiry && t.armed.is_none() {
                    self.timers.executive.remove(&timer);
                }
                Some(ready)
            }
            QueuedDpc::Host(id) => self.host.callbacks.remove(&id).map(ReadyDpc::Host),
        }
    }

    // ----- the second processor -----------------------------------------------------------

    /// On a machine with a second processor that is free, begins the first of the driver's
    /// queued DPCs there: it leaves the queue and is running until
    /// [`Self::take_second_processor_dpc`] hands its routine to the scheduler.
    pub fn begin_on_second_processor(&mut self) {
        if !self.config.second_processor || self.on_second_processor.is_some() {
            return;
        }
        while let Some(index) = self
            .dpcs
            .queue
            .iter()
            .position(|q| !matches!(q, QueuedDpc::Host(_)))
        {
            let Some(entry) = self.dpcs.queue.remove(index) else {
                return;
            };
            if let Some(ready) = self.take_queued(entry) {
                self.on_second_processor = Some(ready);
                return;
            }
        }
    }

    /// The DPC running on the second processor, to be finished (its routine called) now:
    /// processor 0 idles or waits for it.
    pub fn take_second_processor_dpc(&mut self) -> Option<ReadyDpc> {
        self.on_second_processor.take()
    }

    /// Whether the second processor is running the callback of `EX_TIMER` `timer`.
    #[must_use]
    pub fn second_processor_runs_ex_timer(&self, timer: usize) -> bool {
        matches!(self.on_second_processor, Some(ReadyDpc::ExTimer { timer: t, .. }) if t == timer)
    }

    /// Whether the second processor is running `KDPC` `dpc`.
    #[must_use]
    pub fn second_processor_runs_dpc(&self, dpc: usize) -> bool {
        matches!(self.on_second_processor, Some(ReadyDpc::Kernel { dpc: d, .. }) if d == dpc)
    }

    /// The driver's DPCs running or waiting for the second processor (what
    /// `KeFlushQueuedDpcs` waits for): the running one first, then the queue's in order.
    #[must_use]
    pub fn second_processor_backlog(&self) -> usize {
        let queued = self
            .dpcs
            .queue
            .iter()
            .filter(|q| !matches!(q, QueuedDpc::Host(_)))
            .count();
        queued + usize::from(self.on_second_processor.is_some())
    }

    /// The running DPC's kind, object and context, for the freed-pool and unload checks.
    fn second_processor_objects(&self) -> Option<(&'static str, usize, usize)> {
        match self.on_second_processor.as_ref()? {
            ReadyDpc::Kernel { dpc, context, .. } => Some(("KDPC", *dpc, *context as usize)),
            ReadyDpc::ExTimer { timer, context, .. } => {
                Some(("EX_TIMER", *timer, *context as usize))
            }
            ReadyDpc::Host(_) => None,
        }
    }

    /// The work item (or passive host callback) a worker thread takes next, if the processor
    /// is at `PASSIVE_LEVEL`.
    pub fn next_work(&mut self) -> Option<ReadyWork> {
        if self.cpu.irql() != PASSIVE_LEVEL {
            return None;
        }
        while let Some(entry) = self.work.queue.pop_front() {
            match entry {
                QueuedWork::Item(item) => {
                    let Some(w) = self.work.items.get_mut(&item) else {
                        continue;
                    };
                    let Some((routine, context)) = w.queued.take() else {
                        continue;
                    };
                    return Some(ReadyWork::Item {
                        item,
                        device: w.device,
                        routine,
                        context,
                    });
                }
                QueuedWork::Host(id) => {
                    let Some(callback) = self.host.callbacks.remove(&id) else {
                        continue;
                    };
                    return Some(ReadyWork::Host(callback));
                }
            }
        }
        None
    }

    /// Whether anything queued can run at the current IRQL (DPCs below `DISPATCH_LEVEL`, work
    /// at `PASSIVE_LEVEL`, a pending interrupt below its DIRQL or with nobody connected).
    #[must_use]
    pub fn has_runnable_work(&self) -> bool {
        let irql = self.cpu.irql();
        let interrupt = self.mpu.as_ref().is_some_and(|mpu| {
            let irq = mpu.config().irq;
            let target = self
                .interrupts
                .values()
                .find(|i| i.connected && i.irq == irq);
            mpu.interrupt_pending() && target.is_none_or(|i| irql < i.dirql)
        });
        interrupt
            || self.on_second_processor.is_some()
            || (irql < DISPATCH_LEVEL && !self.dpcs.queue.is_empty())
            || (irql == PASSIVE_LEVEL && !self.work.queue.is_empty())
    }

    /// The kernel calls a driver routine at `irql`: returns the IRQL to restore after.
    pub fn enter_routine(&mut self, kind: RoutineKind, routine: usize, irql: u8) -> u8 {
        current::enter_routine(kind != RoutineKind::Host);
        self.cpu.enter(kind, routine, irql, self.clock)
    }

    /// The routine entered last returned: checks what it left, records its duration (DPCs,
    /// timer callbacks and ISRs) and whether it ran over its bound.
    pub fn leave_routine(&mut self, previous_irql: u8) {
        let frame = self.cpu.leave(previous_irql, &mut self.findings);
        current::leave_routine();
        let duration = self.clock - frame.start;
        let (stats, bound) = match frame.kind {
            RoutineKind::Dpc | RoutineKind::ExTimer => (&mut self.dpc_stats, self.config.dpc_bound),
            RoutineKind::Isr => (&mut self.isr_stats, self.config.isr_bound),
            RoutineKind::Host
            | RoutineKind::WorkItem
            | RoutineKind::SynchronizedRoutine
            | RoutineKind::DriverCall => return,
        };
        stats.record(frame.routine, duration);
        if duration <= bound {
            return;
        }
        let existing = self.findings.iter_mut().find_map(|f| match f {
            Finding::RoutineTooLong {
                kind,
                routine,
                longest,
                over,
                ..
            } if *kind == frame.kind && *routine == frame.routine => Some((longest, over)),
            _ => None,
        });
        if let Some((longest, over)) = existing {
            *longest = (*longest).max(duration);
            *over += 1;
        } else {
            self.findings.push(Finding::RoutineTooLong {
                kind: frame.kind,
                routine: frame.routine,
                longest: duration,
                over: 1,
                bound,
            });
        }
    }

    // ----- pool ---------------------------------------------------------------------------

    /// Allocates pool for `call` (after its IRQL check): 0 when fault injection fails it.
    pub fn allocate_pool(
        &mut self,
        call: &'static str,
        size: usize,
        tag: u32,
        zeroed: bool,
    ) -> usize {
        if tag == 0 {
            self.record(Finding::ZeroPoolTag { call });
        }
        if self.pool.inject_failure() {
            return 0;
        }
        self.pool.allocate(size, tag, zeroed)
    }

    /// Frees pool (`tag` 0 skips the tag check). Every finding leaves the pool intact; a tag
    /// mismatch still frees (the driver meant to). Kernel objects inside the block are
    /// forgotten; queued ones are findings.
    pub fn free_pool(&mut self, address: usize, tag: u32) {
        let Some(block) = self.pool.block(address) else {
            let finding = match self.pool.free(address) {
                Err(FreeError::Null) => Finding::FreeNullPool,
                _ => Finding::FreeInvalidPool { address },
            };
            self.record(finding);
            return;
        };
        if tag != 0 && tag != block.tag {
            self.record(Finding::PoolTagMismatch {
                address,
                allocated: block.tag,
                freed: tag,
            });
        }
        self.forget_objects_in(address, address + block.size.max(1), block.tag);
        if let Ok((_, Some(modified))) = self.pool.free(address) {
            self.record_modified_after_free(modified);
        }
    }

    fn record_modified_after_free(&mut self, modified: ModifiedAfterFree) {
        self.record(Finding::PoolModifiedAfterFree {
            address: modified.block.address,
            tag: modified.block.tag,
            offset: modified.offset,
        });
    }

    fn forget_objects_in(&mut self, start: usize, end: usize, tag: u32) {
        if let Some((kind, object, context)) = self.second_processor_objects() {
            // The routine running on the other processor would go on in freed memory: its
            // own KDPC, or the context it reads. It is reported and never called.
            let running = [
                (kind == "KDPC" && (start..end).contains(&object))
                    .then_some(("KDPC (running)", object)),
                (start..end).contains(&context).then_some((
                    if kind == "KDPC" {
                        "context of the running DPC"
                    } else {
                        "context of the running EX_TIMER callback"
                    },
                    context,
                )),
            ];
            if running.iter().any(Option::is_some) {
                self.on_second_processor = None;
                if kind == "EX_TIMER" {
                    self.timers.executive_callback_returned(object);
                }
                for (kind, object) in running.into_iter().flatten() {
                    self.record(Finding::FreedPoolHoldsActiveObject {
                        tag,
                        pool: start,
                        kind,
                        object,
                    });
                }
                self.begin_on_second_processor();
            }
        }
        for object in self.timers.forget_range(start, end) {
            self.record(Finding::FreedPoolHoldsActiveObject {
                tag,
                pool: start,
                kind: "KTIMER",
                object,
            });
        }
        for object in self.dpcs.forget_range(start, end) {
            self.record(Finding::FreedPoolHoldsActiveObject {
                tag,
                pool: start,
                kind: "KDPC",
                object,
            });
        }
        let lists: Vec<usize> = self
            .lookasides
            .lists
            .range(start..end)
            .map(|(&a, _)| a)
            .collect();
        for object in lists {
            self.lookasides.lists.remove(&object);
            self.record(Finding::FreedPoolHoldsActiveObject {
                tag,
                pool: start,
                kind: "NPAGED_LOOKASIDE_LIST",
                object,
            });
        }
        let held: Vec<usize> = self
            .cpu
            .locks()
            .iter()
            .map(|l| l.lock)
            .filter(|l| (start..end).contains(l))
            .collect();
        for object in held {
            self.record(Finding::FreedPoolHoldsActiveObject {
                tag,
                pool: start,
                kind: "KSPIN_LOCK (held)",
                object,
            });
        }
    }

    // ----- COM ----------------------------------------------------------------------------

    /// Registers a COM object the sim hands out, with one reference.
    pub fn register_com(&mut self, object: usize, kind: &'static str) {
        self.com.register(object, kind);
    }

    /// `AddRef` on a registered object: the new count (0 for an object the sim does not know or
    /// already destroyed, which is a finding).
    pub fn com_add_ref(&mut self, object: usize) -> u32 {
        if let Some(refs) = self.com.add_ref(object) {
            return refs;
        }
        let kind = self.com.get(object).map_or("COM object", |r| r.kind);
        self.record(Finding::UninitializedObject {
            call: "AddRef",
            kind,
            object,
        });
        0
    }

    /// `Release` on a registered object: `Some(0)` means the caller destroys it now; `None`
    /// means the release was refused (a finding: over-release or unknown object).
    pub fn com_release(&mut self, object: usize) -> Option<u32> {
        match self.com.release(object) {
            Ok(refs) => Some(refs),
            Err(ReleaseError::OverRelease { kind }) => {
                self.record(Finding::ComOverRelease { kind, object });
                None
            }
            Err(ReleaseError::Unknown) => {
                self.record(Finding::ComOverRelease {
                    kind: "unknown COM object",
                    object,
                });
                None
            }
        }
    }

    // ----- device I/O ---------------------------------------------------------------------

    /// `READ_PORT_UCHAR`: the byte at `port` (the floating bus reads 0xFF where no device
    /// answers; a port no device claims is a finding).
    pub fn port_read(&mut self, port: usize) -> u8 {
        let now = self.clock;
        if let Some(mpu) = self.mpu.as_mut() {
            if let Some(register) = mpu.register(port) {
                return mpu.read(register, now);
            }
        }
        self.record(Finding::DeviceMisuse {
            detail: format!("READ_PORT_UCHAR({port:#x}): no device claims this port"),
        });
        0xFF
    }

    /// `WRITE_PORT_UCHAR`.
    pub fn port_write(&mut self, port: usize, value: u8) {
        let now = self.clock;
        if let Some(mpu) = self.mpu.as_mut() {
            if let Some(register) = mpu.register(port) {
                if let Some(detail) = mpu.write(register, value, now) {
                    self.record(Finding::DeviceMisuse { detail });
                }
                return;
            }
        }
        self.record(Finding::DeviceMisuse {
            detail: format!(
                "WRITE_PORT_UCHAR({port:#x}, {value:#04x}): no device claims this port"
            ),
        });
    }

    // ----- port-model verifier API --------------------------------------------------------

    /// The port allocator saw an event returned twice.
    pub fn report_event_returned_twice(&mut self, event: usize) {
        self.record(Finding::EventReturnedTwice { event });
    }

    /// The port allocator saw an event touched after it was returned.
    pub fn report_event_used_after_return(&mut self, event: usize, detail: String) {
        self.record(Finding::EventUsedAfterReturn { event, detail });
    }

    /// A pin or stream broke the KSSTATE rules.
    pub fn report_ks_state(&mut self, object: String, detail: String) {
        self.record(Finding::KsStateViolation { object, detail });
    }

    /// Another `PortCls` contract rule was broken.
    pub fn report_port_contract(&mut self, detail: String) {
        self.record(Finding::PortContract { detail });
    }

    // ----- unload -------------------------------------------------------------------------

    /// Whether [`Self::unload_checks`] ran with no pool allocated (or attempted) since: then
    /// dropping the machine does not run them again.
    #[must_use]
    pub fn unload_checked(&self) -> bool {
        self.checked_at_attempt == Some(self.pool.attempts())
    }

    /// The checks Driver Verifier makes when the driver unloads: freed pool written after its
    /// free, pool left (by tag), timers set, DPCs queued, work items and `EX_TIMER`s not freed,
    /// lookaside lists not deleted, COM references outstanding, spin locks held, IRQL not
    /// PASSIVE. The port model runs them after `DriverUnload`; dropping the machine runs them
    /// again if the driver allocated anything since.
    pub fn unload_checks(&mut self) {
        self.checked_at_attempt = Some(self.pool.attempts());
        let irql = self.cpu.irql();
        if irql != PASSIVE_LEVEL {
            self.record(Finding::IrqlTooHigh {
                call: "DriverUnload (return)",
                irql,
                max: PASSIVE_LEVEL,
            });
        }
        for modified in self.pool.drain_quarantine() {
            self.record_modified_after_free(modified);
        }
        for (tag, usage) in self.pool.usage_by_tag() {
            self.record(Finding::PoolLeaked {
                tag,
                count: usage.count,
                bytes: usage.bytes,
            });
        }
        let mut active: Vec<(&'static str, usize)> = Vec::new();
        active.extend(
            self.timers
                .kernel
                .iter()
                .filter(|(_, t)| t.armed.is_some())
                .map(|(&a, _)| ("KTIMER", a)),
        );
        active.extend(self.timers.executive.keys().map(|&a| ("EX_TIMER", a)));
        active.extend(
            self.dpcs
                .objects
                .iter()
                .filter(|(_, d)| d.queued.is_some())
                .map(|(&a, _)| ("KDPC", a)),
        );
        if let Some((kind, object, _)) = self.second_processor_objects() {
            let kind = if kind == "KDPC" {
                "KDPC (running)"
            } else {
                "EX_TIMER callback (running)"
            };
            active.push((kind, object));
        }
        active.extend(self.work.items.keys().map(|&a| ("IO_WORKITEM", a)));
        active.extend(
            self.lookasides
                .lists
                .keys()
                .map(|&a| ("NPAGED_LOOKASIDE_LIST", a)),
        );
        active.extend(
            self.cpu
                .locks()
                .iter()
                .map(|l| ("KSPIN_LOCK (held)", l.lock)),
        );
        for (kind, object) in active {
            self.record(Finding::ActiveAtUnload { kind, object });
        }
        for (object, record) in self.com.outstanding() {
            self.record(Finding::ComReferencesOutstanding {
                kind: record.kind,
                object,
                refs: record.refs,
            });
        }
    }
}
