//! buzon's whatsapp connector (in progress).
