// SPDX-License-Identifier: GPL-2.0

//! A list that a seq_file reads one buffer at a time, and the reader's cursor into it.
//!
//! Pure logic, unit-tested on the host. seq_file renders a long read a buffer at a time,
//! taking the lock anew for each, and the list changes in between. The kernel's
//! `seq_list_start()` finds its place again by index, so items pushed in between make it
//! show some twice, and each buffer walks the list from the front again: O(N²) for N
//! items. A [`SeqList`] counts what happens to it (pushes, removals), so that a
//! [`Cursor`] can tell whether the item it last showed is still in the list, where it is
//! now, and go on from it.

use super::list::{List, Owner, UniqueOwner};
use core::ops::Deref;
use core::sync::atomic::{AtomicU64, Ordering};

/// A [`List`] that records how it changed, for readers that come back to it later.
///
/// # Invariants
///
/// `pushed` counts the items ever pushed at the front; `stamp.removed` the items ever
/// removed; `stamp.list` is 0 until the first push, then unique among `SeqList`s.
pub struct SeqList<P: Owner> {
    list: List<P>,
    pushed: u64,
    stamp: Stamp,
}

/// Names a list and counts the items it ever lost: while a list's stamp stays the same,
/// every item seen in it earlier is still in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    list: u64,
    removed: u64,
}

/// The next list identity: never reused, so a list put in place of another (which dropped
/// the other's items) never has its stamp.
static NEXT_LIST: AtomicU64 = AtomicU64::new(1);

