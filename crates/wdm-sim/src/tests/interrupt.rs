//! The MPU-401 through port I/O and `IInterruptSync`: init handshakes, paced output with
//! exact wire times, input interrupts at DIRQL, faults, COM reference counting, determinism.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use dmus_sys::com::IID_IUnknown;
use dmus_sys::kernel::{NTSTATUS, PVOID, STATUS_SUCCESS, STATUS_UNSUCCESSFUL};
use dmus_sys::portcls::{
    IID_IInterruptSync, IInterruptSync, IResourceList, InterruptSyncModeNormal, PINTERRUPTSYNC,
};

use super::support::{TestResources, boolean, inb, irql, now, outb, stall};
use crate::exports::interrupt_sync::PcNewInterruptSync;
use crate::{
    Finding, Machine, MachineConfig, Mpu401Config, Mpu401Fault, RoutineKind, RoutineStats, us,
};

const DATA: usize = 0x330;
const STATUS: usize = 0x331;

std::thread_local! {
    static RECEIVED: RefCell<Vec<(u64, u8, u8)>> = const { RefCell::new(Vec::new()) };
}

/// An ISR as the DDK's: drain every byte while DSR is clear, stamping each.
unsafe extern "system" fn mpu_isr(_sync: *mut IInterruptSync, context: PVOID) -> NTSTATUS {
    let mut any = false;
    while inb(STATUS) & 0x80 == 0 {
        let byte = inb(DATA);
        RECEIVED.with(|r| r.borrow_mut().push((now(), irql(), byte)));
        any = true;
    }
    stall(u32::try_from(context as usize).unwrap_or(0));
    if any {
        STATUS_SUCCESS
    } else {
        STATUS_UNSUCCESSFUL
    }
}

fn received() -> Vec<(u64, u8, u8)> {
    RECEIVED.with(|r| core::mem::take(&mut *r.borrow_mut()))
}

struct Interrupt {
    sync: PINTERRUPTSYNC,
    _resources: com_object::ComRef<TestResources>,
}

impl Interrupt {
    fn new(isr_stall_us: usize) -> Self {
        let resources = TestResources::new(9, 8);
        let mut sync: PINTERRUPTSYNC = core::ptr::null_mut();
        // SAFETY: a writable out-pointer and a live resource list.
        let status = unsafe {
            PcNewInterruptSync(
                &raw mut sync,
                core::ptr::null_mut(),
                resources.as_interface::<IResourceList>().as_ptr(),
                0,
                InterruptSyncModeNormal,
            )
        };
        assert_eq!(status, STATUS_SUCCESS);
        let vtbl = Self::vtbl(sync);
        let context = isr_stall_us as PVOID;
        // SAFETY: a live IInterruptSync at PASSIVE_LEVEL.
        let status =
            unsafe { (vtbl.RegisterServiceRoutine)(sync, Some(mpu_isr), context, boolean(false)) };
        assert_eq!(status, STATUS_SUCCESS);
        // SAFETY: as above.
        assert_eq!(unsafe { (vtbl.Connect)(sync) }, STATUS_SUCCESS);
        Self {
            sync,
            _resources: resources,
        }
    }

    fn vtbl(sync: PINTERRUPTSYNC) -> &'static dmus_sys::portcls::IInterruptSyncVtbl {
        // SAFETY: a live IInterruptSync starts with its vtable pointer.
        let vtbl = unsafe { (*sync).lpVtbl };
        // SAFETY: the sim's vtable is a static.
        unsafe { &*vtbl }
    }

    fn synchronized(
        &self,
        routine: unsafe extern "system" fn(*mut IInterruptSync, PVOID) -> NTSTATUS,
    ) -> NTSTATUS {
        // SAFETY: a live IInterruptSync; the routine runs at DIRQL.
        unsafe {
            (Self::vtbl(self.sync).CallSynchronizedRoutine)(
                self.sync,
                Some(routine),
                core::ptr::null_mut(),
            )
        }
    }

    fn release(self) -> u32 {
        let vtbl = Self::vtbl(self.sync);
        // SAFETY: a live IInterruptSync at PASSIVE_LEVEL.
        unsafe { (vtbl.Disconnect)(self.sync) };
        // SAFETY: the reference PcNewInterruptSync returned.
        unsafe { (vtbl.base.Release)(self.sync.cast()) }
    }
}

