//! The render sequencer: events held until their presentation time.

mod clock;
mod queue;

pub use clock::PresentationClock;
pub use queue::Sequencer;
