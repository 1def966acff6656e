//! ISO/IEC 14443-3 activation and ISO/IEC 14443-4 (ISO-DEP) per EMV Contactless Book D.
//!
//! Modules and the clauses they implement:
//!
//! * [`crc`]: CRC_A and CRC_B (ISO/IEC 14443-3 Annex B);
//! * [`type_a`]: REQA/WUPA, ATQA, anticollision and SELECT cascade levels 1–3, SAK, HLTA
//!   (ISO/IEC 14443-3 §6), RATS and PPS (ISO/IEC 14443-4 §5.1, §5.3);
//! * [`type_b`]: REQB/WUPB, ATQB, ATTRIB and its answer (ISO/IEC 14443-3 §7);
//! * [`ats`]: the ATS and the FSC/FWT/SFGT tables (ISO/IEC 14443-4 §5.2, §7.2);
//! * [`block`]: the I/R/S block codec (ISO/IEC 14443-4 §7.1);
//! * [`isodep`]: the sans-IO ISO-DEP engine, PCD side: chaining, block numbering, WTX, error
//!   recovery and DESELECT (ISO/IEC 14443-4 §7–§8, EMV Book D error handling);
//! * [`polling`]: the EMV polling loop, collision detection, activation and removal (EMV
//!   Book D), as sans-IO sequencers plus blocking helpers over [`crate::rf::RfFrontend`];
//! * [`reader`]: [`ContactlessReader`], a blocking slot over an `RfFrontend` implementing
//!   [`crate::rf::Contactless`] and [`crate::channel::CardChannel`].
//!
//! Confidence markers follow emv-facts §0: frame values with CRCs are \[V\]; block codings and
//! table values \[S\]; EMV Book D numbers (retries, removal count, ΔFWT, activation timeouts)
//! are \[M\] and named as constants so they can be corrected in one place.
//!
//! No I/O of its own, no clock, no heap.

pub mod ats;
pub mod block;
pub mod crc;
pub mod isodep;
pub mod polling;
pub mod reader;
pub mod type_a;
pub mod type_b;

pub use ats::{Ats, AtsError, AtsParams, OwnedAts};
pub use block::{Block, BlockError};
pub use isodep::{IsoDep, IsoDepError, IsoDepEvent, IsoDepParams, ProtocolError};
pub use polling::{ActivationError, Detection, PollAction, PollingLoop, RemovalLoop};
pub use reader::{ContactlessReader, ReaderConfig, ReaderError};
