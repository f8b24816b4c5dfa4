// SPDX-License-Identifier: GPL-2.0

//! Model checks of the teardown state machine of `StaticObject` (`common/src/static_object.rs`):
//! loom runs each test under every interleaving of its threads (and every order its
//! atomics allow). Run with `make loom` (`RUSTFLAGS="--cfg loom"`).
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use std::ptr::NonNull;
use taskmonitor_common::static_object::StaticObject;

/// The C object: `destroyed` once teardown took it out.
struct Object {
    destroyed: AtomicBool,
}

fn installed() -> (Arc<StaticObject<Object>>, NonNull<Object>) {
    let object = NonNull::from(Box::leak(Box::new(Object {
        destroyed: AtomicBool::new(false),
    })));
    let s = Arc::new(StaticObject::new());
    assert!(s.install(object));
    (s, object)
}

/// What the module's teardown does: take the object out if unused, then destroy it.
fn teardown(s: &StaticObject<Object>) -> Result<bool, usize> {
    let taken = s.take_unused()?;
    if let Some(object) = taken {
        // SAFETY: taken out with no reference left: nobody else can reach it.
        unsafe { object.as_ref() }
            .destroyed
            .store(true, Ordering::Relaxed);
    }
    Ok(taken.is_some())
}

/// A holder's use of the object: never after it was destroyed, never null.
fn use_once(s: &StaticObject<Object>) -> bool {
    let Some(object) = s.acquire() else {
        return false;
    };
    // SAFETY: a reference is held.
    let seen = unsafe { s.get() };
    assert_eq!(seen, object, "a holder sees its object");
    // SAFETY: the object lives while a reference is held.
    assert!(!unsafe { seen.as_ref() }.destroyed.load(Ordering::Relaxed));
    // SAFETY: the reference is held and not used after this.
    unsafe { s.release() };
    true
}

#[test]
fn a_holder_never_sees_its_object_go() {
    loom::model(|| {
        let (s, object) = installed();
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || use_once(&s))
            })
            .collect();
        let outcome = teardown(&s);
        let used: Vec<bool> = holders.into_iter().map(|h| h.join().unwrap()).collect();
        match outcome {
            // Refused: teardown never began, so no acquire may have failed.
            Err(users) => {
                assert!(users > 0);
                assert!(
                    used.iter().all(|&u| u),
                    "an acquire failed with the object in place"
                );
                assert!(teardown(&s).unwrap(), "once released, teardown succeeds");
            }
            Ok(taken) => assert!(taken),
        }
        // SAFETY: taken out and destroyed above; nothing refers to it.
        drop(unsafe { Box::from_raw(object.as_ptr()) });
    });
}

#[test]
fn a_refused_teardown_leaves_everything_usable() {
    loom::model(|| {
        let (s, object) = installed();
        let held = s.acquire().unwrap();
        let other = {
            let s = s.clone();
            thread::spawn(move || use_once(&s))
        };
        // Refused: ours is held, and the other thread's may be.
        assert!(matches!(teardown(&s), Err(1 | 2)));
        assert!(
            other.join().unwrap(),
            "acquire failed while the object stayed"
        );
        // SAFETY: `held` is a reference of ours.
        assert_eq!(unsafe { s.get() }, held);
        // SAFETY: released once, not used after.
        unsafe { s.release() };
        assert_eq!(teardown(&s), Ok(true));
        // SAFETY: taken out and destroyed above.
        drop(unsafe { Box::from_raw(object.as_ptr()) });
    });
}
