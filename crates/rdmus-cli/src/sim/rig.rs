//! One simulated machine with the rdmus driver loaded and its MPU-401 device
//! started, torn down again in the order Windows does it, with the
//! verifier's findings and the routine statistics collected at the end.

use core::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use wdm_sim::portcls::{Device, Driver, Filter, OpenError, Pin, PinFormat, Resources};
use wdm_sim::{FaultInjection, Finding, Machine, MachineConfig, Mpu401Config, Mpu401Fault, us};

use crate::ntstatus::Status;

/// The driver keeps process-wide state (its adapter slots) and a machine
/// belongs to its thread: one rig at a time per process.
static DRIVER: Mutex<()> = Mutex::new(());

/// What the verifier found while a rig dropped on an error path tore down:
/// kept here for [`with_teardown_findings`] (a `Drop` cannot return them).
static TEARDOWN_FINDINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `error` (which ended a run early), or, when the verifier found faults
/// while the run's rig tore down, [`SimError::Findings`] with them and the
/// error last: findings are never dropped on the error path.
#[must_use]
pub fn with_teardown_findings(error: SimError) -> SimError {
    let mut findings = core::mem::take(
        &mut *TEARDOWN_FINDINGS
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if findings.is_empty() {
        return error;
    }
    if let SimError::Findings(earlier) = error {
        findings.splice(0..0, earlier);
    } else {
        findings.push(format!("(then the run failed: {error})"));
    }
    SimError::Findings(findings)
}

/// How the simulated machine is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Resolution of high-resolution kernel timers, µs (Windows: 1 ms
    /// unless an application asks for finer, 0.5 ms at best).
    pub timer_res_us: u32,
    /// Bytes the MPU-401 queues for its transmitter (1 = the original card).
    pub mpu_fifo: u32,
    /// A DPC running longer than this is a verifier finding, µs.
    pub dpc_bound_us: u32,
    /// How the card is broken, if it is.
    pub mpu_fault: Mpu401Fault,
    /// Fail exactly this pool allocation (1-based), as Driver Verifier's
    /// fault injection does; `None`: every allocation succeeds.
    pub fail_nth: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            timer_res_us: 1_000,
            mpu_fifo: 16,
            dpc_bound_us: 100,
            mpu_fault: Mpu401Fault::None,
            fail_nth: None,
        }
    }
}

/// Microsoft's guideline for a DPC routine: no longer than 100 µs (WDK
/// documentation, "Guidelines for Writing DPC Routines"), wdm-sim's default
/// bound. The bound for a card whose FIFO needs no waiting on.
pub const DPC_GUIDELINE_US: u32 = 100;

impl SimConfig {
    /// The DPC bound a card with a `mpu_fifo`-byte output FIFO needs under
    /// timers of `timer_res_us`, µs. A full FIFO plays `mpu_fifo` × 320 µs
    /// of wire on its own (10 bits a byte at 31,250 baud,
    /// [`mpu401::WIRE_BYTE_US`]): when that covers a timer period, the driver only tops it up from
    /// each timer callback and no DPC waits on the card (the guideline's
    /// 100 µs). A shallower FIFO, the original card's single byte above all,
    /// would leave the wire idle until the next callback, so the driver
    /// keeps it fed by polling the card in the DPC, within its spin budget
    /// (mpu401's `RenderConfig::DEFAULT.max_spin_polls` port accesses, each
    /// taking wdm-sim's `port_io_cost`: 900 µs): the bound is that budget
    /// plus the guideline's 100 µs, 1 ms.
    #[must_use]
    pub fn dpc_bound_for(mpu_fifo: u32, timer_res_us: u32) -> u32 {
        if u64::from(mpu_fifo) * u64::from(mpu401::WIRE_BYTE_US) >= u64::from(timer_res_us) {
            return DPC_GUIDELINE_US;
        }
        let access_us = MachineConfig::default().port_io_cost / wdm_sim::us(1);
        let budget = u64::from(mpu401::RenderConfig::DEFAULT.max_spin_polls) * access_us;
        u32::try_from(budget)
            .unwrap_or(u32::MAX)
            .saturating_add(DPC_GUIDELINE_US)
    }

    /// The machine configuration: wdm-sim's defaults with these changes.
    #[must_use]
    pub fn machine(&self) -> MachineConfig {
        MachineConfig {
            high_res_resolution: us(u64::from(self.timer_res_us)),
            dpc_bound: us(u64::from(self.dpc_bound_us)),
            mpu401: Some(Mpu401Config {
                fifo_depth: usize::try_from(self.mpu_fifo).unwrap_or(usize::MAX),
                fault: self.mpu_fault,
                ..Mpu401Config::default()
            }),
            faults: FaultInjection {
                fail_nth: self.fail_nth,
                ..FaultInjection::default()
            },
            ..MachineConfig::default()
        }
    }
}

