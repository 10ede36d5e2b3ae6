//! The instruction audit against hand-made code.
