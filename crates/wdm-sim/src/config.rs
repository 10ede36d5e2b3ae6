//! How a simulated machine is built: clock rates, verifier bounds, the MPU-401 and its faults,
//! pool fault injection.

use crate::time::{DEFAULT_CLOCK_INTERVAL, ms, us};

/// Everything a [`Machine`](crate::Machine) is built from. `Default` is a quiet, correct machine
/// with an MPU-401 at 0x330, IRQ 9.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// The clock interval `KeSetTimer(Ex)` and ordinary `ExSetTimer` expiries are quantised to,
    /// in ticks (default 15.625 ms). Windows shortens the clock interval while a
    /// high-resolution timer is set, which also sharpens ordinary timers meanwhile; the
    /// simulation keeps the two apart (set this to model a system whose timer resolution
    /// another component raised).
    pub clock_interval: u64,
    /// The resolution high-resolution timers (`EX_TIMER_HIGH_RESOLUTION`) are quantised to, in
    /// ticks (default 1 ms).
    pub high_res_resolution: u64,
    /// A DPC or timer callback running longer than this is a finding (default 100 µs).
    pub dpc_bound: u64,
    /// An ISR running longer than this is a finding (default 25 µs, Microsoft's guidance).
    pub isr_bound: u64,
    /// What one `READ_PORT_UCHAR`/`WRITE_PORT_UCHAR` costs in ticks (default 1 µs, an ISA cycle).
    pub port_io_cost: u64,
    /// A callback that has run this long (virtual time) is taken to never return: the sim
    /// reports `DPC_WATCHDOG_VIOLATION` and aborts (default 1 s).
    pub watchdog: u64,
    /// The emulated MPU-401, or `None` for a machine without one.
    pub mpu401: Option<Mpu401Config>,
    /// Pool allocation failures to inject.
    pub faults: FaultInjection,
    /// Strict (default): dropping a machine with findings nobody took panics and lists them.
    pub strict: bool,
    /// ntoskrnl/hal routines this kernel does not export (default none: a current Windows):
    /// `MmGetSystemRoutineAddress` returns NULL for them, and calling one anyway is a
    /// finding. [`DOWN_LEVEL_MISSING_ROUTINES`] models Windows 8 and Wine 8.0.
    pub missing_routines: &'static [&'static str],
    /// A second processor that runs the driver's DPCs (`KDPC`s and `EX_TIMER` callbacks) while
    /// processor 0 goes on with whatever called into the driver (default `false`: one
    /// processor, where a DPC never overlaps passive code). On such a machine a DPC leaves the
    /// queue as soon as it is queued and is *running* on processor 1 (`KeRemoveQueueDpc` no
    /// longer finds it); its routine's body runs when processor 0 next idles
    /// ([`Machine::run_until`](crate::Machine::run_until)) or waits for it
    /// (`KeFlushQueuedDpcs`, `ExDeleteTimer` with `Wait`). Meanwhile freeing the pool that
    /// holds the running `KDPC`, or the context its routine is about to use, is a finding
    /// (the routine is then never called: it would run on freed memory). Deterministic: the
    /// widest window a real multiprocessor allows, every time.
    pub second_processor: bool,
}

/// The routines rdmus resolves at `DriverEntry` that a down-level kernel
/// lacks: `ExAllocatePool2`
/// (before Windows 10 2004), the `Ex*Timer` family and `MmCopyMemory` (before Windows 8.1).
/// Wine 8.0's ntoskrnl exports none of them either.
pub const DOWN_LEVEL_MISSING_ROUTINES: &[&str] = &[
    "ExAllocatePool2",
    "ExAllocateTimer",
    "ExSetTimer",
    "ExCancelTimer",
    "ExDeleteTimer",
    "MmCopyMemory",
];

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            clock_interval: DEFAULT_CLOCK_INTERVAL,
            high_res_resolution: ms(1),
            dpc_bound: us(100),
            isr_bound: us(25),
            port_io_cost: us(1),
            watchdog: ms(1000),
            mpu401: Some(Mpu401Config::default()),
            faults: FaultInjection::default(),
            strict: true,
            missing_routines: &[],
            second_processor: false,
        }
    }
}

/// The emulated MPU-401's wiring and personality.
#[derive(Clone, Debug)]
pub struct Mpu401Config {
    /// The data port; the status/command port is `base_port + 1`.
    pub base_port: u16,
    /// The ISA IRQ line.
    pub irq: u8,
    /// The IRQL its interrupt is delivered at (the translated resource's `Level`).
    pub dirql: u8,
    /// Bytes the card holds waiting for its transmitter (the byte being shifted out is not
    /// counted). 1 is the original card.
    pub fifo_depth: usize,
    /// Whether a reset command in UART mode is acknowledged with 0xFE (`PCem` and most cards) or
    /// silently leaves UART mode (`DOSBox` and some clones).
    pub ack_reset_in_uart_mode: bool,
    /// Ticks one byte takes on the wire: 31,250 baud 8-N-1 is 320 µs.
    pub byte_time: u64,
    /// A broken card, if any.
    pub fault: Mpu401Fault,
}

impl Default for Mpu401Config {
    fn default() -> Self {
        Self {
            base_port: 0x330,
            irq: 9,
            dirql: 8,
            fifo_depth: 1,
            ack_reset_in_uart_mode: true,
            byte_time: us(320),
            fault: Mpu401Fault::None,
        }
    }
}

/// Ways an MPU-401 can be broken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mpu401Fault {
    /// A working card.
    #[default]
    None,
    /// Nothing answers at the ports: reads float to 0xFF, writes vanish.
    Absent,
    /// The card obeys commands but never puts 0xFE in its input.
    NeverAcks,
    /// The card accepts bytes but never sends them: its FIFO fills and DRR stays set.
    NeverDrains,
}

/// Pool allocation failures to inject (`ExAllocatePool2`, `ExAllocateTimer`,
/// `IoAllocateWorkItem`, `PcNewInterruptSync` all count as allocations).
#[derive(Clone, Debug, Default)]
pub struct FaultInjection {
    /// Fail exactly the Nth allocation (1-based).
    pub fail_nth: Option<u64>,
    /// Fail every allocation from the Nth on (1-based): memory exhausted for good.
    pub fail_from: Option<u64>,
    /// Fail each allocation with this probability, in parts per million.
    pub fail_ppm: u32,
    /// Seed of the PRNG behind `fail_ppm`.
    pub seed: u64,
}

/// The translated interrupt resource `PortCls` hands a driver for an ISA IRQ on the simulated
/// x64 machine: `Level` is the DIRQL, `Vector` the system vector (`DIRQL * 16 + irq`, so the
/// vector's upper nibble is the IRQL as on x64). The port model builds resource lists with it.
#[must_use]
pub const fn translated_interrupt(irq: u8, dirql: u8) -> (u32, u32) {
    (dirql as u32, dirql as u32 * 16 + irq as u32)
}
