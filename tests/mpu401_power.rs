//! The MPU-401 miniport's second interface, `IPowerNotify`: one COM identity across both
//! interfaces, and on the way back to D0 the card is brought into UART mode again (it may
//! have lost it while off), with the interrupt disconnected around the reset.
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::com::{IID_IUnknown, IUnknown};
use dmus_sys::dmus_com::IID_IMiniportDMus;
use dmus_sys::kernel::{NT_SUCCESS, POWER_STATE, PVOID, PowerDeviceD0, PowerDeviceD3};
use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::portcls::{IID_IPowerNotify, IPowerNotify};
use mpu401_common::{
    Bound, Message, driver_lock, ksmusic_buffer, original_card, release, wire_messages,
};
use wdm_sim::portcls::{PinFormat, Resources};
use wdm_sim::{Machine, ms};

/// `QueryInterface` on `object` for `iid`: the interface pointer (one reference, ours).
fn query(object: *mut IUnknown, iid: &dmus_sys::GUID) -> PVOID {
    let mut out: PVOID = core::ptr::null_mut();
    // SAFETY: a live object (the port holds the miniport while the device is started).
    let vtable = unsafe { rdmus_driver::com::vtable(object) };
    // SAFETY: a readable id and a writable out-pointer.
    let status = unsafe { (vtable.QueryInterface)(object, iid, &raw mut out) };
    assert!(NT_SUCCESS(status), "{status:#x}");
    out
}

fn notify(power: PVOID, device_state: i32) {
    let power = power.cast::<IPowerNotify>();
    // SAFETY: an IPowerNotify pointer from QueryInterface, live while we hold it.
    let vtable = unsafe { rdmus_driver::com::vtable(power) };
    let state = POWER_STATE {
        DeviceState: device_state,
    };
    // SAFETY: PowerChangeNotify at PASSIVE_LEVEL with a device power state.
    unsafe { (vtable.PowerChangeNotify)(power, state) };
}

#[test]
fn back_to_d0_the_card_is_reinitialised() {
    let _lock = driver_lock();
    let machine = Machine::new(original_card());
    let list = Resources::of_machine().to_list();
    let bound = Bound::new(machine, list);
    let power = query(bound.miniport, &IID_IPowerNotify);
    assert_ne!(power, bound.miniport.cast(), "a second vtable pointer");
    // One identity: IUnknown through either interface is the same pointer.
    let unknown = query(power.cast(), &IID_IUnknown);
    assert_eq!(unknown, bound.miniport.cast());
    assert_eq!(
        query(power.cast(), &IID_IMiniportDMus),
        bound.miniport.cast()
    );
    // SAFETY: the two references the queries above took.
    unsafe { release(unknown.cast()) };
    // SAFETY: as above.
    unsafe { release(bound.miniport) };

    let commands = || bound.machine.mpu401_stats().map_or(0, |s| s.commands);
    let before = commands();
    notify(power, PowerDeviceD0);
    assert_eq!(commands(), before, "D0 at start needs nothing");
    notify(power, PowerDeviceD3);
    notify(power, PowerDeviceD0);
    assert_eq!(commands(), before + 2, "reset and enter UART mode again");

    let pin = bound.filter().open_pin(0, PinFormat::Midi).expect("render");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    pin.write(0, &ksmusic_buffer(&[Message::new(0, &[0x90, 60, 100])]))
        .expect("write");
    bound.machine.run_for(ms(10));
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    assert_eq!(
        wire_messages(&bound.machine.wire_log()),
        [vec![0x90, 60, 100]]
    );
    // SAFETY: the IPowerNotify reference the first query took.
    unsafe { release(power.cast()) };
    bound.finish();
}
