//! The render sequencer: events held until they are due, under the `KSSTATE`
//! rules, on the port's presentation clock or a miniport's master-clock
//! timeline.

mod clock;
mod queue;
mod timeline;

pub use clock::PresentationClock;
pub use queue::Sequencer;
pub use timeline::{MasterTimeline, Timeline};
