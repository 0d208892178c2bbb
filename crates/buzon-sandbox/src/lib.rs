//! buzon's platform sandbox (in progress).
