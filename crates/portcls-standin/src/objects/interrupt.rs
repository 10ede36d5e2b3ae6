//! `IInterruptSync`: the card's interrupt. Routines registered by the miniport run under the
//! object's spin lock, in order until one succeeds (`InterruptSyncModeNormal`; `All` and
//! `Repeat` as portcls.h defines them). Wine delivers no hardware interrupts: the job thread
//! raises the line ([`raise`]) when the emulated card has input, and the routines run on that
//! thread under the lock, as an ISR would under the interrupt spin lock.

use core::sync::atomic::{AtomicBool, Ordering};

use com_object::{ComObject, ComRef, InterruptSyncImpl};
use dmus_sys::kernel::{
    BOOLEAN, NT_SUCCESS, NTSTATUS, PKINTERRUPT, PVOID, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IInterruptSync, INTERRUPTSYNCMODE, InterruptSyncModeAll, InterruptSyncModeRepeat,
    PINTERRUPTSYNCROUTINE,
};

use crate::pool::Pool;
use crate::spin::SpinMutex;

/// Routines one object holds.
const ROUTINES: usize = 4;
/// Rounds of `InterruptSyncModeRepeat` before the line is taken as stuck.
const REPEAT_ROUNDS: usize = 64;

/// The connected interrupt object (identity address, 0: none): the one the card raises.
static CONNECTED: SpinMutex<usize> = SpinMutex::new(0);

type Routine = (PINTERRUPTSYNCROUTINE, usize);

/// An interrupt sync object.
pub struct InterruptSync {
    mode: INTERRUPTSYNCMODE,
    routines: SpinMutex<([Routine; ROUTINES], usize)>,
    /// The "interrupt spin lock": held while any routine runs.
    lock: SpinMutex<()>,
    connected: AtomicBool,
}

com_object::class!(InterruptSync, Pool: IInterruptSync);

impl InterruptSync {
    /// A new object (one reference, the caller's).
    ///
    /// # Errors
    /// No memory.
    pub fn try_new(mode: INTERRUPTSYNCMODE) -> Result<ComRef<Self>, NTSTATUS> {
        ComRef::try_new(Self {
            mode,
            routines: SpinMutex::new(([(None, 0); ROUTINES], 0)),
            lock: SpinMutex::new(()),
            connected: AtomicBool::new(false),
        })
    }

    /// Runs the registered routines under the lock, per the mode; true if one claimed the
    /// interrupt.
    fn service(this: &ComObject<Self>) -> bool {
        let (routines, count) = *this.routines.lock();
        let interface = this.as_interface::<IInterruptSync>().as_ptr();
        let _held = this.lock.lock();
        let rounds = if this.mode == InterruptSyncModeRepeat {
            REPEAT_ROUNDS
        } else {
            1
        };
        let mut claimed = false;
        for _ in 0..rounds {
            let mut this_round = false;
            for &(routine, context) in &routines[..count] {
                let Some(routine) = routine else { continue };
                // SAFETY: a routine the miniport registered with its context, called with
                // the lock held as at DIRQL.
                let status = unsafe { routine(interface, context as PVOID) };
                if NT_SUCCESS(status) {
                    this_round = true;
                    if this.mode != InterruptSyncModeAll && this.mode != InterruptSyncModeRepeat {
                        return true;
                    }
                }
            }
            claimed |= this_round;
            if !this_round {
                break;
            }
        }
        claimed
    }
}

impl Drop for InterruptSync {
    fn drop(&mut self) {
        let identity =
            (core::ptr::from_mut(self) as usize).wrapping_sub(ComObject::<Self>::VALUE_OFFSET);
        let mut connected = CONNECTED.lock();
        if *connected == identity {
            *connected = 0;
        }
    }
}

/// Raises the card's interrupt line: the connected object's routines run (job thread). True if
/// a routine claimed it; false with nothing connected.
pub fn raise() -> bool {
    let connected = CONNECTED.lock();
    if *connected == 0 {
        return false;
    }
    // SAFETY: a connected object is alive: its Drop clears CONNECTED under this lock, before
    // its memory goes. Memory only.
    let Some(object) =
        (unsafe { ComObject::<InterruptSync>::from_interface(*connected as *mut IInterruptSync) })
    else {
        return false;
    };
    InterruptSync::service(object)
}

impl InterruptSyncImpl for InterruptSync {
    fn call_synchronized_routine(
        this: &ComObject<Self>,
        routine: PINTERRUPTSYNCROUTINE,
        context: PVOID,
    ) -> NTSTATUS {
        let Some(routine) = routine else {
            return STATUS_INVALID_PARAMETER;
        };
        let _held = this.lock.lock();
        let context_address = context as usize;
        // SAFETY: the caller's routine and context (handed to the routine as given, never
        // dereferenced here), under the interrupt lock.
        unsafe {
            routine(
                this.as_interface::<IInterruptSync>().as_ptr(),
                context_address as PVOID,
            )
        }
    }

    fn get_kinterrupt(_this: &ComObject<Self>) -> PKINTERRUPT {
        // There is no kernel interrupt object under Wine.
        core::ptr::null_mut()
    }

    fn connect(this: &ComObject<Self>) -> NTSTATUS {
        let mut connected = CONNECTED.lock();
        if *connected != 0 {
            return STATUS_UNSUCCESSFUL;
        }
        *connected = this.identity().as_ptr() as usize;
        this.connected.store(true, Ordering::Release);
        STATUS_SUCCESS
    }

    fn disconnect(this: &ComObject<Self>) {
        let mut connected = CONNECTED.lock();
        if *connected == this.identity().as_ptr() as usize {
            *connected = 0;
        }
        this.connected.store(false, Ordering::Release);
    }

    fn register_service_routine(
        this: &ComObject<Self>,
        routine: PINTERRUPTSYNCROUTINE,
        context: PVOID,
        first: BOOLEAN,
    ) -> NTSTATUS {
        if routine.is_none() {
            return STATUS_INVALID_PARAMETER;
        }
        let mut routines = this.routines.lock();
        let (list, count) = &mut *routines;
        if *count == ROUTINES {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        if first == 0 {
            list[*count] = (routine, context as usize);
        } else {
            list.copy_within(0..*count, 1);
            list[0] = (routine, context as usize);
        }
        *count += 1;
        STATUS_SUCCESS
    }
}
