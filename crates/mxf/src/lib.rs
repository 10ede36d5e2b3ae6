//! mxf (in progress).
