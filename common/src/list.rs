// SPDX-License-Identifier: GPL-2.0

//! An intrusive doubly linked list that owns its items (C's `struct list_head`).
//!
//! Pure logic, unit-tested on the host. The kernel's own `kernel::list::List` holds only
//! `kernel::sync::Arc` items, which are always allocated with `kmalloc`; from Task 3 on the
//! samples come from a slab cache, then a mempool, then carry a reference count of their
//! own. This list holds any owning pointer that implements [`Owner`], and, like the C
//! list, links items through a [`Links`] field embedded in them, so adding an item never
//! allocates: it can be done under a lock that memory reclaim needs.
//!
//! New items go to the front; [`List::iter`] walks from front to back and
//! [`List::pop_back`] takes the item at the back, so with `push_front` the list reads
//! newest first and `pop_back` takes the oldest.
//!
//! An item is in at most one list at a time, whatever its owner: the links tell
//! atomically whether the item is in a list (like the `AtomicTracker` of upstream's
//! `ListArc`, but in the `prev` pointer, so a link is still two pointers); a push claims
//! them and an unlink gives them up. A reference-counted owner can be cloned, so pushing a
//! clone of an item that is already linked is refused ([`List::try_push_front`] gives it
//! back) instead of corrupting both lists.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

/// The links of a list item (C's `struct list_head` member): two pointers, as in C.
///
/// Whether the item is in a list is told by `prev` itself, so the tracker costs no
/// memory: null while the item is in no list, else the item before it, or [`END`] at the
/// front (and `next` is [`END`] at the back).
///
/// # Invariants
///
/// `prev` is non-null from the moment a [`List`] claims the item (a successful
/// compare-and-swap from null) until that list unlinks it; [`List::splice_front`] hands
/// the claim over to another list. Only the list that holds the claim writes the
/// pointers, through `&mut List`, or reads `next`. Both are null while the item is in no
/// list.
pub struct Links {
    prev: AtomicPtr<Links>,
    next: UnsafeCell<*const Links>,
}

/// The neighbour of the first and last items: never the address of a real `Links`.
const END: *mut Links = NonNull::dangling().as_ptr();

#[derive(Clone, Copy)]
struct LinkPtrs {
    prev: *const Links,
    next: *const Links,
}

// SAFETY: The raw pointers are only used by the list that claimed the item, whose own
// `Send` and `Sync` follow the items' (type invariant); holders of `&Item` only read
// whether `prev` is null, atomically.
unsafe impl Send for Links {}
// SAFETY: As above.
unsafe impl Sync for Links {}

impl Links {
    /// Links of an item that is in no list.
    pub const fn new() -> Self {
        Self {
            prev: AtomicPtr::new(ptr::null_mut()),
            next: UnsafeCell::new(ptr::null()),
        }
    }

    /// Whether the item is in a list now; it may change at once unless the caller
    /// owns that list.
    pub fn is_linked(&self) -> bool {
        !self.prev.load(Ordering::Relaxed).is_null()
    }

