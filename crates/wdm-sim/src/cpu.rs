//! The one simulated processor: its IRQL, the spin locks it holds, extended-state saves, and
//! the stack of driver routines it is running (for duration measurement and the watchdog).

use alloc::vec::Vec;

use crate::finding::{Finding, RoutineKind};

/// `PASSIVE_LEVEL`.
pub const PASSIVE_LEVEL: u8 = 0;
/// `APC_LEVEL`.
pub const APC_LEVEL: u8 = 1;
/// `DISPATCH_LEVEL`.
pub const DISPATCH_LEVEL: u8 = 2;
/// `CLOCK_LEVEL` on x64 (wdm.h): the clock interrupt; device IRQLs lie below it.
pub const CLOCK_LEVEL: u8 = 13;
/// `HIGH_LEVEL` on x64 (wdm.h).
pub const HIGH_LEVEL: u8 = 15;

/// How a held spin lock was acquired, which decides how it must be released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// `KeAcquireSpinLockRaiseToDpc`: released by `KeReleaseSpinLock` with the saved IRQL.
    Raised {
        /// The IRQL the acquire returned.
        saved_irql: u8,
    },
    /// `KeAcquireSpinLockAtDpcLevel`: released by `KeReleaseSpinLockFromDpcLevel`.
    AtDpcLevel,
}

/// A spin lock this processor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldLock {
    /// The `KSPIN_LOCK`'s address.
    pub lock: usize,
    /// How it was acquired.
    pub mode: LockMode,
}

/// A driver routine the processor is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its kind.
    pub kind: RoutineKind,
    /// Its address.
    pub routine: usize,
    /// Virtual time it started.
    pub start: u64,
    /// IRQL it was called at.
    pub irql: u8,
    /// Spin locks held when it was called (it must return with the same set).
    pub locks_at_entry: usize,
    /// Extended-state saves outstanding when it was called.
    pub saves_at_entry: usize,
}

/// The processor's state.
#[derive(Debug, Default)]
pub struct Cpu {
    irql: u8,
    locks: Vec<HeldLock>,
    frames: Vec<Frame>,
    xstate_saves: usize,
}

impl Cpu {
    /// The current IRQL.
    #[must_use]
    pub const fn irql(&self) -> u8 {
        self.irql
    }

    /// Sets the IRQL without checks (the kernel's own transitions: DPC and ISR dispatch).
    pub const fn set_irql(&mut self, irql: u8) {
        self.irql = irql;
    }

    /// Spin locks held, oldest first.
    #[must_use]
    pub fn locks(&self) -> &[HeldLock] {
        &self.locks
    }

    /// The routine running now, innermost.
    #[must_use]
    pub fn current_frame(&self) -> Option<&Frame> {
        self.frames.last()
    }

    /// The outermost routine running now (the one the watchdog times).
    #[must_use]
    pub fn outermost_frame(&self) -> Option<&Frame> {
        self.frames.first()
    }

    /// `KfRaiseIrql`: returns the old IRQL.
    pub fn raise(&mut self, to: u8, findings: &mut Vec<Finding>) -> u8 {
        let from = self.irql;
        if to < from {
            findings.push(Finding::RaiseToLowerIrql { from, to });
        }
        self.irql = to;
        from
    }

    /// `KeLowerIrql`.
    pub fn lower(&mut self, to: u8, findings: &mut Vec<Finding>) {
        let from = self.irql;
        if to > from {
            findings.push(Finding::LowerToHigherIrql { from, to });
        }
        self.irql = to;
    }

    /// `KeAcquireSpinLockRaiseToDpc`: returns the IRQL to restore.
    pub fn acquire_raise_to_dpc(&mut self, lock: usize, findings: &mut Vec<Finding>) -> u8 {
        const CALL: &str = "KeAcquireSpinLockRaiseToDpc";
        let saved_irql = self.irql;
        if saved_irql > DISPATCH_LEVEL {
            findings.push(Finding::IrqlTooHigh {
                call: CALL,
                irql: saved_irql,
                max: DISPATCH_LEVEL,
            });
        } else {
            self.irql = DISPATCH_LEVEL;
        }
        if self.holds(lock) {
            findings.push(Finding::SpinLockDeadlock { call: CALL, lock });
        } else {
            self.locks.push(HeldLock {
                lock,
                mode: LockMode::Raised { saved_irql },
            });
        }
        saved_irql
    }