/// Reset + UART mode with polling, as the DDK driver does; true if both were acknowledged.
fn init_uart() -> bool {
    let mut acks = 0;
    for command in [0xFF, 0x3F] {
        outb(STATUS, command);
        for _ in 0..100 {
            if inb(STATUS) & 0x80 == 0 {
                if inb(DATA) == 0xFE {
                    acks += 1;
                }
                break;
            }
        }
    }
    acks == 2
}

unsafe extern "system" fn init_uart_synchronized(_: *mut IInterruptSync, _: PVOID) -> NTSTATUS {
    RECEIVED.with(|r| r.borrow_mut().push((now(), irql(), 0)));
    if init_uart() {
        STATUS_SUCCESS
    } else {
        STATUS_UNSUCCESSFUL
    }
}

/// Writes bytes, polling DRR before each.
fn write_paced(bytes: &[u8]) {
    for &b in bytes {
        while inb(STATUS) & 0x40 != 0 {}
        outb(DATA, b);
    }
}

#[test]
fn init_then_paced_note_on_lands_on_the_wire_at_exact_times() {
    let machine = Machine::new(MachineConfig::default());
    assert!(init_uart());
    // reset at 0, status 10, ack 20, uart 30, status 40, ack 50; now 60.
    assert_eq!(now(), 60);
    write_paced(&[0x90, 0x3C, 0x7F]);
    // status 60, 0x90 at 70; status 80, 0x3C into the FIFO at 90; DRR polled from 100 until it
    // clears at 3270 (0x90 done, 0x3C starts), 0x7F written at 3280 and sent after 0x3C.
    assert_eq!(now(), 3_290);
    assert_eq!(machine.wire_log(), [(70, 0x90), (3_270, 0x3C)]);
    machine.run_for(us(1000));
    assert_eq!(
        machine.wire_log(),
        [(70, 0x90), (3_270, 0x3C), (6_470, 0x7F)]
    );
    assert!(machine.findings().is_empty());
}

#[test]
fn deeper_fifo_accepts_a_burst_without_waiting() {
    let config = MachineConfig {
        mpu401: Some(Mpu401Config {
            fifo_depth: 16,
            ..Mpu401Config::default()
        }),
        ..MachineConfig::default()
    };
    let machine = Machine::new(config);
    assert!(init_uart());
    write_paced(&[0x90, 0x3C, 0x7F, 0x80, 0x3C, 0x00]);
    assert_eq!(now(), 180, "no DRR waits: 6 status reads and 6 writes");
    machine.run_for(us(3000));
    let times: Vec<u64> = machine.wire_log().iter().map(|&(t, _)| t).collect();
    assert_eq!(times, [70, 3_270, 6_470, 9_670, 12_870, 16_070]);
}

#[test]
fn card_not_acking_reset_in_uart_mode_still_inits_on_the_second_reset() {
    let config = MachineConfig {
        mpu401: Some(Mpu401Config {
            ack_reset_in_uart_mode: false,
            ..Mpu401Config::default()
        }),
        ..MachineConfig::default()
    };
    let _machine = Machine::new(config);
    assert!(init_uart());
    // A driver reloading finds the card in UART mode: the first reset is silent.
    outb(STATUS, 0xFF);
    assert_eq!(inb(STATUS) & 0x80, 0x80);
    outb(STATUS, 0xFF);
    assert_eq!(inb(STATUS) & 0x80, 0);
    assert_eq!(inb(DATA), 0xFE);
}

#[test]
fn absent_never_acking_and_never_draining_cards() {
    for (fault, init_ok) in [
        (Mpu401Fault::Absent, false),
        (Mpu401Fault::NeverAcks, false),
        (Mpu401Fault::NeverDrains, true),
    ] {
        let config = MachineConfig {
            mpu401: Some(Mpu401Config {
                fault,
                ..Mpu401Config::default()
            }),
            ..MachineConfig::default()
        };
        let machine = Machine::new(config);
        assert_eq!(init_uart(), init_ok, "{fault:?}");
        match fault {
            Mpu401Fault::Absent => assert_eq!((inb(STATUS), inb(DATA)), (0xFF, 0xFF)),
            Mpu401Fault::NeverDrains => {
                outb(DATA, 0x90);
                stall(10_000);
                assert_eq!(inb(STATUS) & 0x40, 0x40, "DRR stays set");
            }
            _ => assert_eq!(inb(STATUS) & 0x80, 0x80, "no ACK ever arrives"),
        }
        assert!(machine.wire_log().is_empty());
        drop(machine);
    }
}

