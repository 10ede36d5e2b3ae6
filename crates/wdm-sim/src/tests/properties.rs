//! Property tests: the `SList` header encoding, timer quantisation, the MPU-401's output
//! pacing, and the `DbgPrintEx` formatter on arbitrary input.

use alloc::string::String;
use alloc::vec::Vec;

use proptest::prelude::*;

use crate::config::{Mpu401Config, Mpu401Fault};
use crate::emulated_card::{Mpu401, Register, STATUS_DRR};
use crate::exports::debug::format_printf;
use crate::slist::SListHeader;
use crate::time::quantise_up;
use crate::timers::expiry;

proptest! {
    #[test]
    fn slist_header_round_trips(depth: u16, sequence in 0_u64..(1 << 48), first in any::<usize>().prop_map(|a| a & !0xF)) {
        let header = SListHeader { depth, sequence, first };
        let (alignment, region) = header.encode();
        prop_assert_eq!(SListHeader::decode(alignment, region), header);
        prop_assert_eq!(region & 0xF, 1, "HeaderType bit set, reserved bits clear");
    }

    #[test]
    fn timer_expiry_is_the_first_tick_at_or_after_its_due_time(
        due in 0_u64..1 << 40,
        now in 0_u64..1 << 40,
        interval in 1_u64..1_000_000,
    ) {
        let at = expiry(due, now, interval);
        if due <= now {
            prop_assert_eq!(at, now);
        } else {
            prop_assert!(at >= due);
            prop_assert!(at - due < interval);
            prop_assert_eq!(at % interval, 0);
            prop_assert_eq!(at, quantise_up(due, interval));
        }
    }

    #[test]
    fn a_writer_that_respects_drr_loses_nothing_and_the_wire_is_paced(
        bytes in proptest::collection::vec(any::<u8>(), 1..40),
        gaps in proptest::collection::vec(0_u64..5_000, 40),
        depth in 1_usize..8,
    ) {
        let config = Mpu401Config { fifo_depth: depth, ..Mpu401Config::default() };
        let byte_time = config.byte_time;
        let mut mpu = Mpu401::new(config);
        mpu.write(Register::StatusCommand, 0x3F, 0);
        let mut now = 10;
        for (&byte, &gap) in bytes.iter().zip(&gaps) {
            now += gap;
            while mpu.read(Register::StatusCommand, now) & STATUS_DRR != 0 {
                now += 10;
            }
            prop_assert_eq!(mpu.write(Register::Data, byte, now), None);
            now += 10;
        }
        let wire = mpu.wire(now + byte_time * 64).to_vec();
        prop_assert_eq!(wire.iter().map(|&(_, b)| b).collect::<Vec<u8>>(), bytes);
        for pair in wire.windows(2) {
            prop_assert!(pair[1].0 >= pair[0].0 + byte_time, "bytes overlap on the wire: {:?}", pair);
        }
        prop_assert_eq!(mpu.stats().overruns, 0);
    }

    #[test]
    fn a_card_that_never_drains_keeps_at_most_its_fifo(bytes in proptest::collection::vec(any::<u8>(), 1..20), depth in 1_usize..8) {
        let config = Mpu401Config { fifo_depth: depth, fault: Mpu401Fault::NeverDrains, ..Mpu401Config::default() };
        let mut mpu = Mpu401::new(config);
        mpu.write(Register::StatusCommand, 0x3F, 0);
        let lost = bytes.iter().filter(|&&b| mpu.write(Register::Data, b, 100).is_some()).count();
        prop_assert_eq!(lost, bytes.len().saturating_sub(depth));
        prop_assert!(mpu.wire(1 << 40).is_empty());
    }

    #[test]
    fn the_formatter_never_panics(format in proptest::collection::vec(any::<u8>(), 0..64), args in proptest::collection::vec(any::<usize>(), 0..4)) {
        let line = format_printf(&format, &args, |_, _| String::from("s"));
        prop_assert!(line.len() <= format.len() * 24 + 64);
    }
}