    /// `KeAcquireSpinLockAtDpcLevel`.
    pub fn acquire_at_dpc(&mut self, lock: usize, findings: &mut Vec<Finding>) {
        const CALL: &str = "KeAcquireSpinLockAtDpcLevel";
        if self.irql < DISPATCH_LEVEL {
            findings.push(Finding::IrqlTooLow {
                call: CALL,
                irql: self.irql,
                min: DISPATCH_LEVEL,
            });
        }
        if self.holds(lock) {
            findings.push(Finding::SpinLockDeadlock { call: CALL, lock });
        } else {
            self.locks.push(HeldLock {
                lock,
                mode: LockMode::AtDpcLevel,
            });
        }
    }

    /// `KeReleaseSpinLock`: must run at `DISPATCH_LEVEL` and restore the IRQL the acquire saved.
    pub fn release_lower(&mut self, lock: usize, new_irql: u8, findings: &mut Vec<Finding>) {
        const CALL: &str = "KeReleaseSpinLock";
        if self.irql != DISPATCH_LEVEL {
            findings.push(Finding::SpinLockReleasedAtWrongIrql {
                call: CALL,
                lock,
                irql: self.irql,
                expected: DISPATCH_LEVEL,
            });
        }
        match self.take(lock) {
            None => findings.push(Finding::SpinLockNotHeld { call: CALL, lock }),
            Some(HeldLock {
                mode: LockMode::Raised { saved_irql },
                ..
            }) if saved_irql != new_irql => {
                findings.push(Finding::SpinLockRestoresWrongIrql {
                    lock,
                    new_irql,
                    acquired_from: saved_irql,
                });
            }
            Some(_) => {}
        }
        if new_irql > self.irql {
            findings.push(Finding::LowerToHigherIrql {
                from: self.irql,
                to: new_irql,
            });
        }
        self.irql = new_irql;
    }

    /// `KeReleaseSpinLockFromDpcLevel`.
    pub fn release_at_dpc(&mut self, lock: usize, findings: &mut Vec<Finding>) {
        const CALL: &str = "KeReleaseSpinLockFromDpcLevel";
        if self.irql < DISPATCH_LEVEL {
            findings.push(Finding::SpinLockReleasedAtWrongIrql {
                call: CALL,
                lock,
                irql: self.irql,
                expected: DISPATCH_LEVEL,
            });
        }
        if self.take(lock).is_none() {
            findings.push(Finding::SpinLockNotHeld { call: CALL, lock });
        }
    }

    /// Whether `lock` is held.
    #[must_use]
    pub fn holds(&self, lock: usize) -> bool {
        self.locks.iter().any(|l| l.lock == lock)
    }

    fn take(&mut self, lock: usize) -> Option<HeldLock> {
        let index = self.locks.iter().rposition(|l| l.lock == lock)?;
        Some(self.locks.remove(index))
    }

    /// Checks a call's IRQL against its documented maximum, and, for a call that may wait,
    /// that no spin lock is held. Records at most one finding (the cause first). Returns
    /// whether the call is allowed.
    pub fn check_call(
        &self,
        call: &'static str,
        max: u8,
        may_wait: bool,
        findings: &mut Vec<Finding>,
    ) -> bool {
        if may_wait {
            if let Some(held) = self.locks.last() {
                findings.push(Finding::SpinLockHeldAcrossWait {
                    call,
                    lock: held.lock,
                });
                return false;
            }
        }
        if self.irql > max {
            findings.push(Finding::IrqlTooHigh {
                call,
                irql: self.irql,
                max,
            });
            return false;
        }
        true
    }