#[test]
fn input_raises_the_interrupt_and_the_isr_runs_at_dirql_per_byte() {
    let machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(0);
    assert_eq!(
        interrupt.synchronized(init_uart_synchronized),
        STATUS_SUCCESS
    );
    // The ACKs' interrupt was held while at DIRQL and taken when the IRQL dropped; the
    // synchronized init had already read both ACKs, so the ISR found nothing.
    assert_eq!(received(), [(0, 8, 0)]);
    machine.inject_midi_input(us(1000), &[0x90, 0x40, 0x7F]);
    machine.run_until(us(2000));
    // Each byte arrives at 1000 µs + n × 320 µs; the ISR stamps it after its status and data
    // reads (2 µs).
    assert_eq!(
        received(),
        [(10_020, 8, 0x90), (13_220, 8, 0x40), (16_420, 8, 0x7F)]
    );
    let stats = machine.isr_stats();
    // Each ISR: status, data, status = 3 µs. The first (ACK) ISR: one status read.
    assert_eq!(
        stats.routine(mpu_isr as *const () as usize),
        Some(RoutineStats {
            count: 4,
            total: 100,
            longest: 30
        })
    );
    let mpu = machine
        .mpu401_stats()
        .expect("the default machine has an MPU-401");
    assert_eq!(
        (mpu.acks, mpu.interrupts, mpu.input_lost, mpu.bytes_sent),
        (2, 4, 0, 0)
    );
    assert_eq!(interrupt.release(), 0);
    assert!(machine.findings().is_empty());
}

#[test]
fn an_isr_stealing_the_ack_shows_why_init_runs_synchronized() {
    let _machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(0);
    assert!(
        !init_uart(),
        "the ISR took the ACKs before the polling loop saw them"
    );
    assert_eq!(
        received().iter().map(|r| r.2).collect::<Vec<_>>(),
        [0xFE, 0xFE]
    );
    interrupt.release();
}

#[test]
fn an_isr_over_its_bound_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(40);
    interrupt.synchronized(init_uart_synchronized);
    machine.inject_midi_input(us(1000), &[0xF8]);
    machine.run_until(us(2000));
    received();
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [Finding::RoutineTooLong {
            kind: RoutineKind::Isr,
            routine: mpu_isr as *const () as usize,
            longest: 430,
            over: 2,
            bound: 250
        }]
    );
    interrupt.release();
}

#[test]
fn interrupt_sync_reference_counting() {
    let machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(0);
    let sync = interrupt.sync;
    let vtbl = Interrupt::vtbl(sync);
    let mut out: PVOID = core::ptr::null_mut();
    // SAFETY: a live object and writable out-pointer.
    let status =
        unsafe { (vtbl.base.QueryInterface)(sync.cast(), &IID_IInterruptSync, &raw mut out) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(out, sync.cast());
    let other = dmus_sys::portcls::IID_IResourceList;
    // SAFETY: as above.
    let status = unsafe { (vtbl.base.QueryInterface)(sync.cast(), &raw const other, &raw mut out) };
    assert_ne!(status, STATUS_SUCCESS);
    assert!(out.is_null());
    // SAFETY: as above.
    let status = unsafe { (vtbl.base.QueryInterface)(sync.cast(), &IID_IUnknown, &raw mut out) };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: a live object.
    assert_eq!(unsafe { (vtbl.base.Release)(sync.cast()) }, 2);
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::ComReferencesOutstanding {
            kind: "IInterruptSync",
            object: sync as usize,
            refs: 2
        }]
    );
    // SAFETY: a live object.
    assert_eq!(unsafe { (vtbl.base.Release)(sync.cast()) }, 1);
    assert_eq!(interrupt.release(), 0);
    machine.with(super::super::state::MachineState::unload_checks);
    assert!(machine.findings().is_empty());
}

#[test]
fn releasing_interrupt_sync_once_too_often_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(0);
    let sync = interrupt.sync;
    let vtbl = Interrupt::vtbl(sync);
    assert_eq!(interrupt.release(), 0);
    // SAFETY: the object is gone, but its block is kept (sim_object): the call reaches the
    // registry's check, which refuses it (the vtable is a static).
    assert_eq!(unsafe { (vtbl.base.Release)(sync.cast()) }, 0);
    assert_eq!(
        machine.take_findings(),
        [Finding::ComOverRelease {
            kind: "IInterruptSync",
            object: sync as usize
        }]
    );
}

