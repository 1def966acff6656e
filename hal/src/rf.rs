//! Traits for contactless RF front-ends and the contactless slot (ISO/IEC 14443, EMV Book D).