    /// `KeSaveExtendedProcessorState` succeeded.
    pub const fn save_xstate(&mut self) {
        self.xstate_saves += 1;
    }

    /// `KeRestoreExtendedProcessorState`: false if nothing was saved.
    pub const fn restore_xstate(&mut self) -> bool {
        if self.xstate_saves == 0 {
            return false;
        }
        self.xstate_saves -= 1;
        true
    }

    /// The kernel calls a driver routine at `irql`: enter its frame. Returns the IRQL to
    /// restore when it returns.
    pub fn enter(&mut self, kind: RoutineKind, routine: usize, irql: u8, now: u64) -> u8 {
        let previous = self.irql;
        self.frames.push(Frame {
            kind,
            routine,
            start: now,
            irql,
            locks_at_entry: self.locks.len(),
            saves_at_entry: self.xstate_saves,
        });
        self.irql = irql;
        previous
    }

    /// The routine entered last returned: checks it left the processor as it found it
    /// (IRQL, spin locks, extended state), repairs what it did not so the simulation goes
    /// on, restores `previous_irql`, and returns its frame.
    ///
    /// # Panics
    /// If no routine is running (a bug in the simulation, not in the driver).
    pub fn leave(&mut self, previous_irql: u8, findings: &mut Vec<Finding>) -> Frame {
        let frame = self.frames.pop().expect("wdm-sim: leave without enter");
        if self.irql != frame.irql {
            findings.push(Finding::RoutineChangedIrql {
                kind: frame.kind,
                routine: frame.routine,
                irql: self.irql,
                expected: frame.irql,
            });
        }
        while self.locks.len() > frame.locks_at_entry {
            if let Some(held) = self.locks.pop() {
                findings.push(Finding::RoutineReturnedHoldingLock {
                    kind: frame.kind,
                    routine: frame.routine,
                    lock: held.lock,
                });
            }
        }
        if self.xstate_saves > frame.saves_at_entry {
            findings.push(Finding::RoutineLeftFloatStateSaved {
                kind: frame.kind,
                routine: frame.routine,
            });
            self.xstate_saves = frame.saves_at_entry;
        }
        self.irql = previous_irql;
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_lock_raises_to_dispatch_and_restores_quietly() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        let old = cpu.acquire_raise_to_dpc(0x100, &mut findings);
        assert_eq!((old, cpu.irql()), (PASSIVE_LEVEL, DISPATCH_LEVEL));
        assert!(cpu.holds(0x100));
        cpu.acquire_at_dpc(0x200, &mut findings);
        cpu.release_at_dpc(0x200, &mut findings);
        cpu.release_lower(0x100, old, &mut findings);
        assert_eq!(cpu.irql(), PASSIVE_LEVEL);
        assert!(cpu.locks().is_empty());
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn spin_lock_released_at_wrong_irql_is_a_finding() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        let old = cpu.acquire_raise_to_dpc(0x100, &mut findings);
        cpu.raise(5, &mut findings);
        cpu.release_lower(0x100, old, &mut findings);
        assert_eq!(
            findings,
            [Finding::SpinLockReleasedAtWrongIrql {
                call: "KeReleaseSpinLock",
                lock: 0x100,
                irql: 5,
                expected: 2
            }]
        );
    }

