//! What KS answers every client about rdmus's filters, checked at the edges a client meets:
//! KS's value-size protocol, the `KSMULTIPLE_ITEM` header-only query, a pin id out of range,
//! `KSPROPERTY_PIN_DATAINTERSECTION` through the miniport's `DataRangeIntersection`
//! (wildcards, several client ranges, no match), the property-set list
//! (`KSPROPERTY_TYPE_SETSUPPORT`), the topology and the instance counts.

mod clients_common;

use clients_common::{Rig, driver_lock, get, guid_at, ksp_pin, pin_u32, u32_at};
use dmus_sys::GUID;
use dmus_sys::kernel::{
    STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_PARAMETER, STATUS_NO_MATCH,
    STATUS_NOT_FOUND, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SETSUPPORT};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO, KSDATAFORMAT_TYPE_MUSIC,
    KSPROPERTY_PIN_CINSTANCES, KSPROPERTY_PIN_CTYPES, KSPROPERTY_PIN_DATAINTERSECTION,
    KSPROPERTY_PIN_DATARANGES, KSPROPERTY_PIN_GLOBALCINSTANCES, KSPROPERTY_PIN_NAME,
    KSPROPERTY_PIN_NECESSARYINSTANCES, KSPROPERTY_TOPOLOGY_CONNECTIONS, KSPROPSETID_General,
    KSPROPSETID_Pin, KSPROPSETID_Topology,
};
use dmus_sys::portcls::PCFILTER_NODE;
use wdm_sim::portcls::{Filter, PinFormat, PropertyResult, PropertyTarget};

const WILDCARD: GUID = GUID::from_fields(0, 0, 0, [0; 8]);

fn ask(
    filter: Filter,
    set: &GUID,
    id: u32,
    verb: u32,
    instance: &[u8],
    room: usize,
) -> (PropertyResult, Vec<u8>) {
    let mut instance = instance.to_vec();
    let mut value = vec![0; room];
    let result = filter.property(
        PropertyTarget::Filter,
        set,
        id,
        verb,
        &mut instance,
        &mut value,
    );
    (result, value)
}

fn pin_ask(filter: Filter, pin: u32, id: u32, room: usize) -> (PropertyResult, Vec<u8>) {
    ask(
        filter,
        &KSPROPSETID_Pin,
        id,
        KSPROPERTY_TYPE_GET,
        &ksp_pin(pin),
        room,
    )
}

/// A client data range: a `KSDATARANGE` header of these GUIDs (64 bytes).
fn client_range(major: GUID, sub: GUID, specifier: GUID) -> Vec<u8> {
    let mut range = Vec::new();
    range.extend_from_slice(&64u32.to_le_bytes());
    range.extend_from_slice(&[0; 12]);
    for guid in [major, sub, specifier] {
        range.extend_from_slice(&guid.Data1.to_le_bytes());
        range.extend_from_slice(&guid.Data2.to_le_bytes());
        range.extend_from_slice(&guid.Data3.to_le_bytes());
        range.extend_from_slice(&guid.Data4);
    }
    range
}

