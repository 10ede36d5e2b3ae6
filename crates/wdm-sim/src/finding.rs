//! Verifier findings: what the simulated Driver Verifier saw, worded like the bugcheck Windows
//! would have shown.

use alloc::string::String;
use core::fmt;

use crate::time::format_ticks;

/// Which kind of driver routine the simulation called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoutineKind {
    /// A `KDPC`'s deferred routine (queued directly or by a `KTIMER`).
    Dpc,
    /// An `EX_TIMER` callback (runs at `DISPATCH_LEVEL` like a DPC).
    ExTimer,
    /// An interrupt service routine registered with `IInterruptSync`.
    Isr,
    /// A routine run through `IInterruptSync::CallSynchronizedRoutine`.
    SynchronizedRoutine,
    /// An `IO_WORKITEM` routine (`PASSIVE_LEVEL`).
    WorkItem,
    /// A host-side callback the port model scheduled.
    Host,
    /// A driver routine the port model called directly (a miniport method).
    DriverCall,
}

impl fmt::Display for RoutineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dpc => "DPC routine",
            Self::ExTimer => "EX_TIMER callback",
            Self::Isr => "ISR",
            Self::SynchronizedRoutine => "synchronized routine",
            Self::WorkItem => "work item routine",
            Self::Host => "host callback",
            Self::DriverCall => "driver routine",
        })
    }
}

