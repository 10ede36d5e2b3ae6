//! Who rdmus's filters say they are: `KSPROPSETID_General` / `KSPROPERTY_GENERAL_COMPONENTID`
//! and the pin names, as GUIDs the INF (`inf/rdmus.inx`) registers under
//! `HKLM\SYSTEM\CurrentControlSet\Control\MediaCategories\{guid}\Name`.
//!
//! Why GUIDs of our own: `KSPROPERTY_PIN_NAME` and the clients that name ports look a name GUID up
//! under `MediaCategories` (Windows MIDI Services' KS transport reads COMPONENTID's `Name` there
//! for its WinMM-compatible name; wdmaud uses a pin's name only when the pin's category is
//! `KSCATEGORY_WDMAUD_USE_PIN_NAME`). The standard `KSAUDFNAME_*` GUIDs carry Windows' generic
//! names ("MIDI"); ours carry names a user recognises. These GUIDs were generated for rdmus
//! (random, version 4); the INF's `[Strings]` spell the same values, and the client tests in
//! `tests/clients_*.rs` fail if the two drift apart (a name the registry does not know).

use dmus_sys::GUID;
use dmus_sys::kernel::{NTSTATUS, STATUS_NOT_FOUND};
use dmus_sys::ks::{KSCOMPONENTID, KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET};
use dmus_sys::ks_guids::KSPROPERTY_GENERAL_COMPONENTID;

use super::property::PropertyRequest;

/// rdmus as a manufacturer (`KSCOMPONENTID.Manufacturer`).
pub const RDMUS_MANUFACTURER: GUID = GUID::parse("106567c2-3807-404d-80c8-8b095053fe59");
/// The MPU-401 UART filter as a product.
pub const RDMUS_PRODUCT_MPU401: GUID = GUID::parse("ce1dcddd-e0b5-47ee-8d28-c0e50f1d76ab");
/// The DLS synth filter as a product.
pub const RDMUS_PRODUCT_SYNTH: GUID = GUID::parse("d0bf095b-8ec5-4db2-aad0-6bf9dbf32f42");
/// Name "rdmus MPU-401" (the MPU-401 filter's COMPONENTID name).
pub const RDMUS_NAME_MPU401: GUID = GUID::parse("d3b11315-f078-4e9b-978e-caa0f8a653d4");
/// Name "rdmus MPU-401 Out" (the MPU-401's legacy MIDI render pin).
pub const RDMUS_NAME_MPU401_OUT: GUID = GUID::parse("92551160-4e5e-4f96-bc0e-b422b1eaf45b");
/// Name "rdmus MPU-401 Out (DirectMusic)" (the MPU-401's DirectMusic render pin).
pub const RDMUS_NAME_MPU401_DMUS_OUT: GUID = GUID::parse("3aed4de4-ea96-47bc-aa15-7fb6e5bb3d1f");
/// Name "rdmus MPU-401 In" (the MPU-401's capture pin).
pub const RDMUS_NAME_MPU401_IN: GUID = GUID::parse("f2bbf075-c7fe-4187-a32d-649bed4fd8d2");
/// Name "rdmus DLS Synth" (the synth filter's COMPONENTID name and its legacy MIDI pin).
pub const RDMUS_NAME_SYNTH: GUID = GUID::parse("40fa95e4-3d93-4db3-b22a-8b8245aa7f86");
/// Name "rdmus DLS Synth (DirectMusic)" (the synth's DirectMusic render pin).
pub const RDMUS_NAME_SYNTH_DMUS: GUID = GUID::parse("9874687d-7976-45fc-8371-bddcddd25f63");

/// The decimal number `text` spells (0 for anything else), at compile time.
const fn decimal(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    let mut at = 0;
    while at < bytes.len() {
        let digit = bytes[at].wrapping_sub(b'0');
        if digit > 9 {
            return 0;
        }
        value = value.saturating_mul(10).saturating_add(digit as u32);
        at += 1;
    }
    value
}

/// The version both filters report: the crate's major version (`Revision`: its minor).
const VERSION: u32 = decimal(env!("CARGO_PKG_VERSION_MAJOR"));
/// See [`VERSION`].
const REVISION: u32 = decimal(env!("CARGO_PKG_VERSION_MINOR"));

/// The MPU-401 filter's component id.
pub const COMPONENT_MPU401: KSCOMPONENTID = KSCOMPONENTID {
    Manufacturer: RDMUS_MANUFACTURER,
    Product: RDMUS_PRODUCT_MPU401,
    Component: GUID::parse("00000000-0000-0000-0000-000000000000"),
    Name: RDMUS_NAME_MPU401,
    Version: VERSION,
    Revision: REVISION,
};

/// The synth filter's component id.
pub const COMPONENT_SYNTH: KSCOMPONENTID = KSCOMPONENTID {
    Manufacturer: RDMUS_MANUFACTURER,
    Product: RDMUS_PRODUCT_SYNTH,
    Component: GUID::parse("00000000-0000-0000-0000-000000000000"),
    Name: RDMUS_NAME_SYNTH,
    Version: VERSION,
    Revision: REVISION,
};

/// Answers `KSPROPERTY_GENERAL_COMPONENTID` with `component` (GET, or BASICSUPPORT: the verbs
/// as a `ULONG`), following KS's value-size protocol.
pub fn answer(request: &mut PropertyRequest, component: &KSCOMPONENTID) -> NTSTATUS {
    if request.id() != KSPROPERTY_GENERAL_COMPONENTID {
        return STATUS_NOT_FOUND;
    }
    if request.verb() & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&(KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET));
    }
    request.reply(component)
}

#[cfg(test)]
mod tests {
    use super::{COMPONENT_MPU401, COMPONENT_SYNTH, RDMUS_NAME_MPU401, RDMUS_NAME_SYNTH};

    #[test]
    fn each_filter_names_itself_and_shares_the_manufacturer() {
        assert_eq!(COMPONENT_MPU401.Name, RDMUS_NAME_MPU401);
        assert_eq!(COMPONENT_SYNTH.Name, RDMUS_NAME_SYNTH);
        assert_eq!(COMPONENT_MPU401.Manufacturer, COMPONENT_SYNTH.Manufacturer);
        assert_ne!(COMPONENT_MPU401.Product, COMPONENT_SYNTH.Product);
    }

    #[test]
    fn the_version_is_the_crates() {
        assert_eq!(
            std::string::ToString::to_string(&super::VERSION),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            std::string::ToString::to_string(&super::REVISION),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(super::decimal("12"), 12);
        assert_eq!(super::decimal("1x"), 0);
    }
}