/// `KSP_PIN` + `KSMULTIPLE_ITEM` of `ranges`: a `DATAINTERSECTION` request's instance.
fn intersection_request(pin: u32, ranges: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = ranges.concat();
    let mut out = ksp_pin(pin);
    out.extend_from_slice(&u32::try_from(8 + body.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(ranges.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn ks_values_follow_the_size_protocol() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let (size, _) = pin_ask(filter, 0, KSPROPERTY_PIN_CTYPES, 0);
    assert_eq!((size.status, size.value_size), (STATUS_BUFFER_OVERFLOW, 4));
    let (short, _) = pin_ask(filter, 0, KSPROPERTY_PIN_CTYPES, 2);
    assert_eq!(short.status, STATUS_BUFFER_TOO_SMALL);
    let (ok, value) = pin_ask(filter, 0, KSPROPERTY_PIN_CTYPES, 16);
    assert_eq!(
        (ok.status, ok.value_size, u32_at(&value, 0)),
        (STATUS_SUCCESS, 4, 5)
    );
    // A list answers a buffer of exactly its header with the header alone.
    let (header, value) = pin_ask(filter, 4, KSPROPERTY_PIN_DATARANGES, 8);
    assert_eq!((header.status, header.value_size), (STATUS_SUCCESS, 8));
    assert_eq!((u32_at(&value, 0), u32_at(&value, 4)), (8 + 96 + 96, 2));
    let (short, _) = pin_ask(filter, 4, KSPROPERTY_PIN_DATARANGES, 100);
    assert_eq!(short.status, STATUS_BUFFER_TOO_SMALL);
    let (name, _) = pin_ask(filter, 0, KSPROPERTY_PIN_NAME, 4);
    assert_eq!(name.status, STATUS_BUFFER_TOO_SMALL);
    // A pin beyond CTYPES, and a pin property without its KSP_PIN.
    let (beyond, _) = pin_ask(filter, 5, KSPROPERTY_PIN_DATARANGES, 0);
    assert_eq!(beyond.status, STATUS_INVALID_PARAMETER);
    let (bare, _) = ask(
        filter,
        &KSPROPSETID_Pin,
        KSPROPERTY_PIN_NAME,
        KSPROPERTY_TYPE_GET,
        &[],
        64,
    );
    assert_eq!(bare.status, STATUS_INVALID_PARAMETER);
    // BASICSUPPORT reports the verbs; an id KS does not define is not found.
    let (basic, value) = ask(
        filter,
        &KSPROPSETID_Pin,
        KSPROPERTY_PIN_CTYPES,
        KSPROPERTY_TYPE_BASICSUPPORT,
        &ksp_pin(0),
        4,
    );
    assert_eq!(
        (basic.status, u32_at(&value, 0)),
        (STATUS_SUCCESS, KSPROPERTY_TYPE_GET)
    );
    let (unknown, _) = pin_ask(filter, 0, 99, 4);
    assert_eq!(unknown.status, STATUS_NOT_FOUND);
    rig.finish();
}

#[test]
fn data_intersection_asks_the_miniport_for_each_client_range_in_turn() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let audio = client_range(
        KSDATAFORMAT_TYPE_AUDIO,
        KSDATAFORMAT_SUBTYPE_PCM,
        KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
    );
    let any_music = client_range(KSDATAFORMAT_TYPE_MUSIC, WILDCARD, WILDCARD);
    let request = intersection_request(0, &[audio.clone(), any_music]);
    let format = get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_Pin,
        KSPROPERTY_PIN_DATAINTERSECTION,
        &request,
    )
    .expect("the second range fits the legacy pin");
    assert_eq!(format.len(), 64, "a plain KSDATAFORMAT");
    assert_eq!(u32_at(&format, 0), 64);
    assert_eq!(
        (
            guid_at(&format, 16),
            guid_at(&format, 32),
            guid_at(&format, 48)
        ),
        (
            KSDATAFORMAT_TYPE_MUSIC,
            KSDATAFORMAT_SUBTYPE_MIDI,
            KSDATAFORMAT_SPECIFIER_NONE
        )
    );
    let (none, _) = ask(
        filter,
        &KSPROPSETID_Pin,
        KSPROPERTY_PIN_DATAINTERSECTION,
        KSPROPERTY_TYPE_GET,
        &intersection_request(0, &[audio]),
        64,
    );
    assert_eq!(none.status, STATUS_NO_MATCH);
    // A list whose Size overstates what was sent is refused, not read past.
    let mut lying = intersection_request(
        0,
        &[client_range(KSDATAFORMAT_TYPE_MUSIC, WILDCARD, WILDCARD)],
    );
    lying[8..12].copy_from_slice(&4_000u32.to_le_bytes());
    let (refused, _) = ask(
        filter,
        &KSPROPSETID_Pin,
        KSPROPERTY_PIN_DATAINTERSECTION,
        KSPROPERTY_TYPE_GET,
        &lying,
        64,
    );
    assert_eq!(refused.status, STATUS_INVALID_PARAMETER);
    rig.finish();
}

#[test]
fn the_filter_lists_its_property_sets_and_topology() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let (size, _) = ask(filter, &WILDCARD, 0, KSPROPERTY_TYPE_SETSUPPORT, &[], 0);
    assert_eq!(size.status, STATUS_BUFFER_OVERFLOW);
    let (sets, value) = ask(
        filter,
        &WILDCARD,
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &[],
        size.value_size as usize,
    );
    assert_eq!(sets.status, STATUS_SUCCESS);
    let sets: Vec<GUID> = value.chunks_exact(16).map(|g| guid_at(g, 0)).collect();
    assert_eq!(
        sets,
        [KSPROPSETID_Pin, KSPROPSETID_Topology, KSPROPSETID_General]
    );
    let (general, _) = ask(
        filter,
        &KSPROPSETID_General,
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &[],
        0,
    );
    assert_eq!(general.status, STATUS_SUCCESS);
    let (other, _) = ask(
        filter,
        &KSDATAFORMAT_TYPE_AUDIO,
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &[],
        0,
    );
    assert_eq!(other.status, STATUS_NOT_FOUND);
    // A node lists its own table's sets; a node beyond the filter's is refused.
    let mut node_sets = vec![0; 64];
    let listed = filter.property(
        PropertyTarget::Node(1),
        &WILDCARD,
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &mut [],
        &mut node_sets,
    );
    assert_eq!((listed.status, listed.value_size), (STATUS_SUCCESS, 16));
    assert_eq!(
        guid_at(&node_sets, 0),
        dmus_sys::dmusprop::KSPROPSETID_Synth
    );
    let beyond = filter.property(
        PropertyTarget::Node(2),
        &WILDCARD,
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &mut [],
        &mut node_sets,
    );
    assert_eq!(beyond.status, STATUS_INVALID_PARAMETER);
    let connections = get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_Topology,
        KSPROPERTY_TOPOLOGY_CONNECTIONS,
        &[],
    )
    .unwrap();
    assert_eq!(u32_at(&connections, 4), 5);
    // The first: legacy render pin 0 straight to the bridge out, pin 2.
    assert_eq!(
        [
            u32_at(&connections, 8),
            u32_at(&connections, 12),
            u32_at(&connections, 16),
            u32_at(&connections, 20)
        ],
        [PCFILTER_NODE, 0, PCFILTER_NODE, 2]
    );
    rig.finish();
}

