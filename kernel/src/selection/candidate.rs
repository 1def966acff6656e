//! Candidate applications and the candidate list (EMV Book 1 §12.3, §12.4).

/// Longest AID (DF name), in bytes (Book 1 §12.2.1: 5 to 16).
pub const MAX_AID_LEN: usize = 16;
/// Longest Application Label / Preferred Name kept, in bytes.
pub const MAX_LABEL_LEN: usize = 16;
/// Most candidates the list holds; further matches are ignored.
pub const MAX_CANDIDATES: usize = 16;

/// A bounded byte string copied out of card data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> Default for Bytes<N> {
    fn default() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Bytes<N> {
    /// Copies `data`, or `None` when it is longer than `N` (or 255).
    #[must_use]
    pub fn new(data: &[u8]) -> Option<Self> {
        let mut buf = [0u8; N];
        buf.get_mut(..data.len())?.copy_from_slice(data);
        Some(Self {
            buf,
            len: u8::try_from(data.len()).ok()?,
        })
    }

    /// Copies at most `N` bytes of `data` (labels are cut, not refused).
    #[must_use]
    pub fn truncated(data: &[u8]) -> Self {
        let n = data.len().min(N).min(255);
        Self::new(data.get(..n).unwrap_or_default()).unwrap_or_default()
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// One mutually supported application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Candidate {
    /// The ADF name (AID) to SELECT.
    pub aid: Bytes<MAX_AID_LEN>,
    /// Application Label (`50`).
    pub label: Bytes<MAX_LABEL_LEN>,
    /// Application Preferred Name (`9F12`).
    pub preferred_name: Bytes<MAX_LABEL_LEN>,
    /// Application Priority Indicator (`87`), if the card gave one.
    pub priority_indicator: Option<u8>,
    /// Index of the terminal AID that matched, for per-AID parameters.
    pub terminal_aid: usize,
}

impl Candidate {
    /// Priority 1 (highest) to 15, or `None` (no priority: `87` absent or
    /// b4–b1 zero).
    #[must_use]
    pub fn priority(&self) -> Option<u8> {
        self.priority_indicator
            .map(|p| p & 0x0F)
            .filter(|&p| p != 0)
    }

    /// `87` b8: the application cannot be selected without cardholder
    /// confirmation.
    #[must_use]
    pub fn needs_confirmation(&self) -> bool {
        self.priority_indicator.is_some_and(|p| p & 0x80 != 0)
    }
}

/// The candidate list: fixed capacity, kept in priority order.
#[derive(Clone, Debug, Default)]
pub struct CandidateList {
    items: [Candidate; MAX_CANDIDATES],
    len: usize,
}

impl CandidateList {
    /// The candidates, in the order they will be offered.
    #[must_use]
    pub fn as_slice(&self) -> &[Candidate] {
        self.items.get(..self.len).unwrap_or_default()
    }

    /// Number of candidates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no application is left.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every candidate.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Adds a candidate unless the same AID is already listed; false when
    /// the list is full.
    pub fn push(&mut self, c: Candidate) -> bool {
        if self.as_slice().iter().any(|x| x.aid == c.aid) {
            return true;
        }
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = c;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Removes the candidate at `index`, keeping the order of the rest.
    pub fn remove(&mut self, index: usize) {
        if index < self.len {
            if let Some(tail) = self.items.get_mut(index..self.len) {
                tail.rotate_left(1);
            }
            self.len -= 1;
        }
    }

    /// Keeps only the candidates for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Candidate) -> bool) {
        let mut i = 0;
        while i < self.len {
            if self.items.get(i).is_some_and(&mut keep) {
                i += 1;
            } else {
                self.remove(i);
            }
        }
    }

    /// Orders by priority, 1 first; applications without a priority go
    /// after those with one, in the order they were found (Book 1 §12.4
    /// leaves that order to the terminal; stable sort).
    pub fn sort_by_priority(&mut self) {
        // Insertion sort: stable, in place, and `core` has no stable sort
        // without an allocator (at most MAX_CANDIDATES items).
        let key = |c: &Candidate| c.priority().unwrap_or(16);
        if let Some(items) = self.items.get_mut(..self.len) {
            for i in 1..items.len() {
                let mut j = i;
                while j > 0 && items.get(j - 1).map(key) > items.get(j).map(key) {
                    items.swap(j - 1, j);
                    j -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(aid: u8, prio: Option<u8>) -> Candidate {
        Candidate {
            aid: Bytes::new(&[0xA0, 0, 0, 0, aid]).unwrap(),
            priority_indicator: prio,
            ..Candidate::default()
        }
    }

    #[test]
    fn priority_order_is_stable_and_unprioritised_last() {
        let mut l = CandidateList::default();
        for c in [
            cand(1, None),
            cand(2, Some(0x83)),
            cand(3, Some(0x01)),
            cand(4, Some(0x00)),
            cand(5, Some(0x03)),
        ] {
            assert!(l.push(c));
        }
        l.sort_by_priority();
        let order: [u8; 5] = core::array::from_fn(|i| l.as_slice()[i].aid.as_slice()[4]);
        assert_eq!(order, [3, 2, 5, 1, 4]);
        assert!(l.as_slice()[1].needs_confirmation());
        assert_eq!(l.as_slice()[1].priority(), Some(3));
        assert_eq!(l.as_slice()[3].priority(), None);
    }

    #[test]
    fn capacity_duplicates_and_removal() {
        let mut l = CandidateList::default();
        for i in 0..MAX_CANDIDATES as u8 {
            assert!(l.push(cand(i, None)));
        }
        assert!(!l.push(cand(200, None)), "full");
        assert!(l.push(cand(0, None)), "duplicate is not an error");
        assert_eq!(l.len(), MAX_CANDIDATES);
        l.remove(0);
        assert_eq!(l.as_slice()[0].aid.as_slice()[4], 1);
        l.retain(|c| c.aid.as_slice()[4] % 2 == 0);
        assert!(l.as_slice().iter().all(|c| c.aid.as_slice()[4] % 2 == 0));
        l.remove(99);
        assert_eq!(Bytes::<4>::new(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            Bytes::<4>::truncated(&[1, 2, 3, 4, 5]).as_slice(),
            &[1, 2, 3, 4]
        );
    }
}
