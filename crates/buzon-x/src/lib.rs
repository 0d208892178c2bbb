//! buzon's x connector (in progress).