/// One thing the simulated Driver Verifier caught. `Display` reads like the bugcheck Windows
/// would show: `NAME (code): what happened`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A kernel routine was called above the highest IRQL it allows.
    IrqlTooHigh {
        /// The routine.
        call: &'static str,
        /// IRQL at the call.
        irql: u8,
        /// Highest IRQL allowed.
        max: u8,
    },
    /// A kernel routine that needs at least some IRQL was called below it.
    IrqlTooLow {
        /// The routine.
        call: &'static str,
        /// IRQL at the call.
        irql: u8,
        /// Lowest IRQL allowed.
        min: u8,
    },
    /// `KfRaiseIrql` to a lower IRQL than the current one.
    RaiseToLowerIrql {
        /// Current IRQL.
        from: u8,
        /// Requested IRQL.
        to: u8,
    },
    /// `KeLowerIrql` to a higher IRQL than the current one.
    LowerToHigherIrql {
        /// Current IRQL.
        from: u8,
        /// Requested IRQL.
        to: u8,
    },
    /// A spin lock released at an IRQL other than the one its release requires.
    SpinLockReleasedAtWrongIrql {
        /// The release routine.
        call: &'static str,
        /// The lock's address.
        lock: usize,
        /// IRQL at the release.
        irql: u8,
        /// IRQL the release needs.
        expected: u8,
    },
    /// `KeReleaseSpinLock` asked to return to an IRQL other than the one the acquire saved.
    SpinLockRestoresWrongIrql {
        /// The lock's address.
        lock: usize,
        /// IRQL passed to the release.
        new_irql: u8,
        /// IRQL the acquire returned.
        acquired_from: u8,
    },
    /// A spin lock released that is not held.
    SpinLockNotHeld {
        /// The release routine.
        call: &'static str,
        /// The lock's address.
        lock: usize,
    },
    /// A spin lock acquired by its holder: on one processor this spins forever.
    SpinLockDeadlock {
        /// The acquire routine.
        call: &'static str,
        /// The lock's address.
        lock: usize,
    },
    /// A routine that may wait was called with a spin lock held.
    SpinLockHeldAcrossWait {
        /// The routine.
        call: &'static str,
        /// The held lock.
        lock: usize,
    },
    /// A driver routine returned to the kernel still holding a spin lock.
    RoutineReturnedHoldingLock {
        /// What kind of routine.
        kind: RoutineKind,
        /// Its address.
        routine: usize,
        /// The held lock.
        lock: usize,
    },
    /// A driver routine returned at another IRQL than it was called at.
    RoutineChangedIrql {
        /// What kind of routine.
        kind: RoutineKind,
        /// Its address.
        routine: usize,
        /// IRQL at return.
        irql: u8,
        /// IRQL it was called at.
        expected: u8,
    },
    /// A routine returned with extended processor state saved and not restored.
    RoutineLeftFloatStateSaved {
        /// What kind of routine.
        kind: RoutineKind,
        /// Its address.
        routine: usize,
    },
    /// NULL passed where the kernel dereferences the argument.
    NullArgument {
        /// The routine.
        call: &'static str,
        /// The argument.
        argument: &'static str,
    },
    /// A kernel object used before its initialisation routine ran (or after its pool was freed).
    UninitializedObject {
        /// The routine.
        call: &'static str,
        /// The object's type.
        kind: &'static str,
        /// Its address.
        object: usize,
    },
    /// A routine the configured kernel does not export was called (an image importing it would
    /// not load there; Wine kills the process: "Unimplemented function").
    UnexportedRoutine {
        /// The routine.
        call: &'static str,
    },
    /// An argument the kernel would reject or crash on.
    InvalidArgument {
        /// The routine.
        call: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// `ExFreePoolWithTag(NULL)`.
    FreeNullPool,
    /// Pool freed that is not a live allocation (already freed, or never allocated).
    FreeInvalidPool {
        /// The address passed.
        address: usize,
    },
    /// Pool freed with another tag than it was allocated with.
    PoolTagMismatch {
        /// The allocation.
        address: usize,
        /// Tag at allocation.
        allocated: u32,
        /// Tag passed to the free.
        freed: u32,
    },
    /// A freed block was written after its free (special pool's check).
    PoolModifiedAfterFree {
        /// The block.
        address: usize,
        /// Its tag.
        tag: u32,
        /// Offset of the first modified byte.
        offset: usize,
    },
    /// Pool allocated with tag 0.
    ZeroPoolTag {
        /// The routine.
        call: &'static str,
    },
    /// Pool still allocated at unload, summed by tag.
    PoolLeaked {
        /// The tag.
        tag: u32,
        /// Allocations not freed.
        count: usize,
        /// Their bytes.
        bytes: usize,
    },
    /// Pool freed while a timer, DPC or work item inside it was still set or queued, or while
    /// a DPC running on another processor still uses it (its `KDPC`, or its context).
    FreedPoolHoldsActiveObject {
        /// The allocation's tag.
        tag: u32,
        /// The allocation.
        pool: usize,
        /// The queued object's type.
        kind: &'static str,
        /// Its address.
        object: usize,
    },
    /// A timer, DPC, work item or lookaside list still active at unload.
    ActiveAtUnload {
        /// The object's type.
        kind: &'static str,
        /// Its address.
        object: usize,
    },
    /// A lookaside list's counters or list do not add up.
    LookasideInconsistent {
        /// The list's address.
        list: usize,
        /// What does not add up.
        detail: String,
    },
    /// An allocator event returned twice (fed by the port model).
    EventReturnedTwice {
        /// The event's address.
        event: usize,
    },
    /// An allocator event touched after it was returned (fed by the port model).
    EventUsedAfterReturn {
        /// The event's address.
        event: usize,
        /// What was seen.
        detail: String,
    },
    /// A COM object the sim handed out still referenced at unload.
    ComReferencesOutstanding {
        /// The interface.
        kind: &'static str,
        /// The object.
        object: usize,
        /// References left.
        refs: u32,
    },
    /// `Release` on a COM object whose count is already 0.
    ComOverRelease {
        /// The interface.
        kind: &'static str,
        /// The object.
        object: usize,
    },
    /// A DPC, timer callback or ISR ran longer than the configured bound (one finding per
    /// routine, updated with the longest run seen).
    RoutineTooLong {
        /// What kind of routine.
        kind: RoutineKind,
        /// Its address.
        routine: usize,
        /// The longest run seen, in ticks.
        longest: u64,
        /// How many runs exceeded the bound.
        over: u64,
        /// The bound, in ticks.
        bound: u64,
    },
    /// A pin or stream left in, or moved to, a state the KSSTATE rules forbid (port model).
    KsStateViolation {
        /// The pin or stream.
        object: String,
        /// What rule was broken.
        detail: String,
    },
    /// Another rule of the `PortCls` contract broken (port model).
    PortContract {
        /// What rule was broken.
        detail: String,
    },
    /// The driver used the device against its protocol (e.g. wrote while DRR was set).
    DeviceMisuse {
        /// What happened.
        detail: String,
    },
    /// The driver called `KeBugCheckEx`.
    BugCheck {
        /// Bugcheck code.
        code: u32,
        /// Its four parameters.
        parameters: [usize; 4],
    },
    /// Work at one instant never ended (callbacks kept queueing callbacks without time passing).
    Livelock {
        /// What kept running.
        detail: String,
    },
}

