//! Depth-first walk over a whole BER-TLV tree (EMV Book 3 Annex B), without
//! recursion and without a heap: the stack of open constructed objects is a
//! fixed array whose size is the depth limit.

use super::tlv::{Mode, Tlv, TlvError, TlvErrorKind, TlvIter};

/// Default nesting limit: deeper than anything EMV defines (the deepest
/// common path, `6F` → `A5` → `BF0C` → `61`, is four levels).
pub const MAX_DEPTH: usize = 8;

/// One object met during a [`Walk`], with its nesting depth (0 for
/// top-level objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// Nesting depth: 0 at the top level.
    pub depth: usize,
    /// The object.
    pub tlv: Tlv<'a>,
}

/// Depth-first, pre-order iterator over every object of a TLV tree.
///
/// A constructed object is yielded before its children. Malformed input,
/// anywhere in the tree, yields one `Err` and ends the walk. `DEPTH` bounds
/// the nesting (and the memory the walker uses).
#[derive(Clone, Debug)]
pub struct Walk<'a, const DEPTH: usize = MAX_DEPTH> {
    stack: [TlvIter<'a>; DEPTH],
    open: usize,
    done: bool,
}

impl<'a, const DEPTH: usize> Walk<'a, DEPTH> {
    /// Walks `input`; offsets count from its start.
    #[must_use]
    pub fn new(input: &'a [u8], mode: Mode) -> Self {
        let mut stack = core::array::from_fn(|_| TlvIter::empty());
        let open = match stack.first_mut() {
            Some(slot) => {
                *slot = TlvIter::new(input, mode);
                1
            }
            None => 0,
        };
        Self {
            stack,
            open,
            done: DEPTH == 0,
        }
    }
}

impl<'a, const DEPTH: usize> Iterator for Walk<'a, DEPTH> {
    type Item = Result<Node<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let top = self.open.checked_sub(1)?;
            let iter = self.stack.get_mut(top)?;
            match iter.next() {
                None => {
                    self.open = top;
                    if top == 0 {
                        self.done = true;
                        return None;
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Some(Ok(tlv)) => {
                    let mode = iter.mode();
                    if tlv.is_constructed() {
                        match self.stack.get_mut(self.open) {
                            Some(slot) => {
                                *slot = tlv.children(mode);
                                self.open += 1;
                            }
                            None => {
                                self.done = true;
                                return Some(Err(TlvError {
                                    offset: tlv.offset(),
                                    kind: TlvErrorKind::DepthExceeded { max: DEPTH },
                                }));
                            }
                        }
                    }
                    return Some(Ok(Node { depth: top, tlv }));
                }
            }
        }
    }
}

/// Checks that `input` is a well-formed TLV tree, constructed objects
/// included, nested at most [`MAX_DEPTH`] deep.
pub fn validate(input: &[u8], mode: Mode) -> Result<(), TlvError> {
    Walk::<MAX_DEPTH>::new(input, mode).try_for_each(|node| node.map(|_| ()))
}

/// Finds the first object with `tag` anywhere in the tree (pre-order).
///
/// Stops at the first malformed byte: an object after it cannot be trusted.
pub fn find(input: &[u8], tag: super::tag::Tag, mode: Mode) -> Result<Option<Tlv<'_>>, TlvError> {
    for node in Walk::<MAX_DEPTH>::new(input, mode) {
        let node = node?;
        if node.tlv.tag() == tag {
            return Ok(Some(node.tlv));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tag;

    // FCI of a Visa application: 6F [84 AID] [A5 [50 label] [87 prio] [BF0C [9F4D 2]]]
    const FCI: &[u8] = &[
        0x6F, 0x1E, 0x84, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10, 0xA5, 0x13, 0x50, 0x04,
        0x56, 0x49, 0x53, 0x41, 0x87, 0x01, 0x01, 0xBF, 0x0C, 0x05, 0x9F, 0x4D, 0x02, 0x0B, 0x0A,
        0x00, 0x00,
    ];

    #[test]
    fn walks_pre_order_with_depths() {
        let nodes: [(u32, usize, usize); 7] = {
            let mut it = Walk::<8>::new(FCI, Mode::Strict).map(|n| {
                let n = n.unwrap();
                (n.tlv.tag().raw(), n.depth, n.tlv.offset())
            });
            core::array::from_fn(|_| it.next().unwrap())
        };
        assert_eq!(
            nodes,
            [
                (0x6F, 0, 0),
                (0x84, 1, 2),
                (0xA5, 1, 11),
                (0x50, 2, 13),
                (0x87, 2, 19),
                (0xBF0C, 2, 22),
                (0x9F4D, 3, 25),
            ]
        );
        assert_eq!(Walk::<8>::new(FCI, Mode::Strict).count(), 7);
    }

    #[test]
    fn depth_limit() {
        let err = Walk::<2>::new(FCI, Mode::Strict)
            .find_map(Result::err)
            .unwrap();
        assert_eq!(
            err,
            TlvError {
                offset: 11,
                kind: TlvErrorKind::DepthExceeded { max: 2 }
            }
        );
        assert_eq!(Walk::<0>::new(FCI, Mode::Strict).count(), 0);
    }

    #[test]
    fn error_inside_a_template_is_found() {
        // 70 04 [9F 02 05 00] : the child claims 5 bytes, only 1 remains.
        let bad = [0x70, 0x04, 0x9F, 0x02, 0x05, 0x00];
        assert_eq!(
            validate(&bad, Mode::Strict),
            Err(TlvError {
                offset: 2,
                kind: TlvErrorKind::ValueOverrun {
                    tag: Tag::new(0x9F02),
                    length: 5,
                    available: 1
                }
            })
        );
    }

    #[test]
    fn find_nested() {
        let t = find(FCI, Tag::new(0x9F4D), Mode::Strict).unwrap().unwrap();
        assert_eq!(t.value(), &[0x0B, 0x0A]);
        assert_eq!(find(FCI, Tag::new(0x5A), Mode::Strict).unwrap(), None);
    }
}
