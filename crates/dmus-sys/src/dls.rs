//! DLS download structures (dmusicc.h, dmdls.h, dls1.h, dls2.h).
