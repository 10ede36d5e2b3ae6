//! dls (in progress).
