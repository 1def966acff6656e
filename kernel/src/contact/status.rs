//! The TVR and TSI bits a decision sets (Terminal Verification Results `95`,
//! Book 3 Annex C5; Transaction Status Information `9B`, Annex C6).
//!
//! Decision functions never clear a bit: they return the bits to set, and
//! the transaction ORs them into its running TVR and TSI with
//! [`StatusUpdate::apply_to`].

use crate::contact::trail::{Detail, Phase, TrailEntry, TrailSink};
use crate::data::bits::Flag;
use crate::data::tsi::Tsi;
use crate::data::tvr::Tvr;

/// TVR and TSI bits to set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusUpdate {
    /// TVR bits to set.
    pub tvr: Tvr,
    /// TSI bits to set.
    pub tsi: Tsi,
}

impl StatusUpdate {
    /// No bit to set.
    pub const NONE: Self = Self {
        tvr: Tvr([0; 5]),
        tsi: Tsi([0; 2]),
    };

    /// ORs these bits into `tvr` and `tsi`.
    pub fn apply_to(&self, tvr: &mut Tvr, tsi: &mut Tsi) {
        for (a, b) in tvr.0.iter_mut().zip(self.tvr.0) {
            *a |= b;
        }
        for (a, b) in tsi.0.iter_mut().zip(self.tsi.0) {
            *a |= b;
        }
    }

    /// The union of two updates.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        other.apply_to(&mut self.tvr, &mut self.tsi);
        self
    }

    /// Sets a TVR bit and records which rule set it.
    pub(crate) fn set_tvr(
        &mut self,
        phase: Phase,
        what: &'static str,
        flag: Flag<Tvr>,
        trail: &mut impl TrailSink,
    ) {
        self.tvr.set(flag);
        trail.record(TrailEntry::new(phase, what, Detail::Tvr(flag)));
    }

    /// Sets a TSI bit and records which rule set it.
    pub(crate) fn set_tsi(
        &mut self,
        phase: Phase,
        what: &'static str,
        flag: Flag<Tsi>,
        trail: &mut impl TrailSink,
    ) {
        self.tsi.set(flag);
        trail.record(TrailEntry::new(phase, what, Detail::Tsi(flag)));
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::contact::trail::Trail;

    #[test]
    fn apply_and_merge_only_set_bits() {
        let mut tvr = Tvr([0x80, 0, 0, 0, 0x01]);
        let mut tsi = Tsi([0x20, 0]);
        let u = StatusUpdate {
            tvr: Tvr([0, 0x40, 0, 0x80, 0]),
            tsi: Tsi([0x08, 0]),
        };
        u.apply_to(&mut tvr, &mut tsi);
        assert_eq!(tvr.0, [0x80, 0x40, 0, 0x80, 0x01]);
        assert_eq!(tsi.0, [0x28, 0]);
        let m = u.merge(StatusUpdate {
            tvr: Tvr([0x20, 0, 0, 0, 0]),
            tsi: Tsi::default(),
        });
        assert_eq!(m.tvr.0, [0x20, 0x40, 0, 0x80, 0]);
        assert_eq!(m.tsi.0, [0x08, 0]);
        assert_eq!(StatusUpdate::NONE, StatusUpdate::default());
    }

    #[test]
    fn setters_record() {
        let mut t = Trail::<4>::new();
        let mut u = StatusUpdate::NONE;
        u.set_tvr(Phase::Completion, "x", Tvr::NEW_CARD, &mut t);
        u.set_tsi(
            Phase::Completion,
            "y",
            Tsi::SCRIPT_PROCESSING_PERFORMED,
            &mut t,
        );
        assert_eq!(u.tvr.0, [0, 0x08, 0, 0, 0]);
        assert_eq!(u.tsi.0, [0x04, 0]);
        assert!(t.contains_detail(Detail::Tvr(Tvr::NEW_CARD)));
        assert!(t.contains_detail(Detail::Tsi(Tsi::SCRIPT_PROCESSING_PERFORMED)));
    }
}