#[test]
fn instance_counts_are_per_filter_and_global() {
    let _lock = driver_lock();
    let rig = Rig::synth();
    let filter = rig.filter();
    assert_eq!(pin_u32(filter, 0, KSPROPERTY_PIN_NECESSARYINSTANCES), Ok(0));
    let counts = |id| {
        let (result, value) = pin_ask(filter, 1, id, 8);
        assert_eq!(result.status, STATUS_SUCCESS);
        (u32_at(&value, 0), u32_at(&value, 4))
    };
    let (possible, _) = counts(KSPROPERTY_PIN_CINSTANCES);
    let pin = filter.open_pin(1, PinFormat::DirectMusic).unwrap();
    assert_eq!(counts(KSPROPERTY_PIN_CINSTANCES), (possible, 1));
    assert_eq!(counts(KSPROPERTY_PIN_GLOBALCINSTANCES).1, 1);
    pin.close();
    assert_eq!(counts(KSPROPERTY_PIN_GLOBALCINSTANCES).1, 0);
    rig.finish();
}

/// A small deterministic generator (xorshift64*), so the run is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

/// A client's `DATAINTERSECTION` list is outside input: whatever its bytes, KS and the
/// miniport answer with a status (never a panic or a verifier finding), and a success is a
/// format of the pin's. Mixes of well-formed headers with random sizes, counts and GUIDs
/// drawn from the ones that matter, and plain random bytes.
#[test]
fn data_intersection_survives_any_client_list() {
    let _lock = driver_lock();
    let guids = [
        WILDCARD,
        KSDATAFORMAT_TYPE_MUSIC,
        KSDATAFORMAT_SUBTYPE_MIDI,
        KSDATAFORMAT_SPECIFIER_NONE,
        KSDATAFORMAT_TYPE_AUDIO,
        KSDATAFORMAT_SUBTYPE_PCM,
        KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
        dmus_sys::ks_guids::KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
    ];
    for (start, pins) in [(Rig::mpu401 as fn() -> Rig, 5), (Rig::synth, 3)] {
        let rig = start();
        let filter = rig.filter();
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        let mut matched = 0;
        for case in 0..1_500 {
            let pin = u32::try_from(rng.below(pins + 1)).unwrap();
            let request = if case % 3 == 0 {
                let mut bytes = ksp_pin(pin);
                let len = rng.below(300);
                bytes.extend((0..len).map(|_| rng.next().to_le_bytes()[0]));
                bytes
            } else {
                let count = rng.below(4);
                let ranges: Vec<Vec<u8>> = (0..count)
                    .map(|_| {
                        // The wildcard half the time, so that some lists match.
                        let mut pick = || {
                            if rng.below(2) == 0 {
                                WILDCARD
                            } else {
                                guids[rng.below(guids.len())]
                            }
                        };
                        let mut range = client_range(pick(), pick(), pick());
                        // Sometimes a range claims another size, or carries a tail.
                        match rng.below(4) {
                            0 => range[..4].copy_from_slice(
                                &u32::try_from(rng.below(200)).unwrap().to_le_bytes(),
                            ),
                            1 => {
                                range.extend_from_slice(&[0xAB; 32]);
                                range[..4].copy_from_slice(&96u32.to_le_bytes());
                            }
                            _ => {}
                        }
                        range
                    })
                    .collect();
                let mut request = intersection_request(pin, &ranges);
                if rng.below(5) == 0 {
                    let count = u32::try_from(rng.below(8)).unwrap();
                    request[12..16].copy_from_slice(&count.to_le_bytes());
                }
                request
            };
            let room = [0, 8, 63, 64, 128, 512, 512, 512][rng.below(8)];
            let (answer, value) = ask(
                filter,
                &KSPROPSETID_Pin,
                KSPROPERTY_PIN_DATAINTERSECTION,
                KSPROPERTY_TYPE_GET,
                &request,
                room,
            );
            if answer.status == STATUS_SUCCESS {
                matched += 1;
                let size = answer.value_size as usize;
                assert!(size >= 64 && size <= room, "case {case}: {size} of {room}");
                assert_eq!(u32_at(&value, 0) as usize, size, "case {case}: FormatSize");
            }
        }
        println!("{matched} of 1500 random lists intersected");
        assert!(matched > 0, "some well-formed lists match");
        rig.finish();
    }
}
