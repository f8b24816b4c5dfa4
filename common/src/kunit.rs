// SPDX-License-Identifier: GPL-2.0

//! KUnit suites in a module (`include/kunit/test.h`).
//!
//! 6.12's `kernel` crate can only run doctests; it has no `#[kunit_tests]`. In C,
//! `kunit_test_suites(&suite)` puts a pointer to a `struct kunit_suite` into the module's
//! `.kunit_test_suites` section; when the module is loaded, KUnit finds the section and
//! runs the suite, each case in a kernel thread of its own, and prints its results in
//! KTAP on the kernel log. [`kunit_suite!`](crate::kunit_suite) does the same for Rust
//! functions taking a [`Test`], and [`kunit_expect!`](crate::kunit_expect) marks a case
//! failed when a condition does not hold.

use core::cell::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{bindings, prelude::*};

/// The test a case runs in (C's `struct kunit`).
///
/// # Invariants
///
/// `raw` is the `struct kunit` of the running case, valid for `'a`.
pub struct Test<'a> {
    raw: NonNull<bindings::kunit>,
    _running: PhantomData<&'a mut bindings::kunit>,
}

impl Test<'_> {
    /// Marks the case failed, and says why on the kernel log (C's `KUNIT_FAIL`).
    pub fn fail(&mut self, why: fmt::Arguments<'_>) {
        // A KTAP diagnostic line, without the module's prefix, as C's KUnit prints it.
        kernel::kunit::err(format_args!("    # {}: {}\n", self.name(), why));
        // SAFETY: `raw` is the running case's test (type invariant); KUnit reads the
        // status after the case returns, as C's `kunit_set_failure()` writes it.
        unsafe { (*self.raw.as_ptr()).status = bindings::kunit_status_KUNIT_FAILURE };
    }

    /// The name of the running case.
    pub fn name(&self) -> &CStr {
        // SAFETY: KUnit sets `name` to the case's name, a static C string.
        unsafe { CStr::from_char_ptr((*self.raw.as_ptr()).name) }
    }
}

/// Fails the case with the condition's text and place when it is false.
#[macro_export]
macro_rules! kunit_expect {
    ($test:expr, $condition:expr) => {
        if !$condition {
            $test.fail(::core::format_args!(
                "EXPECTATION FAILED at {}:{}: {}",
                ::core::file!(),
                ::core::line!(),
                ::core::stringify!($condition)
            ));
        }
    };
}

