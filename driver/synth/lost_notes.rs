//! `KSPROPSETID_RdmusSynthLostNotes`: what `SYNTH_STATS.LostNotes` is made of.
//!
//! `KSPROPERTY_SYNTH_RUNNINGSTATS` answers `SYNTH_STATS`, whose `LostNotes` is one number.
//! Microsoft documents what it counts: "Notes can be dropped because of voice-stealing or
//! because too much of the CPU is being consumed" (`DMUS_SYNTHSTATS8.dwLostNotes`, the
//! DirectX 8 SDK reference, learn.microsoft.com previous-versions ms808248), and "Notes can be
//! dropped if the number of simultaneous voices exceeds the maximum specified by the
//! KSPROPERTY_SYNTH_PORTPARAMETERS property" (`SYNTH_STATS`, dmusprop.h, windows-driver-docs-ddi).
//! So rdmus's `LostNotes` is the sum of
//! - voices stolen from held notes (`dls::synth::engine::Engine::stolen_voices`),
//! - events that arrived after their sample was rendered (played late, not at their time),
//! - events dropped (their stream stopped or gone, or the inbox full).
//!
//! `SYNTH_STATS` has no field per cause, so this private property set gives the three
//! numbers apart. It is read like any other synth property: an application reaches it
//! through `IKsControl::KsProperty` on its `IDirectMusicPort` (DirectMusic passes property
//! sets it does not know to the driver), and the simulation sends it as a KS property request
//! through the filter's automation table. GET only, no instance; the value is
//! [`RDMUS_SYNTH_LOST_NOTES`].
//!
//! The same set answers [`KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES`]: output samples whose mix
//! went beyond the 16-bit range and were clamped (a `ULONGLONG`), which `SYNTH_STATS` has no
//! field for either (its `PeakVolume` is documented as the peak, not as how often it clipped).

use dmus_synth::synth::Stats;
use dmus_sys::GUID;
use dmus_sys::kernel::{NTSTATUS, STATUS_INVALID_DEVICE_REQUEST, STATUS_NOT_FOUND};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

use super::miniport::Miniport;
use crate::miniport::property::PropertyRequest;

/// rdmus's own property set for the causes of lost notes (no header names it; distinct
/// from every KSPROPSETID the synth answers, checked in the tests).
#[allow(
    non_upper_case_globals,
    reason = "spelled like the DDK's KSPROPSETID_* GUIDs"
)]
pub const KSPROPSETID_RdmusSynthLostNotes: GUID =
    GUID::parse("9a4be1c6-2f7d-4e58-b3a0-6c51d8e9f247");

/// `KSPROPERTY_RDMUS_SYNTH_LOST_NOTES` (GET): [`RDMUS_SYNTH_LOST_NOTES`].
pub const KSPROPERTY_RDMUS_SYNTH_LOST_NOTES: u32 = 0;

/// `KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES` (GET): a `ULONGLONG`, the output samples (left
/// and right counted apart) clamped to the 16-bit range since the synth was made.
pub const KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES: u32 = 1;

/// The value of [`KSPROPERTY_RDMUS_SYNTH_LOST_NOTES`]: the three causes of
/// `SYNTH_STATS.LostNotes`, each counted since the synth was made (saturating). Their
/// saturating sum is the `LostNotes` the same moment's `RUNNINGSTATS` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    reason = "a KS property value, spelled like the DDK's structures"
)]
pub struct RDMUS_SYNTH_LOST_NOTES {
    /// Voices taken from held notes to start others (voice limit reached).
    pub StolenVoices: u32,
    /// Events played late (they arrived after their sample was rendered).
    pub LateEvents: u32,
    /// Events dropped (stream stopped or gone, inbox full).
    pub DroppedEvents: u32,
}

impl RDMUS_SYNTH_LOST_NOTES {
    /// The causes in `stats`.
    #[must_use]
    pub fn from_stats(stats: &Stats) -> Self {
        Self {
            StolenVoices: stats.stolen_voices,
            LateEvents: stats.late_events,
            DroppedEvents: stats.dropped_events,
        }
    }

    /// `SYNTH_STATS.LostNotes`: the three together (saturating).
    #[must_use]
    pub fn total(&self) -> u32 {
        self.StolenVoices
            .saturating_add(self.LateEvents)
            .saturating_add(self.DroppedEvents)
    }
}

/// The synth's statistics as `RUNNINGSTATS` and this set report them: the core's counters
/// plus the events the inbox refused.
#[must_use]
pub fn current_stats(miniport: &Miniport) -> Stats {
    let mut stats = miniport.core().lock().stats();
    let refused = miniport.inbox().lock().dropped();
    stats.dropped_events = stats.dropped_events.saturating_add(refused);
    stats
}

/// Answers a request of this set for `miniport`.
pub fn answer(request: &mut PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let id = request.id();
    if id != KSPROPERTY_RDMUS_SYNTH_LOST_NOTES && id != KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES {
        return STATUS_NOT_FOUND;
    }
    let verb = request.verb();
    if verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&(KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET));
    }
    if verb & KSPROPERTY_TYPE_SET != 0 {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    let stats = current_stats(miniport);
    if id == KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES {
        return request.reply(&stats.clipped_samples);
    }
    request.reply(&RDMUS_SYNTH_LOST_NOTES::from_stats(&stats))
}

/// The `PCPFNPROPERTY_HANDLER` of [`KSPROPSETID_RdmusSynthLostNotes`] (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this miniport.
pub unsafe extern "system" fn lost_notes_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for this handler, which only the synth's tables name
    // (PASSIVE_LEVEL).
    unsafe { Miniport::answer_property(request, answer) }
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusprop::{KSPROPSETID_Synth, KSPROPSETID_Synth_Dls, KSPROPSETID_SynthClock};

    use super::{KSPROPSETID_RdmusSynthLostNotes, RDMUS_SYNTH_LOST_NOTES, Stats};

    #[test]
    fn the_set_is_rdmus_own_and_the_causes_add_up() {
        for known in [
            KSPROPSETID_Synth,
            KSPROPSETID_Synth_Dls,
            KSPROPSETID_SynthClock,
        ] {
            assert_ne!(KSPROPSETID_RdmusSynthLostNotes, known);
        }
        let stats = Stats {
            stolen_voices: 5,
            late_events: 2,
            dropped_events: 1,
            ..Stats::default()
        };
        let causes = RDMUS_SYNTH_LOST_NOTES::from_stats(&stats);
        assert_eq!(
            (
                causes.StolenVoices,
                causes.LateEvents,
                causes.DroppedEvents,
                causes.total()
            ),
            (5, 2, 1, 8)
        );
        let full = RDMUS_SYNTH_LOST_NOTES {
            StolenVoices: u32::MAX,
            LateEvents: 1,
            DroppedEvents: 1,
        };
        assert_eq!(full.total(), u32::MAX, "saturates");
        assert_eq!(core::mem::size_of::<RDMUS_SYNTH_LOST_NOTES>(), 12);
    }
}
