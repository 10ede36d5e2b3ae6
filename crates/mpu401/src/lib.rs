//! mpu401 (in progress).