impl Finding {
    /// The bugcheck name and code Windows would have stopped with (code 0 for the checks the
    /// sim adds beyond Driver Verifier).
    #[must_use]
    pub const fn bugcheck(&self) -> (&'static str, u32) {
        match self {
            Self::RaiseToLowerIrql { .. } => ("IRQL_NOT_GREATER_OR_EQUAL", 0x9),
            Self::LowerToHigherIrql { .. } => ("IRQL_NOT_LESS_OR_EQUAL", 0xa),
            Self::RoutineChangedIrql { .. } => ("IRQL_UNEXPECTED_VALUE", 0xc8),
            Self::NullArgument { .. } => ("PAGE_FAULT_IN_NONPAGED_AREA", 0x50),
            Self::FreeNullPool
            | Self::FreeInvalidPool { .. }
            | Self::PoolTagMismatch { .. }
            | Self::ZeroPoolTag { .. } => ("BAD_POOL_CALLER", 0xc2),
            Self::FreedPoolHoldsActiveObject { .. } => ("TIMER_OR_DPC_INVALID", 0xc7),
            Self::PoolModifiedAfterFree { .. } => ("SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION", 0xc1),
            Self::ActiveAtUnload { .. } => (
                "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
                0xce,
            ),
            Self::RoutineTooLong { .. } => ("DPC_WATCHDOG_VIOLATION", 0x133),
            Self::BugCheck { .. } => ("KeBugCheckEx", 0),
            Self::DeviceMisuse { .. } => ("DEVICE_PROTOCOL_VIOLATION", 0),
            Self::Livelock { .. } => ("SIMULATION_LIVELOCK", 0),
            _ => ("DRIVER_VERIFIER_DETECTED_VIOLATION", 0xc4),
        }
    }
}

fn level_name(irql: u8) -> &'static str {
    match irql {
        0 => "PASSIVE_LEVEL",
        1 => "APC_LEVEL",
        2 => "DISPATCH_LEVEL",
        _ => "DIRQL",
    }
}