    #[test]
    fn release_restoring_another_irql_is_a_finding() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        cpu.raise(APC_LEVEL, &mut findings);
        let old = cpu.acquire_raise_to_dpc(0x100, &mut findings);
        assert_eq!(old, APC_LEVEL);
        cpu.release_lower(0x100, PASSIVE_LEVEL, &mut findings);
        assert_eq!(
            findings,
            [Finding::SpinLockRestoresWrongIrql {
                lock: 0x100,
                new_irql: 0,
                acquired_from: 1
            }]
        );
    }

    #[test]
    fn reacquire_and_unheld_release_and_at_dpc_from_passive_are_findings() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        let old = cpu.acquire_raise_to_dpc(0x100, &mut findings);
        cpu.acquire_raise_to_dpc(0x100, &mut findings);
        cpu.release_lower(0x100, old, &mut findings);
        cpu.release_at_dpc(0x300, &mut findings);
        cpu.acquire_at_dpc(0x400, &mut findings);
        assert_eq!(
            findings,
            [
                Finding::SpinLockDeadlock {
                    call: "KeAcquireSpinLockRaiseToDpc",
                    lock: 0x100
                },
                Finding::SpinLockReleasedAtWrongIrql {
                    call: "KeReleaseSpinLockFromDpcLevel",
                    lock: 0x300,
                    irql: 0,
                    expected: 2
                },
                Finding::SpinLockNotHeld {
                    call: "KeReleaseSpinLockFromDpcLevel",
                    lock: 0x300
                },
                Finding::IrqlTooLow {
                    call: "KeAcquireSpinLockAtDpcLevel",
                    irql: 0,
                    min: 2
                },
            ]
        );
    }

    #[test]
    fn raise_lower_mismatches_are_findings_and_correct_use_is_quiet() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        let old = cpu.raise(DISPATCH_LEVEL, &mut findings);
        cpu.lower(old, &mut findings);
        assert!(findings.is_empty());
        cpu.raise(DISPATCH_LEVEL, &mut findings);
        cpu.raise(APC_LEVEL, &mut findings);
        cpu.lower(DISPATCH_LEVEL, &mut findings);
        assert_eq!(
            findings,
            [
                Finding::RaiseToLowerIrql { from: 2, to: 1 },
                Finding::LowerToHigherIrql { from: 1, to: 2 }
            ]
        );
    }

    #[test]
    fn may_wait_call_with_a_lock_held_names_the_lock() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        assert!(cpu.check_call("ExDeleteTimer", PASSIVE_LEVEL, true, &mut findings));
        cpu.acquire_raise_to_dpc(0x100, &mut findings);
        assert!(!cpu.check_call("ExDeleteTimer", PASSIVE_LEVEL, true, &mut findings));
        assert!(!cpu.check_call("PcNewPort", PASSIVE_LEVEL, false, &mut findings));
        assert!(cpu.check_call("KeSetTimerEx", DISPATCH_LEVEL, false, &mut findings));
        assert_eq!(
            findings,
            [
                Finding::SpinLockHeldAcrossWait {
                    call: "ExDeleteTimer",
                    lock: 0x100
                },
                Finding::IrqlTooHigh {
                    call: "PcNewPort",
                    irql: 2,
                    max: 0
                },
            ]
        );
    }

    #[test]
    fn leave_repairs_and_reports_what_a_routine_left_behind() {
        let mut cpu = Cpu::default();
        let mut findings = Vec::new();
        let prev = cpu.enter(RoutineKind::Dpc, 0xd0, DISPATCH_LEVEL, 0);
        cpu.acquire_at_dpc(0x100, &mut findings);
        cpu.save_xstate();
        cpu.raise(4, &mut findings);
        let frame = cpu.leave(prev, &mut findings);
        assert_eq!(frame.routine, 0xd0);
        assert_eq!(cpu.irql(), PASSIVE_LEVEL);
        assert!(cpu.locks().is_empty());
        assert_eq!(
            findings,
            [
                Finding::RoutineChangedIrql {
                    kind: RoutineKind::Dpc,
                    routine: 0xd0,
                    irql: 4,
                    expected: 2
                },
                Finding::RoutineReturnedHoldingLock {
                    kind: RoutineKind::Dpc,
                    routine: 0xd0,
                    lock: 0x100
                },
                Finding::RoutineLeftFloatStateSaved {
                    kind: RoutineKind::Dpc,
                    routine: 0xd0
                },
            ]
        );
        let prev = cpu.enter(RoutineKind::Dpc, 0xd0, DISPATCH_LEVEL, 0);
        let old = cpu.acquire_raise_to_dpc(0x100, &mut findings);
        cpu.release_lower(0x100, old, &mut findings);
        cpu.leave(prev, &mut findings);
        assert_eq!(findings.len(), 3);
    }
}
