//! Both miniports are made in place in nonpaged pool (`pool_box::try_new_with`), never on
//! the stack first: this checks, in the simulation, that each constructor's objects are the
//! tagged pool blocks of their types' sizes, that a failure of either pool
//! allocation fails the constructor cleanly (nothing left allocated), and that the last
//! `Release` gives every block back. (That no constructor frame is large is checked on the
//! built image: `cargo xtask check-image` refuses an image that imports `__chkstk`.)

use com_object::ComObject;
use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use rdmus_driver::AdapterResources;
use rdmus_driver::KMutex;
use rdmus_driver::POOL_TAG;
use rdmus_driver::SynthMiniportCore;
use wdm_sim::{FaultInjection, Machine, MachineConfig};

type Constructor = fn(&AdapterResources) -> Result<PUNKNOWN, NTSTATUS>;

/// The two constructors, with the sizes of the pool blocks each makes.
fn constructors() -> [(&'static str, Constructor, Vec<usize>); 2] {
    [
        (
            "mpu401",
            rdmus_driver::new_uart_miniport,
            vec![size_of::<ComObject<rdmus_driver::UartMiniport>>()],
        ),
        (
            "synth",
            rdmus_driver::new_synth_miniport,
            vec![
                size_of::<KMutex<SynthMiniportCore>>(),
                size_of::<ComObject<rdmus_driver::SynthMiniport>>(),
            ],
        ),
    ]
}

/// rdmus's live pool blocks: how many, and their bytes.
fn our_blocks(machine: &Machine) -> (usize, usize) {
    machine.with(|m| {
        m.pool()
            .usage_by_tag()
            .get(&POOL_TAG)
            .map_or((0, 0), |usage| (usage.count, usage.bytes))
    })
}

#[test]
fn each_miniport_is_its_pool_blocks_and_release_gives_them_back() {
    for (name, new_miniport, sizes) in constructors() {
        let machine = Machine::new(MachineConfig::default());
        let miniport = new_miniport(&AdapterResources::default()).expect(name);
        assert_eq!(
            our_blocks(&machine),
            (sizes.len(), sizes.iter().sum()),
            "{name}: one block per object, of the object's size"
        );
        // SAFETY: the constructor's one reference, given up here. Host test, PASSIVE_LEVEL.
        let left = unsafe { rdmus_driver::com::release(miniport) };
        assert_eq!(left, 0, "{name}: that was the last reference");
        assert_eq!(
            our_blocks(&machine),
            (0, 0),
            "{name}: the last Release frees all"
        );
        assert_eq!(machine.findings(), [], "{name}");
    }
}

#[test]
fn a_failed_pool_allocation_fails_the_constructor_and_leaves_nothing() {
    for (name, new_miniport, blocks) in constructors() {
        for nth in 1..=u64::try_from(blocks.len()).expect("few blocks") {
            let machine = Machine::new(MachineConfig {
                faults: FaultInjection {
                    fail_nth: Some(nth),
                    ..FaultInjection::default()
                },
                ..MachineConfig::default()
            });
            let result = new_miniport(&AdapterResources::default());
            assert_eq!(
                result.err(),
                Some(STATUS_INSUFFICIENT_RESOURCES),
                "{name}: pool allocation {nth} refused"
            );
            assert_eq!(our_blocks(&machine), (0, 0), "{name}: allocation {nth}");
            assert_eq!(machine.findings(), [], "{name}: allocation {nth}");
        }
    }
}
