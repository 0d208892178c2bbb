//! buzon's facebook connector (in progress).