fn tag_text(tag: u32) -> String {
    tag.to_le_bytes()
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

impl fmt::Display for Finding {
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per finding; splitting would only scatter them"
    )]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, code) = self.bugcheck();
        if code == 0 {
            write!(f, "{name}: ")?;
        } else {
            write!(f, "{name} ({code:x}): ")?;
        }
        match self {
            Self::IrqlTooHigh { call, irql, max } => {
                write!(
                    f,
                    "{call} called at IRQL {irql} (max {}={max})",
                    level_name(*max)
                )
            }
            Self::IrqlTooLow { call, irql, min } => {
                write!(
                    f,
                    "{call} called at IRQL {irql} (min {}={min})",
                    level_name(*min)
                )
            }
            Self::RaiseToLowerIrql { from, to } => {
                write!(f, "KfRaiseIrql from IRQL {from} to lower IRQL {to}")
            }
            Self::LowerToHigherIrql { from, to } => {
                write!(f, "KeLowerIrql from IRQL {from} to higher IRQL {to}")
            }
            Self::SpinLockReleasedAtWrongIrql {
                call,
                lock,
                irql,
                expected,
            } => write!(
                f,
                "{call} of spin lock {lock:#x} at IRQL {irql} (must be {}={expected})",
                level_name(*expected)
            ),
            Self::SpinLockRestoresWrongIrql {
                lock,
                new_irql,
                acquired_from,
            } => write!(
                f,
                "KeReleaseSpinLock of spin lock {lock:#x} restores IRQL {new_irql}, but it was acquired at IRQL {acquired_from}"
            ),
            Self::SpinLockNotHeld { call, lock } => {
                write!(f, "{call} of spin lock {lock:#x}, which is not held")
            }
            Self::SpinLockDeadlock { call, lock } => {
                write!(
                    f,
                    "{call} of spin lock {lock:#x}, which this processor already holds (deadlock)"
                )
            }
            Self::SpinLockHeldAcrossWait { call, lock } => {
                write!(f, "{call} may wait, but spin lock {lock:#x} is held")
            }
            Self::RoutineReturnedHoldingLock {
                kind,
                routine,
                lock,
            } => {
                write!(
                    f,
                    "{kind} {routine:#x} returned holding spin lock {lock:#x}"
                )
            }
            Self::RoutineChangedIrql {
                kind,
                routine,
                irql,
                expected,
            } => {
                write!(
                    f,
                    "{kind} {routine:#x} returned at IRQL {irql}, was called at IRQL {expected}"
                )
            }
            Self::RoutineLeftFloatStateSaved { kind, routine } => write!(
                f,
                "{kind} {routine:#x} returned without KeRestoreExtendedProcessorState"
            ),
            Self::NullArgument { call, argument } => {
                write!(f, "{call} dereferenced a NULL {argument}")
            }
            Self::UninitializedObject { call, kind, object } => write!(
                f,
                "{call} on {kind} {object:#x}, which was never initialised (or its memory was freed)"
            ),
            Self::UnexportedRoutine { call } => {
                write!(f, "{call} called, but this kernel does not export it")
            }
            Self::InvalidArgument { call, detail } => write!(f, "{call}: {detail}"),
            Self::FreeNullPool => f.write_str("ExFreePoolWithTag of a NULL pointer"),
            Self::FreeInvalidPool { address } => write!(
                f,
                "ExFreePoolWithTag of {address:#x}, which is not allocated (freed twice, or never allocated)"
            ),
            Self::PoolTagMismatch {
                address,
                allocated,
                freed,
            } => write!(
                f,
                "ExFreePoolWithTag of {address:#x} with tag '{}', allocated with tag '{}'",
                tag_text(*freed),
                tag_text(*allocated)
            ),
            Self::ZeroPoolTag { call } => write!(f, "{call} with pool tag 0"),
            Self::PoolModifiedAfterFree {
                address,
                tag,
                offset,
            } => write!(
                f,
                "pool {address:#x} (tag '{}') was written at offset {offset} after it was freed",
                tag_text(*tag)
            ),
            Self::PoolLeaked { tag, count, bytes } => write!(
                f,
                "driver unloading without freeing its pool: tag '{}' has {count} allocation(s), {bytes} bytes",
                tag_text(*tag)
            ),
            Self::FreedPoolHoldsActiveObject {
                tag,
                pool,
                kind,
                object,
            } => write!(
                f,
                "pool {pool:#x} (tag '{}') freed while the {kind} at {object:#x} inside it is still in use (set, queued or running)",
                tag_text(*tag)
            ),
            Self::ActiveAtUnload { kind, object } => {
                write!(f, "{kind} {object:#x} still active at unload")
            }
            Self::LookasideInconsistent { list, detail } => {
                write!(f, "lookaside list {list:#x}: {detail}")
            }
            Self::EventReturnedTwice { event } => {
                write!(
                    f,
                    "allocator event {event:#x} returned with PutMessage twice"
                )
            }
            Self::EventUsedAfterReturn { event, detail } => {
                write!(
                    f,
                    "allocator event {event:#x} used after it was returned: {detail}"
                )
            }
            Self::ComReferencesOutstanding { kind, object, refs } => {
                write!(
                    f,
                    "{refs} reference(s) to {kind} {object:#x} outstanding at unload"
                )
            }
            Self::ComOverRelease { kind, object } => {
                write!(
                    f,
                    "Release of {kind} {object:#x}, whose reference count is already 0"
                )
            }
            Self::RoutineTooLong {
                kind,
                routine,
                longest,
                over,
                bound,
            } => write!(
                f,
                "{kind} {routine:#x} ran {} (bound {}); {over} run(s) over the bound",
                format_ticks(*longest),
                format_ticks(*bound)
            ),
            Self::KsStateViolation { object, detail } => {
                write!(f, "KSSTATE rule broken by {object}: {detail}")
            }
            Self::PortContract { detail }
            | Self::DeviceMisuse { detail }
            | Self::Livelock { detail } => f.write_str(detail),
            Self::BugCheck {
                code,
                parameters: [p1, p2, p3, p4],
            } => {
                write!(
                    f,
                    "driver called KeBugCheckEx({code:#x}, {p1:#x}, {p2:#x}, {p3:#x}, {p4:#x})"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn irql_finding_reads_like_driver_verifier() {
        let f = Finding::IrqlTooHigh {
            call: "KeSetTimerEx",
            irql: 3,
            max: 2,
        };
        assert_eq!(
            f.to_string(),
            "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): KeSetTimerEx called at IRQL 3 (max DISPATCH_LEVEL=2)"
        );
    }

    #[test]
    fn leak_finding_names_the_tag() {
        let f = Finding::PoolLeaked {
            tag: u32::from_le_bytes(*b"Rdms"),
            count: 2,
            bytes: 96,
        };
        assert_eq!(
            f.to_string(),
            "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): driver unloading without freeing its pool: tag 'Rdms' has 2 allocation(s), 96 bytes"
        );
    }

    #[test]
    fn long_dpc_finding_reports_the_longest_run() {
        let f = Finding::RoutineTooLong {
            kind: RoutineKind::Dpc,
            routine: 0x1000,
            longest: 4_123,
            over: 3,
            bound: 1_000,
        };
        assert_eq!(
            f.to_string(),
            "DPC_WATCHDOG_VIOLATION (133): DPC routine 0x1000 ran 412.3 µs (bound 100.0 µs); 3 run(s) over the bound"
        );
    }
}