/// Why the simulated device could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// `DriverEntry` failed with this `NTSTATUS`.
    DriverEntry(i32),
    /// `AddDevice` failed with this `NTSTATUS`.
    AddDevice(i32),
    /// `StartDevice` failed with this `NTSTATUS`.
    StartDevice(i32),
    /// The driver registered no `UART` subdevice.
    NoUart,
    /// The driver registered no `Synth` subdevice on a root device.
    NoSynth,
    /// A DLS download (`KSPROPERTY_SYNTH_DLS_DOWNLOAD`) was refused.
    Download {
        /// Which buffer (waves first, then instruments).
        index: usize,
        /// The handler's `NTSTATUS`.
        status: i32,
    },
    /// A synth property request failed.
    Property {
        /// The property, in words.
        what: &'static str,
        /// The handler's `NTSTATUS`.
        status: i32,
    },
    /// The wave sink gave no audio.
    Pull(String),
    /// A pin did not open.
    OpenPin {
        /// The pin factory.
        pin: u32,
        /// Why.
        error: OpenError,
    },
    /// A pin refused a state change.
    State(String),
    /// The simulated Driver Verifier found faults (the run's results are not
    /// trustworthy).
    Findings(Vec<String>),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DriverEntry(status) => write!(f, "DriverEntry failed: {}", Status(*status)),
            Self::AddDevice(status) => write!(f, "AddDevice failed: {}", Status(*status)),
            Self::StartDevice(status) => write!(f, "StartDevice failed: {}", Status(*status)),
            Self::NoUart => f.write_str("the driver registered no UART subdevice"),
            Self::NoSynth => f.write_str("the driver registered no Synth subdevice"),
            Self::Download { index, status } => {
                write!(f, "DLS download {index} refused: {}", Status(*status))
            }
            Self::Property { what, status } => write!(f, "{what} failed: {}", Status(*status)),
            Self::Pull(why) => write!(f, "the wave sink gave no audio: {why}"),
            Self::OpenPin { pin, error } => write!(f, "pin {pin} did not open: {error:?}"),
            Self::State(what) => write!(f, "a pin refused a state change: {what}"),
            Self::Findings(findings) => {
                write!(f, "{} verifier finding(s):", findings.len())?;
                for finding in findings {
                    write!(f, "\n  {finding}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SimError {}

/// What a finished run leaves behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RigReport {
    /// The MIDI wire: (start of the byte in master time, 100 ns; byte).
    pub wire: Vec<(u64, u8)>,
    /// The longest DPC or timer callback, 100 ns.
    pub longest_dpc: u64,
    /// DPCs and timer callbacks run.
    pub dpcs: u64,
    /// The longest ISR, 100 ns.
    pub longest_isr: u64,
    /// Bytes the driver wrote while the card's output was not ready (lost).
    pub overruns: u64,
    /// Input bytes the card lost.
    pub input_lost: u64,
    /// What the verifier found, in words.
    pub findings: Vec<String>,
    /// What the driver printed on the debugger output (`DbgPrintEx`).
    pub debug_log: Vec<String>,
}

/// A machine with rdmus loaded and the card started.
pub struct Rig {
    // Field order is drop order: the machine must outlive nothing of the
    // driver's, and the lock is released last.
    device: Option<Device>,
    driver: Option<Driver>,
    machine: Machine,
    filter: Filter,
    _lock: MutexGuard<'static, ()>,
}

impl fmt::Debug for Rig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rig")
            .field("now", &self.machine.now())
            .finish_non_exhaustive()
    }
}

/// Findings in words.
fn words(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(ToString::to_string).collect()
}

impl Rig {
    /// Builds the machine, loads rdmus (`DriverEntry`), adds its device and
    /// starts it with the card's resources.
    ///
    /// # Errors
    /// [`SimError`] when a step fails (the machine's findings are appended to
    /// the error then, if any).
    pub fn start(config: &SimConfig) -> Result<Self, SimError> {
        Self::start_subdevice(
            config,
            Resources::of_machine,
            rdmus_driver::SubdeviceKind::Uart.ks_name(),
            SimError::NoUart,
        )
    }

    /// Builds the machine, loads rdmus and starts a root-enumerated device
    /// (no resources), whose DLS synth subdevice the rig then drives.
    ///
    /// # Errors
    /// [`SimError`] as [`Rig::start`]; [`SimError::NoSynth`] without the
    /// synth subdevice.
    pub fn start_synth(config: &SimConfig) -> Result<Self, SimError> {
        Self::start_subdevice(
            config,
            Resources::none,
            rdmus_driver::SubdeviceKind::Synth.ks_name(),
            SimError::NoSynth,
        )
    }