impl<P: Owner> Default for SeqList<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Owner> SeqList<P> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            list: List::new(),
            pushed: 0,
            stamp: Stamp {
                list: 0,
                removed: 0,
            },
        }
    }

    fn count_push(&mut self) {
        self.pushed += 1;
        if self.stamp.list == 0 {
            self.stamp.list = NEXT_LIST.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// [`List::push_front`].
    pub fn push_front(&mut self, item: P)
    where
        P: UniqueOwner,
    {
        self.list.push_front(item);
        self.count_push();
    }

    /// [`List::try_push_front`].
    pub fn try_push_front(&mut self, item: P) -> Result<(), P> {
        self.list.try_push_front(item)?;
        self.count_push();
        Ok(())
    }

    /// [`List::splice_front`]: every item of `batch` counts as a push.
    pub fn splice_front(&mut self, batch: &mut List<P>) -> usize {
        let moved = self.list.splice_front(batch);
        if moved > 0 {
            self.pushed += moved as u64 - 1;
            self.count_push();
        }
        moved
    }

    /// [`List::pop_back`].
    pub fn pop_back(&mut self) -> Option<P> {
        let item = self.list.pop_back()?;
        self.stamp.removed += 1;
        Some(item)
    }

    /// [`List::remove_first`].
    pub fn remove_first(&mut self, matches: impl FnMut(&P::Item) -> bool) -> Option<P> {
        let item = self.list.remove_first(matches)?;
        self.stamp.removed += 1;
        Some(item)
    }

    /// How many items were ever pushed at the front. Between two looks at a list that
    /// only grows at the front and shrinks at the back (a history), the difference is how
    /// far every item's index from the front has moved.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// A cursor on `item`, at `index` in this list now.
    ///
    /// # Safety
    ///
    /// `item` must be in this list, at `index`.
    unsafe fn cursor(&self, item: &P::Item, index: u64) -> Cursor<P::Item> {
        // INVARIANT: `item` is in this list, at `index`, now (caller).
        Cursor {
            item,
            index,
            pushed: self.pushed,
            stamp: self.stamp,
        }
    }

    /// The cursor's item, if it is still in this list.
    fn item_of(&self, cursor: &Cursor<P::Item>) -> Option<&P::Item> {
        // SAFETY: The stamp is unchanged, so `item` is still in this list (type invariant
        // of `Cursor`), alive while `self` is borrowed.
        (cursor.stamp == self.stamp).then(|| unsafe { &*cursor.item })
    }

    /// Where the cursor's item is now, for a cursor of this list (`item_of`), moved by
    /// the pushes since; `None` on overflow, which a valid cursor never meets.
    fn index_now(&self, cursor: &Cursor<P::Item>) -> Option<u64> {
        cursor
            .index
            .checked_add(self.pushed.checked_sub(cursor.pushed)?)
    }

    /// The item at `index` and a cursor on it: found from `cursor` when that is still
    /// valid and not past the item, else from the front.
    pub fn find(
        &self,
        cursor: Option<&Cursor<P::Item>>,
        index: u64,
    ) -> Option<(&P::Item, Cursor<P::Item>)> {
        // The stamp is checked before any arithmetic: another list's counts (one put in
        // place of this list) say nothing about this one.
        let from_cursor = cursor.and_then(|c| {
            let item = self.item_of(c)?;
            Some((item, index.checked_sub(self.index_now(c)?)?))
        });
        let item = match from_cursor {
            Some((mut item, steps)) => {
                for _ in 0..steps {
                    // SAFETY: `item` is in this list: the cursor's, or one after it.
                    item = unsafe { self.list.next_after(item) }?;
                }
                item
            }
            None => self.list.iter().nth(usize::try_from(index).ok()?)?,
        };
        // SAFETY: `item` was found at `index` just now.
        Some((item, unsafe { self.cursor(item, index) }))
    }

    /// The item after the cursor's and a cursor on it; `None` at the end, or when the
    /// cursor's item has left the list.
    pub fn after(&self, cursor: &Cursor<P::Item>) -> Option<(&P::Item, Cursor<P::Item>)> {
        let item = self.item_of(cursor)?;
        // SAFETY: `item` is in this list (`item_of`).
        let next = unsafe { self.list.next_after(item) }?;
        let index = self.index_now(cursor)?.checked_add(1)?;
        // SAFETY: `next` follows the cursor's item, which is at `index - 1` now.
        Some((next, unsafe { self.cursor(next, index) }))
    }
}

impl<P: Owner> Deref for SeqList<P> {
    type Target = List<P>;

    /// The list, to read (changes go through the `SeqList`, which counts them).
    fn deref(&self) -> &List<P> {
        &self.list
    }
}

/// The last item a reader showed, so that its next pass goes on from it instead of
/// walking the list from its front again: a read of N items then costs O(N), not O(N²).
///
/// # Invariants
///
/// `item` was in the list whose stamp is `stamp`, at `index`, when the list had had
/// `pushed` pushes. While the list's stamp is still `stamp`, no item has left it, so
/// `item` is still in it, at `index` moved by the pushes since.
pub struct Cursor<I> {
    item: *const I,
    index: u64,
    pushed: u64,
    stamp: Stamp,
}

impl<I> Cursor<I> {
    /// The index of the item, in the list as it was when the cursor was made.
    pub fn index(&self) -> u64 {
        self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::Links;
    use std::boxed::Box;
    use std::vec::Vec;

    struct Item {
        value: u32,
        links: Links,
    }

    crate::impl_list_links!(Item, links);

    // SAFETY: `Box::into_raw` and `Box::from_raw` round-trip, and a box never moves its
    // contents.
    unsafe impl Owner for Box<Item> {
        type Item = Item;

        fn into_raw(self) -> *const Item {
            Box::into_raw(self)
        }

        unsafe fn from_raw(ptr: *const Item) -> Self {
            // SAFETY: The caller passes a pointer from `into_raw`.
            unsafe { Box::from_raw(ptr.cast_mut()) }
        }
    }

    // SAFETY: A box is the only owner of its item.
    unsafe impl UniqueOwner for Box<Item> {}

    fn push(list: &mut SeqList<Box<Item>>, value: u32) {
        list.push_front(Box::new(Item {
            value,
            links: Links::new(),
        }));
    }

    fn list(values: &[u32]) -> SeqList<Box<Item>> {
        let mut list = SeqList::new();
        for &value in values {
            push(&mut list, value);
        }
        list
    }

    /// A cursor on the item at `index`, as a reader makes one.
    fn cursor_at(list: &SeqList<Box<Item>>, index: u64) -> Cursor<Item> {
        list.find(None, index).unwrap().1
    }

    fn value(found: Option<(&Item, Cursor<Item>)>) -> Option<u32> {
        found.map(|(item, _)| item.value)
    }

    #[test]
    fn pushed_counts_every_push_and_no_removal() {
        let mut l = list(&[1, 2, 3]);
        assert_eq!(l.pushed(), 3);
        drop(l.pop_back());
        drop(l.remove_first(|i| i.value == 3));
        assert_eq!(l.pushed(), 3);
        // Index 0 (value 2) moves by one with each push: what a seq_file read relies on.
        let before = l.pushed();
        push(&mut l, 4);
        let moved = usize::try_from(l.pushed() - before).unwrap();
        assert_eq!(l.iter().nth(moved).unwrap().value, 2);
    }

    #[test]
    fn a_splice_counts_as_pushes_for_a_cursor() {
        let mut l = list(&[1, 2, 3]);
        let cursor = cursor_at(&l, 1);
        let stamp = l.stamp;
        let mut batch = List::new();
        for value in [4, 5] {
            batch.push_front(Box::new(Item {
                value,
                links: Links::new(),
            }));
        }
        assert_eq!(l.splice_front(&mut batch), 2);
        assert_eq!(l.pushed(), 5);
        assert_eq!(l.stamp, stamp, "a splice keeps every item in");
        // The cursor's item (value 2) is at index 1 + 2 now.
        assert_eq!(value(l.find(Some(&cursor), 3)), Some(2));
        let values: Vec<_> = l.iter().map(|i| i.value).collect();
        assert_eq!(values, [5, 4, 3, 2, 1]);
        // A first splice names the list, as a first push does.
        let mut fresh = SeqList::new();
        let mut batch = List::new();
        batch.push_front(Box::new(Item {
            value: 9,
            links: Links::new(),
        }));
        fresh.splice_front(&mut batch);
        assert_ne!(fresh.stamp, SeqList::<Box<Item>>::new().stamp);
        assert_eq!(fresh.pushed(), 1);
    }

    #[test]
    fn stamps_change_with_every_removal_and_name_one_list() {
        let mut l = list(&[1, 2, 3]);
        let stamp = l.stamp;
        push(&mut l, 4);
        assert_eq!(l.stamp, stamp, "a push keeps every item in");
        drop(l.pop_back());
        let popped = l.stamp;
        assert_ne!(popped, stamp);
        drop(l.remove_first(|i| i.value == 3));
        assert_ne!(l.stamp, popped);
        // Another list, even at the same place, never has the same stamp.
        let before = l.stamp;
        l = list(&[1]);
        assert_ne!(l.stamp, before);
        assert_ne!(SeqList::<Box<Item>>::new().stamp, l.stamp);
    }

    #[test]
    fn a_cursor_goes_on_across_pushes() {
        let mut l = list(&[1, 2, 3, 4]);
        // Items 4 and 3 shown; the reader stopped at index 1.
        let cursor = cursor_at(&l, 1);
        assert_eq!(cursor.index(), 1);
        push(&mut l, 5);
        push(&mut l, 6);
        // Index 2 of the read as it began is index 4 now: value 2, from the cursor.
        let moved = l.pushed() - 4;
        assert_eq!(value(l.find(Some(&cursor), 2 + moved)), Some(2));
        let (_, last) = l.find(Some(&cursor), 3 + moved).unwrap();
        assert_eq!(last.index(), 5);
        assert!(l.find(Some(&cursor), 4 + moved).is_none());
        // Step by step from the cursor: values 2 and 1, then the end.
        let (item, next) = l.after(&cursor).unwrap();
        assert_eq!((item.value, next.index()), (2, 4));
        assert_eq!(value(l.after(&next)), Some(1));
        assert!(l.after(&last).is_none());
    }

    #[test]
    fn a_stale_cursor_is_not_followed() {
        let mut l = list(&[1, 2, 3, 4]);
        let cursor = cursor_at(&l, 3);
        // The cursor's item (value 1) is freed: the cursor must not be used.
        drop(l.pop_back());
        assert!(l.after(&cursor).is_none());
        assert!(l.find(Some(&cursor), 3).is_none());
        assert_eq!(value(l.find(Some(&cursor), 2)), Some(2));
        // A cursor past the index asked for is not walked back from.
        let cursor = cursor_at(&l, 2);
        assert_eq!(value(l.find(Some(&cursor), 0)), Some(4));
        let values: Vec<_> = (0..3).map(|i| value(l.find(None, i)).unwrap()).collect();
        assert_eq!(values, [4, 3, 2]);
    }
}
