//! T=1 block protocol (ISO/IEC 7816-3 §11, EMV Book 1 §9.2.4).
