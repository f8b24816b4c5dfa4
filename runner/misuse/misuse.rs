// SPDX-License-Identifier: GPL-2.0

//! Safe code that would break a wrapper's invariant, each case behind
//! `--cfg misuse_NAME`: `runner/tests/misuse.rs` builds the module with each case and
//! expects the compiler to refuse it, and builds it with none to show that the rest
//! compiles. Like a stage, this crate denies `unsafe_code`: the misuses are what a stage
//! could write.

#![deny(unsafe_code)]

/// The `common/` files the cases reach.
#[allow(unsafe_code)]
#[path = "../../common/src"]
pub mod common {
    pub mod debugfs;
    pub mod foreign;
    pub mod list;
    pub mod lockdep;
    pub mod mempool;
    pub mod mutex;
    pub mod params;
    pub mod refcount;
    pub mod registration;
    pub mod seq_file;
    pub mod seq_list;
    pub mod slab;
    pub mod static_object;
}

use common::{list::Links, refcount::Refcount};
use kernel::prelude::*;

module! {
    type: Misuse,
    name: "misuse",
    author: "taskmonitor developers",
    description: "Misuses of the common wrappers, each refused at build time",
    license: "GPL",
}

struct Sample {
    refs: Refcount,
    links: Links,
}

crate::impl_counted!(Sample, refs);
crate::impl_list_links!(Sample, links);
crate::kmem_cache!(SAMPLES: Sample, "misuse");
crate::mempool!(POOL: Sample);

// A second cache for the same type: its objects would be freed to `SAMPLES`.
#[cfg(misuse_second_cache_static)]
static OTHER: common::slab::KmemCache<Sample> =
    common::slab::KmemCache::new(kernel::c_str!("other"));

// The same through the macro: a second `Cached` impl for the type.
#[cfg(misuse_second_cache_macro)]
crate::kmem_cache!(OTHER: Sample, "other");

// A second pool: its objects would go back to `POOL`, or to a pool never created.
#[cfg(misuse_second_pool)]
static OTHER: common::mempool::Mempool<Sample> = common::mempool::Mempool::new();

// File operations owned by no module (or another one): the module could be unloaded
// while a file is open.
#[cfg(misuse_fops_owner)]
static FOPS: common::debugfs::Fops<Shown> = common::debugfs::Fops::new(core::ptr::null_mut());

// A parameter whose parser writes another type than its storage.
#[cfg(misuse_param_type)]
crate::module_param!(@param WIDE, u64, 0, "wide", "a u64 parsed as an int", "int");

// A parameter descriptor made by hand: it could name another module as its owner.
#[cfg(misuse_kernel_param)]
static PARAM: common::params::KernelParam = {
    static VALUE: common::params::Param<i32> = common::params::Param::new(0);
    common::params::KernelParam::new(kernel::c_str!("p"), core::ptr::null_mut(), &VALUE)
};

// Code hidden in a type given to a macro, to slip `unsafe` past `deny(unsafe_code)`.
#[cfg(misuse_macro_bypass)]
crate::kmem_cache!(HIDDEN: [u8; {
    unsafe impl common::list::UniqueOwner for common::refcount::Ref<Sample, common::mempool::FromPool> {}
    1
}], "hidden");

// A reference count shared by several objects: each would be freed while others hold it.
#[cfg(misuse_shared_refcount)]
mod shared {
    pub(crate) struct Shared {
        pub(crate) refs: &'static crate::common::refcount::Refcount,
    }
    crate::impl_counted!(Shared, refs);
}

// A zero-sized slab object.
#[cfg(misuse_zero_sized_cache)]
mod zero_sized {
    pub(crate) struct Empty;
    crate::kmem_cache!(EMPTY: Empty, "misuse_empty");
    pub(crate) fn create() {
        let _ = EMPTY.create();
    }
}

/// What the `fops_owner` case would show.
#[cfg(misuse_fops_owner)]
struct Shown;

#[cfg(misuse_fops_owner)]
impl common::seq_file::SeqShow for Shown {
    type Owner = common::refcount::Ref<Sample, common::mempool::FromPool>;
    type Locked<'a> = ();
    fn lock(&self) {}
    fn list<'a>(_: &'a ()) -> &'a common::seq_list::SeqList<Self::Owner> {
        unimplemented!()
    }
    fn show(&self, _: &Sample, _: &mut common::seq_file::SeqFile) -> core::fmt::Result {
        Ok(())
    }
}

struct Misuse;

impl kernel::Module for Misuse {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let _cache = SAMPLES.create()?;
        let _pool = POOL.create(1)?;
        let sample: common::refcount::Ref<Sample, common::mempool::FromPool> = POOL
            .alloc(Sample {
                refs: Refcount::new(),
                links: Links::new(),
            })?
            .into();
        let mut list = common::list::List::new();
        // A shared reference can only be tried: `push_front` is for unique owners.
        #[cfg(misuse_push_shared)]
        list.push_front(sample.clone());
        let _ = list.try_push_front(sample);
        #[cfg(misuse_zero_sized_ksize)]
        let _ = common::slab::kmalloc_ksize::<ZeroSizedAligned>();
        #[cfg(misuse_zero_sized_cache)]
        zero_sized::create();
        Ok(Self)
    }
}

/// A zero-sized type with an alignment above what `ksize()` treats as NULL.
#[cfg(misuse_zero_sized_ksize)]
#[repr(align(32))]
struct ZeroSizedAligned;
