//! T=0 character protocol (ISO/IEC 7816-3 §10, EMV Book 1 §9.2.2, EMV L1 Annex A).