    /// Claims the links for a list: `false` if another list has them.
    fn claim(&self) -> bool {
        // Acquire: the list that unlinked the item last wrote the pointers before its
        // release store; this list writes them next.
        self.prev
            .compare_exchange(ptr::null_mut(), END, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Gives up the claim, for the list that unlinked the item.
    ///
    /// # Safety
    ///
    /// Only the list that claimed the item may call this, through `&mut List`, once it
    /// no longer uses the links.
    unsafe fn unclaim(&self) {
        // SAFETY: The caller is the only user of `next` (type invariant).
        unsafe { *self.next.get() = ptr::null() };
        self.prev.store(ptr::null_mut(), Ordering::Release);
    }

    /// The neighbours, null at either end.
    fn get(&self) -> LinkPtrs {
        let or_null = |p: *const Links| if p == END { ptr::null() } else { p };
        LinkPtrs {
            prev: or_null(self.prev.load(Ordering::Relaxed)),
            // SAFETY: Only the list that claimed the item reads or writes `next`, and it
            // does not hold a reference to it across this read (type invariant).
            next: or_null(unsafe { *self.next.get() }),
        }
    }

    /// Sets the neighbours of a claimed item, null at either end.
    ///
    /// # Safety
    ///
    /// Only the list that claimed the item may call this, through `&mut List`.
    unsafe fn set(&self, ptrs: LinkPtrs) {
        let or_end = |p: *const Links| if p.is_null() { END } else { p.cast_mut() };
        // Relaxed: only the claiming list reads these; the claim orders them.
        self.prev.store(or_end(ptrs.prev), Ordering::Relaxed);
        // SAFETY: The caller is the only user of `next` (type invariant).
        unsafe { *self.next.get() = or_end(ptrs.next) };
    }
}

impl Default for Links {
    fn default() -> Self {
        Self::new()
    }
}

/// An item with embedded [`Links`].
///
/// # Safety
///
/// `links` must always return the same field of the item, and `from_links` must return
/// the item that contains the given links. Use [`impl_list_links!`](crate::impl_list_links).
pub unsafe trait ListItem {
    /// The item's links (C's `&item->list`).
    ///
    /// Raw pointers in and out: the list goes back from the links to the whole item, which
    /// a pointer derived from a reference to the field alone may not do.
    ///
    /// # Safety
    ///
    /// `me` must point to a live `Self`.
    unsafe fn links(me: *const Self) -> *const Links;

    /// The item containing `links` (C's `list_entry()`, `container_of`).
    ///
    /// # Safety
    ///
    /// `links` must be the links field of a live `Self`.
    unsafe fn from_links(links: *const Links) -> *const Self;
}

/// Implements [`ListItem`] for a struct with a [`Links`] field.
#[macro_export]
macro_rules! impl_list_links {
    ($type:ty, $field:ident) => {
        // The caller's type is named outside the `allow`: a type can hold a block of
        // code, which must stay under the crate's `deny(unsafe_code)`.
        const _: () = {
            type This = $type;
            // The field is a `Links` of the item itself, aligned: the pattern does not go
            // through `Deref` nor bind a field of a `repr(packed)` struct (whose `Links`
            // would be misaligned), and the raw pointer does not coerce.
            #[allow(dead_code)]
            fn field(this: &This) -> *const $crate::common::list::Links {
                let This { $field: links, .. } = this;
                links
            }

            // SAFETY: `links` returns the same field every time, an aligned `Links` (checked
            // by `field` above); `from_links` subtracts that field's offset.
            #[allow(unsafe_code)]
            unsafe impl $crate::common::list::ListItem for This {
                unsafe fn links(me: *const Self) -> *const $crate::common::list::Links {
                    // SAFETY: The caller guarantees that `me` points to a live `Self`.
                    unsafe { ::core::ptr::addr_of!((*me).$field) }
                }

                unsafe fn from_links(links: *const $crate::common::list::Links) -> *const Self {
                    // SAFETY: The caller guarantees that `links` is the field of a `Self`.
                    unsafe { links.byte_sub(::core::mem::offset_of!(This, $field)).cast() }
                }
            }
        };
    };
}

/// An owning pointer to a list item: given up to the list as a raw pointer while linked.
///
/// # Safety
///
/// - `into_raw` returns a non-null pointer to a live item, which stays alive and at the
///   same address until that pointer is given back to `from_raw`, which restores the
///   owner that was given up.
/// - Until then, nothing may get a `&mut` to the item or move it: other owners of the
///   same item (clones of a reference-counted pointer) give at most `&Item`.
///
/// An owner need not be unique: the [`Links`] tracker keeps an item in one list at a
/// time whatever the owner type. `Box`-like and reference-counted pointers qualify.
pub unsafe trait Owner {
    /// The item type.
    type Item: ListItem;

    /// Gives up ownership as a raw pointer.
    fn into_raw(self) -> *const Self::Item;

    /// Takes ownership back.
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw` and not have been given back already.
    unsafe fn from_raw(ptr: *const Self::Item) -> Self;
}

/// An [`Owner`] that is the only owner of its item (a box), so the item it owns is in no
/// list: pushing it cannot be refused.
///
/// # Safety
///
/// While a value of this type exists, no other owner of its item exists.
pub unsafe trait UniqueOwner: Owner {}

/// A list of owned items, front to back.
///
/// # Invariants
///
/// `front` and `back` are null together, or are the first and last of a chain of items,
/// linked both ways, each claimed by this list (its `Links::prev` not null) and owned by
/// it (from `Owner::into_raw`). `len` is the number of items in the chain.
pub struct List<P: Owner> {
    front: *const Links,
    back: *const Links,
    len: usize,
    _owns: PhantomData<P>,
}

// SAFETY: The list owns its items through `P`: sending it sends them.
unsafe impl<P: Owner + Send> Send for List<P> {}
// SAFETY: `&List` only gives `&P::Item`.
unsafe impl<P: Owner + Sync> Sync for List<P> where P::Item: Sync {}

impl<P: Owner> Default for List<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Owner> List<P> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            front: ptr::null(),
            back: ptr::null(),
            len: 0,
            _owns: PhantomData,
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.front.is_null()
    }

    /// How many items the list holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds `item`, which its owner alone owns, at the front (C's `list_add()`). Never
    /// allocates.
    pub fn push_front(&mut self, item: P)
    where
        P: UniqueOwner,
    {
        if self.try_push_front(item).is_err() {
            // A unique owner's item is in no list (`UniqueOwner`'s contract).
            unreachable!("an item with a unique owner is already in a list");
        }
    }

    /// Adds `item` at the front (C's `list_add()`), unless it is in a list already
    /// (another owner of it was pushed): then gives it back. Never allocates.
    pub fn try_push_front(&mut self, item: P) -> Result<(), P> {
        let raw = item.into_raw();
        // SAFETY: `raw` is a live item (`Owner` contract).
        let links = unsafe { P::Item::links(raw) };
        // SAFETY: `links` is the field of a live item, which we own for now.
        if !unsafe { (*links).claim() } {
            // SAFETY: `raw` comes from `into_raw` just above and is given back once.
            return Err(unsafe { P::from_raw(raw) });
        }
        // SAFETY: `links` is claimed by this list now, and `self.front` (if any) is an
        // item of this list.
        unsafe {
            (*links).set(LinkPtrs {
                prev: ptr::null(),
                next: self.front,
            });
            if let Some(front) = self.front.as_ref() {
                front.set(LinkPtrs {
                    prev: links,
                    ..front.get()
                });
            } else {
                self.back = links;
            }
        }
        // INVARIANT: `links` is the new first item, claimed, linked to the old first one.
        self.front = links;
        self.len += 1;
        Ok(())
    }

    /// Moves every item of `batch` to the front of this list, in the batch's order (C's
    /// `list_splice()`): the list reads as if each had been pushed here instead, from the
    /// batch's back to its front. Returns how many moved. Never allocates, and takes the
    /// same time whatever the lengths: two items' links are written.
    pub fn splice_front(&mut self, batch: &mut List<P>) -> usize {
        let moved = batch.len;
        // Raw pointers, not references to the links: the list goes back from the links to
        // their whole item, which a pointer made from a reference to the field may not.
        let (first, last) = (batch.front, batch.back);
        if first.is_null() {
            return 0;
        }
        // SAFETY: `last` is the batch's back item and `self.front` (if any) this list's
        // front item (type invariant); both lists are borrowed mutably, so their links are
        // ours to write.
        unsafe {
            (*last).set(LinkPtrs {
                next: self.front,
                ..(*last).get()
            });
            match self.front.as_ref() {
                Some(front) => front.set(LinkPtrs {
                    prev: last,
                    ..front.get()
                }),
                None => self.back = last,
            }
        }
        // INVARIANT: one chain from the batch's front to this list's back, linked both
        // ways, of both lengths; the items keep their claims, now this list's, and the
        // batch is empty.
        self.front = first;
        self.len += moved;
        batch.front = ptr::null();
        batch.back = ptr::null();
        batch.len = 0;
        moved
    }

    /// Takes the item at the back (C's `list_last_entry()` and `list_del()`).
    pub fn pop_back(&mut self) -> Option<P> {
        let back = NonNull::new(self.back.cast_mut())?;
        // SAFETY: `back` is an item of this list (type invariant).
        Some(unsafe { self.unlink(back.as_ptr()) })
    }

    /// Takes the first item, from the front, for which `matches` is true.
    pub fn remove_first(&mut self, mut matches: impl FnMut(&P::Item) -> bool) -> Option<P> {
        let mut cur = self.front;
        while !cur.is_null() {
            // SAFETY: `cur` is an item of this list (type invariant).
            let item = unsafe { &*P::Item::from_links(cur) };
            if matches(item) {
                // SAFETY: `cur` is an item of this list.
                return Some(unsafe { self.unlink(cur) });
            }
            // SAFETY: `cur` is an item of this list.
            cur = unsafe { (*cur).get().next };
        }
        None
    }

    /// Unlinks `links` and gives back its owner.
    ///
    /// # Safety
    ///
    /// `links` must be an item of this list.
    unsafe fn unlink(&mut self, links: *const Links) -> P {
        // SAFETY: `links` and its neighbours are items of this list (caller, invariant).
        unsafe {
            let LinkPtrs { prev, next } = (*links).get();
            match prev.as_ref() {
                Some(p) => p.set(LinkPtrs { next, ..p.get() }),
                None => self.front = next,
            }
            match next.as_ref() {
                Some(n) => n.set(LinkPtrs { prev, ..n.get() }),
                None => self.back = prev,
            }
            self.len -= 1;
            // Unclaimed before the owner is rebuilt: a box's owner is unique, so no access
            // through `links` may follow it. Once unclaimed, another owner of the item
            // (a clone) may push it elsewhere; ours no longer touches the links.
            (*links).unclaim();
            // INVARIANT: the chain skips `links` now, which are unclaimed; the owner
            // leaves the list.
            P::from_raw(P::Item::from_links(links))
        }
    }

    /// The item after `item`, towards the back (C's `list_next_entry()`).
    ///
    /// # Safety
    ///
    /// `item` must be in this list.
    pub unsafe fn next_after(&self, item: &P::Item) -> Option<&P::Item> {
        // SAFETY: `item` is in this list (caller), so its links are ours and its next
        // item, if any, is an item of this list too, alive while `self` is borrowed.
        unsafe {
            let next = (*P::Item::links(item)).get().next;
            // The raw pointer, not a reference to the links: going back from a
            // reference to a field to its whole item is not allowed.
            (!next.is_null()).then(|| &*P::Item::from_links(next))
        }
    }

    /// The items, from front to back (C's `list_for_each_entry()`).
    pub fn iter(&self) -> Iter<'_, P> {
        Iter {
            next: self.front,
            _list: PhantomData,
        }
    }
}

impl<P: Owner> Drop for List<P> {
    fn drop(&mut self) {
        while let Some(item) = self.pop_back() {
            drop(item);
        }
    }
}

/// An iterator over the items of a [`List`], front to back.
pub struct Iter<'a, P: Owner> {
    next: *const Links,
    _list: PhantomData<&'a List<P>>,
}

impl<'a, P: Owner> Iterator for Iter<'a, P> {
    type Item = &'a P::Item;

    fn next(&mut self) -> Option<&'a P::Item> {
        let cur = NonNull::new(self.next.cast_mut())?;
        // SAFETY: `cur` is an item of the list, which `'a` borrows: no item is removed or
        // relinked meanwhile.
        unsafe {
            self.next = cur.as_ref().get().next;
            Some(&*P::Item::from_links(cur.as_ptr()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::vec::Vec;

    struct Item {
        value: u32,
        links: Links,
        drops: &'static AtomicUsize,
    }

    crate::impl_list_links!(Item, links);

    impl Drop for Item {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

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

    // SAFETY: `Arc::into_raw` and `Arc::from_raw` round-trip one reference, and an `Arc`
    // never moves its contents or gives `&mut` to them while shared.
    unsafe impl Owner for Arc<Item> {
        type Item = Item;

        fn into_raw(self) -> *const Item {
            Arc::into_raw(self)
        }

        unsafe fn from_raw(ptr: *const Item) -> Self {
            // SAFETY: The caller passes a pointer from `into_raw`.
            unsafe { Arc::from_raw(ptr) }
        }
    }

    fn item(value: u32, drops: &'static AtomicUsize) -> Item {
        Item {
            value,
            links: Links::new(),
            drops,
        }
    }

    fn list(values: &[u32], drops: &'static AtomicUsize) -> List<Box<Item>> {
        let mut list = List::new();
        for &value in values {
            list.push_front(Box::new(Item {
                value,
                links: Links::new(),
                drops,
            }));
        }
        list
    }

    fn values(list: &List<Box<Item>>) -> Vec<u32> {
        list.iter().map(|i| i.value).collect()
    }

    #[test]
    fn newest_first_oldest_popped() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let mut l = list(&[1, 2, 3], &DROPS);
        assert_eq!(values(&l), [3, 2, 1]);
        assert_eq!(l.pop_back().unwrap().value, 1);
        assert_eq!(values(&l), [3, 2]);
        assert_eq!(l.pop_back().unwrap().value, 2);
        assert_eq!(l.pop_back().unwrap().value, 3);
        assert!(l.is_empty());
        assert!(l.pop_back().is_none());
        assert_eq!(DROPS.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_spliced_batch_reads_as_if_pushed_here() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let mut l = list(&[1, 2], &DROPS);
        let mut batch = list(&[3, 4, 5], &DROPS);
        assert_eq!(l.splice_front(&mut batch), 3);
        assert!(batch.is_empty());
        assert_eq!((l.len(), batch.len()), (5, 0));
        assert_eq!(values(&l), [5, 4, 3, 2, 1]);
        // Both ends are right: pop from the back, push and pop again.
        assert_eq!(l.pop_back().unwrap().value, 1);
        assert_eq!(l.remove_first(|i| i.value == 3).unwrap().value, 3);
        assert_eq!(values(&l), [5, 4, 2]);
        assert_eq!(l.len(), 3);
        // Into an empty list, and an empty batch.
        let mut empty = List::new();
        assert_eq!(empty.splice_front(&mut l), 3);
        assert_eq!(values(&empty), [5, 4, 2]);
        assert_eq!(empty.splice_front(&mut l), 0);
        assert_eq!(values(&empty), [5, 4, 2]);
        while let Some(i) = empty.pop_back() {
            drop(i);
        }
        // The batch, emptied, takes items again.
        batch.push_front(Box::new(item(6, &DROPS)));
        assert_eq!(values(&batch), [6]);
        drop(batch);
        assert_eq!(DROPS.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn an_emptied_list_takes_new_items() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let mut l = list(&[1], &DROPS);
        drop(l.pop_back());
        l.push_front(Box::new(Item {
            value: 7,
            links: Links::new(),
            drops: &DROPS,
        }));
        assert_eq!(values(&l), [7]);
    }

    #[test]
    fn remove_first_anywhere() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let mut l = list(&[1, 2, 3, 4, 5], &DROPS);
        assert_eq!(l.remove_first(|i| i.value == 3).unwrap().value, 3);
        assert_eq!(values(&l), [5, 4, 2, 1]);
        assert_eq!(l.remove_first(|i| i.value == 5).unwrap().value, 5);
        assert_eq!(l.remove_first(|i| i.value == 1).unwrap().value, 1);
        assert_eq!(values(&l), [4, 2]);
        assert!(l.remove_first(|i| i.value == 9).is_none());
        // Both ends stay right: the back is still poppable, the front still pushable.
        assert_eq!(l.pop_back().unwrap().value, 2);
        assert_eq!(l.remove_first(|_| true).unwrap().value, 4);
        assert!(l.is_empty());
    }

    #[test]
    fn next_after_walks_to_the_back() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let l = list(&[1, 2, 3], &DROPS);
        let mut walked = Vec::new();
        let mut cur = l.iter().next();
        while let Some(item) = cur {
            walked.push(item.value);
            // SAFETY: `item` comes from `l`.
            cur = unsafe { l.next_after(item) };
        }
        assert_eq!(walked, [3, 2, 1]);
    }

    #[test]
    fn dropping_the_list_drops_every_item() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        drop(list(&(0..1000).collect::<Vec<_>>(), &DROPS));
        assert_eq!(DROPS.load(Ordering::Relaxed), 1000);
    }

    #[test]
    fn an_item_can_move_between_lists() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let mut a = list(&[1, 2], &DROPS);
        let mut b = list(&[3], &DROPS);
        b.push_front(a.pop_back().unwrap());
        assert_eq!(values(&a), [2]);
        assert_eq!(values(&b), [1, 3]);
        assert_eq!(DROPS.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_shared_item_is_in_one_list_at_a_time() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let shared = Arc::new(item(1, &DROPS));
        let mut a = List::new();
        let mut b = List::new();
        assert!(a.try_push_front(shared.clone()).is_ok());
        assert!(shared.links.is_linked());
        // A second push of the same item, into the same list or another, is refused and
        // gives the reference back: no self-loop, no second `from_raw`.
        let again = a.try_push_front(shared.clone()).unwrap_err();
        let other = b.try_push_front(shared.clone()).unwrap_err();
        assert!(Arc::ptr_eq(&again, &shared) && Arc::ptr_eq(&other, &shared));
        drop((again, other));
        assert_eq!(Arc::strong_count(&shared), 2, "ours and the list's");
        assert_eq!(a.iter().map(|i| i.value).collect::<Vec<_>>(), [1]);
        assert!(b.is_empty());
        // Once unlinked, it may go into another list.
        let back = a.pop_back().unwrap();
        assert!(!shared.links.is_linked());
        assert!(a.is_empty());
        assert!(b.try_push_front(back).is_ok());
        drop(b);
        assert_eq!(Arc::strong_count(&shared), 1);
        assert_eq!(DROPS.load(Ordering::Relaxed), 0);
        drop(shared);
        assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn racing_pushes_of_one_item_link_it_once() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        // Fewer rounds under Miri, which checks every access for races.
        let rounds = if cfg!(miri) { 10 } else { 1000 };
        for _ in 0..rounds {
            let shared = Arc::new(item(7, &DROPS));
            let both_pushed = Arc::new(std::sync::Barrier::new(2));
            let pushes: Vec<_> = (0..2)
                .map(|_| {
                    let (mine, both_pushed) = (shared.clone(), both_pushed.clone());
                    std::thread::spawn(move || {
                        let mut list = List::new();
                        let linked = list.try_push_front(mine).is_ok();
                        // Neither list lets the item go before both pushes are done.
                        both_pushed.wait();
                        let walked = list.iter().count();
                        (linked, walked, list.pop_back().is_some())
                    })
                })
                .collect();
            let results: Vec<_> = pushes.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(results.iter().filter(|r| r.0).count(), 1, "{results:?}");
            for (linked, walked, popped) in results {
                assert_eq!((usize::from(linked), linked), (walked, popped));
            }
            assert!(!shared.links.is_linked());
            assert_eq!(Arc::strong_count(&shared), 1);
        }
    }
}
