//! ISO/IEC 14443-3 activation and ISO/IEC 14443-4 (ISO-DEP) per EMV Contactless Book D.