    /// Starts a device with the `resources` the new machine gives and takes
    /// its subdevice `name`.
    fn start_subdevice(
        config: &SimConfig,
        resources: fn() -> Resources,
        name: &str,
        missing: SimError,
    ) -> Result<Self, SimError> {
        let lock = DRIVER.lock().unwrap_or_else(PoisonError::into_inner);
        let machine = Machine::new(config.machine());
        let failed = |machine: &Machine, error: SimError| {
            let findings = words(&machine.take_findings());
            if findings.is_empty() {
                error
            } else {
                SimError::Findings(findings)
            }
        };
        let driver = match Driver::load(Some(rdmus_driver::DriverEntry)) {
            Ok(driver) => driver,
            Err(status) => return Err(failed(&machine, SimError::DriverEntry(status))),
        };
        let device = match driver.add_device() {
            Ok(device) => device,
            Err(status) => {
                driver.unload();
                return Err(failed(&machine, SimError::AddDevice(status)));
            }
        };
        if let Err(status) = device.start(&resources()) {
            device.remove();
            driver.unload();
            return Err(failed(&machine, SimError::StartDevice(status)));
        }
        let Some(filter) = device.filter(name) else {
            device.remove();
            driver.unload();
            return Err(failed(&machine, missing));
        };
        Ok(Self {
            device: Some(device),
            driver: Some(driver),
            machine,
            filter,
            _lock: lock,
        })
    }

    /// The machine.
    #[must_use]
    pub const fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Master time now, 100 ns.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.machine.now()
    }

    /// The subdevice's filter.
    #[must_use]
    pub const fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Opens pin factory `pin` in `format`.
    ///
    /// # Errors
    /// [`SimError::OpenPin`].
    pub fn open_pin(&self, pin: u32, format: PinFormat) -> Result<Pin, SimError> {
        self.filter
            .open_pin(pin, format)
            .map_err(|error| SimError::OpenPin { pin, error })
    }

    /// Stops and removes the device, unloads the driver, and reports what
    /// happened. Findings are reported, not raised: the caller decides.
    #[must_use]
    pub fn finish(mut self) -> RigReport {
        if let Some(device) = self.device.take() {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        let dpcs = self.machine.dpc_stats();
        let mpu = self.machine.mpu401_stats().unwrap_or_default();
        RigReport {
            wire: self.machine.wire_log(),
            longest_dpc: dpcs.all.longest,
            dpcs: dpcs.all.count,
            longest_isr: self.machine.isr_stats().all.longest,
            overruns: mpu.overruns,
            input_lost: mpu.input_lost,
            findings: words(&self.machine.take_findings()),
            debug_log: self.machine.debug_log(),
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // A rig dropped early (an error on the way) still tears down in order;
        // its findings are taken (the strict machine would panic on them) and
        // kept for `with_teardown_findings`, which reports them with the error.
        if let Some(device) = self.device.take() {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        let findings = words(&self.machine.take_findings());
        if !findings.is_empty() {
            TEARDOWN_FINDINGS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(findings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PoisonError, SimConfig, SimError, TEARDOWN_FINDINGS, with_teardown_findings};

    #[test]
    fn findings_of_a_torn_down_rig_come_back_with_the_error() {
        // Nothing found: the error as it is.
        assert_eq!(with_teardown_findings(SimError::NoUart), SimError::NoUart);
        TEARDOWN_FINDINGS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push("pool allocation leaked".into());
        assert_eq!(
            with_teardown_findings(SimError::NoUart),
            SimError::Findings(vec![
                "pool allocation leaked".into(),
                "(then the run failed: the driver registered no UART subdevice)".into(),
            ])
        );
        // Taken once: the next error is not blamed for them.
        assert_eq!(with_teardown_findings(SimError::NoSynth), SimError::NoSynth);
    }

    #[test]
    fn the_dpc_bound_follows_the_fifo_against_the_timer_period() {
        // 16 bytes (5.12 ms of wire) cover a 1 ms period; 4 bytes (1.28 ms) too.
        assert_eq!(SimConfig::dpc_bound_for(16, 1_000), 100);
        assert_eq!(SimConfig::dpc_bound_for(4, 1_000), 100);
        // The original card's byte (320 µs) does not: the spin budget + 100 µs.
        assert_eq!(SimConfig::dpc_bound_for(1, 1_000), 1_000);
        assert_eq!(SimConfig::dpc_bound_for(3, 1_000), 1_000);
        // Under the coarse 15.625 ms clock even 16 bytes run dry.
        assert_eq!(SimConfig::dpc_bound_for(16, 15_625), 1_000);
        assert_eq!(SimConfig::dpc_bound_for(49, 15_625), 100);
    }
}