/// A test case: a function taking the [`Test`] it runs in.
pub trait Case {
    /// Runs the case.
    fn run(test: &mut Test<'_>);
}

/// The `run_case` callback of every case `C`.
///
/// # Safety
///
/// Called by KUnit with the `struct kunit` of a running case.
unsafe extern "C" fn run_case<C: Case>(test: *mut bindings::kunit) {
    let Some(raw) = NonNull::new(test) else {
        return;
    };
    // INVARIANT: KUnit passes the running case's test, valid until we return.
    let mut test = Test {
        raw,
        _running: PhantomData,
    };
    C::run(&mut test);
}

/// A `struct kunit_case` that runs `C` (C's `KUNIT_CASE`).
pub const fn case<C: Case>(name: &'static CStr) -> bindings::kunit_case {
    bindings::kunit_case {
        run_case: Some(run_case::<C>),
        name: name.as_char_ptr(),
        generate_params: None,
        attr: bindings::kunit_attributes {
            speed: bindings::kunit_speed_KUNIT_SPEED_UNSET,
        },
        status: bindings::kunit_status_KUNIT_SUCCESS,
        module_name: core::ptr::null_mut(),
        log: core::ptr::null_mut(),
    }
}

/// The all-zero `struct kunit_case` that ends the list.
pub const fn end_of_cases() -> bindings::kunit_case {
    bindings::kunit_case {
        run_case: None,
        name: core::ptr::null(),
        generate_params: None,
        attr: bindings::kunit_attributes { speed: 0 },
        status: 0,
        module_name: core::ptr::null_mut(),
        log: core::ptr::null_mut(),
    }
}

/// The cases of a suite, ended by [`end_of_cases`], in memory KUnit may write to (it
/// records each case's status and log there).
#[repr(transparent)]
pub struct Cases<const N: usize>(UnsafeCell<[bindings::kunit_case; N]>);

// SAFETY: Only KUnit touches the cases, under its own `kunit_run_lock`.
unsafe impl<const N: usize> Sync for Cases<N> {}

impl<const N: usize> Cases<N> {
    /// Wraps the cases; the last must be [`end_of_cases`].
    pub const fn new(cases: [bindings::kunit_case; N]) -> Self {
        assert!(
            cases[N - 1].run_case.is_none(),
            "cases must end with end_of_cases()"
        );
        Self(UnsafeCell::new(cases))
    }
}

/// A `struct kunit_suite`, which KUnit writes its results into.
#[repr(transparent)]
pub struct Suite(UnsafeCell<bindings::kunit_suite>);

// SAFETY: Only KUnit touches the suite, under its own `kunit_run_lock`.
unsafe impl Sync for Suite {}

impl Suite {
    /// A suite called `name` (at most 255 bytes) that runs `cases`.
    pub const fn new<const N: usize>(name: &'static str, cases: &'static Cases<N>) -> Self {
        let bytes = name.as_bytes();
        assert!(bytes.len() < 256, "a suite's name has at most 255 bytes");
        let mut name = [0; 256];
        let mut i = 0;
        while i < bytes.len() {
            name[i] = bytes[i] as _;
            i += 1;
        }
        Self(UnsafeCell::new(bindings::kunit_suite {
            name,
            suite_init: None,
            suite_exit: None,
            init: None,
            exit: None,
            test_cases: cases.0.get().cast(),
            attr: bindings::kunit_attributes { speed: 0 },
            status_comment: [0; 256],
            debugfs: core::ptr::null_mut(),
            log: core::ptr::null_mut(),
            suite_init_err: 0,
            is_init: false,
        }))
    }
}

/// An entry of the `.kunit_test_suites` section: a pointer to a suite.
#[repr(transparent)]
pub struct SuiteEntry(pub *const Suite);

// SAFETY: The pointer is to a `static` `Suite`, which is `Sync`.
unsafe impl Sync for SuiteEntry {}

/// Declares a KUnit suite of the given case functions, run when the module loads.
///
/// ```ignore
/// fn adds(test: &mut Test<'_>) { kunit_expect!(test, 1 + 1 == 2); }
/// kunit_suite!("arithmetic", [adds]);
/// ```
#[macro_export]
macro_rules! kunit_suite {
    ($name:literal, [$($case:ident),+ $(,)?]) => {
        const _: () = {
            static CASES: $crate::common::kunit::Cases<
                { [$(::core::stringify!($case)),+].len() + 1 },
            > = $crate::common::kunit::Cases::new([
                $({
                    struct Case;
                    impl $crate::common::kunit::Case for Case {
                        fn run(test: &mut $crate::common::kunit::Test<'_>) {
                            $case(test)
                        }
                    }
                    $crate::common::kunit::case::<Case>(::kernel::c_str!(
                        ::core::stringify!($case)
                    ))
                },)+
                $crate::common::kunit::end_of_cases(),
            ]);
            static SUITE: $crate::common::kunit::Suite =
                $crate::common::kunit::Suite::new($name, &CASES);
            // The module loader collects the suites of this section (C's
            // `kunit_test_suites()`).
            #[used]
            #[allow(unsafe_code)]
            #[link_section = ".kunit_test_suites"]
            static ENTRY: $crate::common::kunit::SuiteEntry =
                $crate::common::kunit::SuiteEntry(&SUITE);
        };
    };
}
