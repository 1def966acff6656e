//! Protocol and parameter selection, PPS (ISO/IEC 7816-3 §9).