#[test]
fn port_nobody_claims_and_write_while_busy_are_device_findings() {
    let machine = Machine::new(MachineConfig::default());
    assert_eq!(inb(0x220), 0xFF);
    assert!(init_uart());
    outb(DATA, 1);
    outb(DATA, 2);
    outb(DATA, 3);
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [
            Finding::DeviceMisuse {
                detail: "READ_PORT_UCHAR(0x220): no device claims this port".into()
            },
            Finding::DeviceMisuse {
                detail: "MPU-401 data port 0x330 written while DRR (0x40) was set: byte 0x03 lost"
                    .into()
            },
        ]
    );
}

/// What a scenario produced: the wire log, the bytes the ISR received, the ISR statistics.
type Outcome = (Vec<(u64, u8)>, Vec<(u64, u8, u8)>, RoutineStats);

fn scenario() -> Outcome {
    let machine = Machine::new(MachineConfig::default());
    let interrupt = Interrupt::new(0);
    interrupt.synchronized(init_uart_synchronized);
    machine.inject_midi_input(us(700), &[0x90, 0x3C, 0x40, 0xF8, 0x80, 0x3C, 0x00]);
    for (i, chunk) in [
        [0x90_u8, 0x40, 0x7F],
        [0x80, 0x40, 0x00],
        [0xC0, 0x05, 0xFE],
    ]
    .iter()
    .enumerate()
    {
        machine.run_until(us(500) * (i as u64 + 1));
        write_paced(chunk);
    }
    machine.run_until(us(10_000));
    let out = (machine.wire_log(), received(), machine.isr_stats().all);
    interrupt.release();
    out
}

#[test]
fn the_same_scenario_gives_the_same_wire_log_bit_for_bit() {
    let first = scenario();
    let second = scenario();
    assert_eq!(first, second);
    assert_eq!(first.0.len(), 9);
    assert_eq!(first.1.len(), 1 + 7);
    let _ = vec![0_u8];
}

unsafe extern "system" fn dpc_busy_500_us(
    _: *mut dmus_sys::kernel::KDPC,
    _: PVOID,
    _: PVOID,
    _: PVOID,
) {
    stall(500);
}

#[test]
fn an_interrupt_arriving_during_a_dpc_preempts_it_and_counts_in_its_duration() {
    let machine = Machine::new(MachineConfig {
        dpc_bound: us(1000),
        ..MachineConfig::default()
    });
    let interrupt = Interrupt::new(0);
    interrupt.synchronized(init_uart_synchronized);
    received();
    machine.inject_midi_input(us(300), &[0xFE]);
    let mut d = super::support::storage();
    let dpc = d.as_ptr::<dmus_sys::kernel::KDPC>();
    machine.run_until(us(100));
    super::support::init_dpc(dpc, Some(dpc_busy_500_us), 0);
    super::support::insert_dpc(dpc);
    // The byte arrived at 300 µs, inside the DPC (100..600 µs), and the ISR took it at once.
    assert_eq!(received(), [(3_020, 8, 0xFE)]);
    assert_eq!(now(), 6_000);
    let dpc_stats = machine
        .dpc_stats()
        .routine(dpc_busy_500_us as *const () as usize);
    assert_eq!(dpc_stats.map(|s| s.longest), Some(5_000));
    interrupt.release();
    assert!(machine.findings().is_empty());
}

#[test]
fn port_model_findings_read_like_the_verifier() {
    let machine = Machine::new(MachineConfig::default());
    machine.with(|m| {
        m.report_event_returned_twice(0x1000);
        m.report_event_used_after_return(0x2000, "cbEvent changed from 0 to 3".into());
        m.report_ks_state("pin 0".into(), "STOP -> RUN skips ACQUIRE and PAUSE".into());
    });
    let text: Vec<alloc::string::String> = machine
        .take_findings()
        .iter()
        .map(alloc::string::ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [
            "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): allocator event 0x1000 returned with PutMessage twice",
            "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): allocator event 0x2000 used after it was returned: cbEvent changed from 0 to 3",
            "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): KSSTATE rule broken by pin 0: STOP -> RUN skips ACQUIRE and PAUSE",
        ]
    );
}
