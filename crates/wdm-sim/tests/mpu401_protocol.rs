//! The protocol against wdm-sim's emulated MPU-401 (the card the driver
//! meets in every end-to-end test): both sides must agree on the register
//! semantics, so the driver's init, writer and ISR drain behave there as
//! they do against this crate's own fake card.

use std::cell::Cell;
use std::rc::Rc;

use mpu401::{
    ControlPort, DataPort, Delay, InitBudget, InitError, InitStage, InputRing, OutputState,
    PacedWriter, Status, drain_input, initialize,
};
use wdm_sim::emulated_card::{Mpu401, Register};
use wdm_sim::{Mpu401Config, Mpu401Fault, us};

/// The card on a virtual clock: every port access takes 1 µs.
struct SimPort {
    card: Mpu401,
    now: Rc<Cell<u64>>,
    violations: Vec<String>,
}

impl SimPort {
    fn new(config: Mpu401Config) -> Self {
        Self {
            card: Mpu401::new(config),
            now: Rc::new(Cell::new(0)),
            violations: Vec::new(),
        }
    }

    fn access(&mut self) -> u64 {
        let now = self.now.get();
        self.card.deliver_arrivals(now);
        self.now.set(now + us(1));
        now
    }

    fn delay(&self) -> SimDelay {
        SimDelay(Rc::clone(&self.now))
    }

    fn wire_bytes(&mut self) -> Vec<(u64, u8)> {
        let now = self.now.get();
        self.card.wire(now).to_vec()
    }
}

impl ControlPort for SimPort {
    fn read_status(&mut self) -> Status {
        let now = self.access();
        Status(self.card.read(Register::StatusCommand, now))
    }

    fn write_command(&mut self, command: u8) {
        let now = self.access();
        self.violations
            .extend(self.card.write(Register::StatusCommand, command, now));
    }
}

impl DataPort for SimPort {
    fn read_data(&mut self) -> u8 {
        let now = self.access();
        self.card.read(Register::Data, now)
    }

    fn write_data(&mut self, byte: u8) {
        let now = self.access();
        self.violations
            .extend(self.card.write(Register::Data, byte, now));
    }
}

struct SimDelay(Rc<Cell<u64>>);

impl Delay for SimDelay {
    fn delay_us(&mut self, microseconds: u32) {
        self.0.set(self.0.get() + us(u64::from(microseconds)));
    }
}

fn init(port: &mut SimPort) -> Result<mpu401::InitReport, InitError> {
    let mut delay = port.delay();
    initialize(port, &mut delay, &InitBudget::DEFAULT)
}

#[test]
fn power_on_card_enters_uart_mode() {
    let mut port = SimPort::new(Mpu401Config::default());
    let report = init(&mut port).unwrap();
    assert!(report.reset_acked);
    assert!(port.card.in_uart_mode());
    assert!(port.violations.is_empty(), "{:?}", port.violations);
}

#[test]
fn reinit_in_uart_mode_with_and_without_reset_ack() {
    for ack_reset_in_uart_mode in [true, false] {
        let mut port = SimPort::new(Mpu401Config {
            ack_reset_in_uart_mode,
            ..Mpu401Config::default()
        });
        init(&mut port).unwrap();
        let report = init(&mut port).unwrap();
        assert_eq!(report.reset_acked, ack_reset_in_uart_mode);
        assert!(port.card.in_uart_mode());
    }
}

#[test]
fn faults_map_to_errors() {
    let mut absent = SimPort::new(Mpu401Config {
        fault: Mpu401Fault::Absent,
        ..Mpu401Config::default()
    });
    assert_eq!(init(&mut absent), Err(InitError::Absent));
    let mut silent = SimPort::new(Mpu401Config {
        fault: Mpu401Fault::NeverAcks,
        ..Mpu401Config::default()
    });
    assert_eq!(
        init(&mut silent),
        Err(InitError::NoAck {
            stage: InitStage::EnterUart,
            other_bytes: 0,
            last_byte: None
        })
    );
}

/// Writes `bytes` in calls of at most `budget` polls, the DPC "rescheduling"
/// 1 ms later whenever the card is backed up.
fn write_all(
    port: &mut SimPort,
    writer: &mut PacedWriter,
    bytes: &[u8],
    budget: u32,
) -> OutputState {
    let mut done = 0;
    for _ in 0..10_000 {
        let progress = writer.write(port, &bytes[done..], budget);
        done += progress.written;
        match progress.state {
            OutputState::BackedUp => port.now.set(port.now.get() + us(1_000)),
            state => return state,
        }
    }
    panic!("never finished");
}

#[test]
fn paced_writes_reach_the_wire_back_to_back() {
    for fifo_depth in [1, 16] {
        let mut port = SimPort::new(Mpu401Config {
            fifo_depth,
            ..Mpu401Config::default()
        });
        init(&mut port).unwrap();
        let bytes: Vec<u8> = (0..60)
            .map(|i| if i % 3 == 0 { 0x90 } else { 0x40 })
            .collect();
        let mut writer = PacedWriter::new(1_000);
        assert_eq!(
            write_all(&mut port, &mut writer, &bytes, 50),
            OutputState::Complete
        );
        port.now.set(port.now.get() + us(100_000));
        let wire = port.wire_bytes();
        assert_eq!(
            wire.iter().map(|&(_, b)| b).collect::<Vec<u8>>(),
            bytes,
            "fifo {fifo_depth}"
        );
        assert!(port.violations.is_empty(), "{:?}", port.violations);
        assert_eq!(port.card.stats().overruns, 0);
        // Once the card is backed up the wire never idles: bytes follow 320 µs apart.
        let gaps: Vec<u64> = wire.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(
            gaps.iter().all(|&g| g >= us(320)),
            "fifo {fifo_depth}: {gaps:?}"
        );
    }
}

#[test]
fn output_that_never_drains_is_reported_stuck() {
    let mut port = SimPort::new(Mpu401Config {
        fault: Mpu401Fault::NeverDrains,
        ..Mpu401Config::default()
    });
    init(&mut port).unwrap();
    let mut writer = PacedWriter::new(400);
    assert_eq!(
        write_all(&mut port, &mut writer, &[0x90, 0x3C, 0x40], 100),
        OutputState::Stuck
    );
    assert!(port.violations.is_empty(), "{:?}", port.violations);
}

#[test]
fn isr_drain_stamps_each_injected_byte() {
    let mut port = SimPort::new(Mpu401Config::default());
    init(&mut port).unwrap();
    let start = port.now.get();
    port.card.inject(start + us(10), &[0x90, 0x3C, 0x40, 0xF8]);
    port.now.set(start + us(2_000));
    let clock = Rc::clone(&port.now);
    let mut ring = InputRing::<8>::new();
    let report = drain_input(&mut port, &mut ring, 32, || clock.get());
    assert_eq!(report.read, 4);
    let got: Vec<(u8, u64)> = std::iter::from_fn(|| ring.pop())
        .map(|t| (t.byte, t.time))
        .collect();
    let bytes: Vec<u8> = got.iter().map(|&(b, _)| b).collect();
    assert_eq!(bytes, [0x90, 0x3C, 0x40, 0xF8]);
    assert!(
        got.windows(2).all(|w| w[0].1 < w[1].1),
        "each byte has its own time: {got:?}"
    );
}
