// SPDX-License-Identifier: GPL-2.0

//! Module parameters (`insmod taskmonitor.ko target=PID`).
//!
//! 6.12's `module!` has no `params`, so [`module_param!`](crate::module_param) does what C's
//! `module_param()` does: a `struct kernel_param` in the `__param` section, which the module
//! loader parses the `insmod` arguments against before `init` runs, using the kernel's own
//! `param_ops_int`/`param_ops_uint`, and `parm`/`parmtype` strings in `.modinfo` for
//! `modinfo`.

use core::cell::UnsafeCell;
use kernel::{bindings, str::CStr};

/// The storage of a module parameter of type `T`, written by the kernel's parser.
///
/// # Invariants
///
/// The kernel writes the value only while it parses the `insmod` arguments, before the
/// module's `init` runs. The parameter is registered read-only (mode 0444), so nothing
/// writes it afterwards.
#[repr(transparent)]
pub struct Param<T>(UnsafeCell<T>);

// SAFETY: After `init` starts the value is never written (type invariant), so shared
// reads from any thread are fine.
unsafe impl<T: Copy + Send> Sync for Param<T> {}

impl<T: Copy> Param<T> {
    /// A parameter that holds `default` unless `insmod` sets it.
    pub const fn new(default: T) -> Self {
        Self(UnsafeCell::new(default))
    }

    /// The value given to `insmod`, or the default.
    pub fn get(&self) -> T {
        // SAFETY: No writer exists once the module runs (type invariant).
        unsafe { *self.0.get() }
    }
}

/// A `struct kernel_param`, the entry of the `__param` section that describes one parameter.
#[repr(transparent)]
pub struct KernelParam(bindings::kernel_param);

// SAFETY: The descriptor is never changed after it is built; the kernel only reads it and
// writes through `arg`, a `Param` whose `Sync` impl covers that.
unsafe impl Sync for KernelParam {}

/// A Rust type that a kernel `param_ops_*` parses into.
///
/// # Safety
///
/// `OPS` must be the kernel's `param_ops_*` of the C type with `Self`'s layout: they
/// write through the parameter's pointer as that type.
pub unsafe trait ParamType: Copy + Send + 'static {
    /// The kernel's parser and printer for this type.
    const OPS: *const bindings::kernel_param_ops;
}

// SAFETY: `param_ops_int` parses a C `int`, which is an `i32`.
unsafe impl ParamType for i32 {
    const OPS: *const bindings::kernel_param_ops = &raw const bindings::param_ops_int;
}

// SAFETY: `param_ops_uint` parses a C `unsigned int`, which is a `u32`.
unsafe impl ParamType for u32 {
    const OPS: *const bindings::kernel_param_ops = &raw const bindings::param_ops_uint;
}

impl KernelParam {
    /// Describes the parameter `name`, stored in `value`, of the module `module`, parsed
    /// by `T`'s `param_ops_*`. Use [`module_param!`].
    ///
    /// # Safety
    ///
    /// `module` must be this module (`THIS_MODULE`): the kernel holds it while the
    /// parameter's file in `/sys/module` is in use.
    ///
    /// [`module_param!`]: crate::module_param
    pub const unsafe fn new<T: ParamType>(
        name: &'static CStr,
        module: *mut bindings::module,
        value: &'static Param<T>,
    ) -> Self {
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: module,
            ops: T::OPS,
            perm: 0o444,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: value.0.get().cast(),
            },
        })
    }
}

/// Copies `s` into an array, for the `.modinfo` strings (`N` must be `s.len()`).
pub const fn modinfo<const N: usize>(s: &str) -> [u8; N] {
    let bytes = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Declares a module parameter, like C's `module_param()` plus `MODULE_PARM_DESC()`.
///
/// `module_param!(TARGET: i32 = 0, "target", "PID of the process to monitor");` defines
/// `static TARGET: Param<i32>`, set by `insmod taskmonitor.ko target=123`. Supported types:
/// `i32` (C `int`) and `u32` (C `uint`).
#[macro_export]
macro_rules! module_param {
    ($static:ident : i32 = $default:expr, $name:literal, $desc:literal) => {
        $crate::module_param!(@param $static, i32, $default, $name, $desc, "int");
    };
    ($static:ident : u32 = $default:expr, $name:literal, $desc:literal) => {
        $crate::module_param!(@param $static, u32, $default, $name, $desc, "uint");
    };
    // The parser comes from `$ty` itself (`ParamType`), so no arm can pair a type with
    // another type's parser; `$c_type` only names it for `modinfo`.
    (@param $static:ident, $ty:ty, $default:expr, $name:literal, $desc:literal,
     $c_type:literal) => {
        static $static: $crate::common::params::Param<$ty> =
            $crate::common::params::Param::new($default);

        const _: () = {
            // `module!` defines it too, but inside modules of its own.
            #[allow(improper_ctypes)]
            extern "C" {
                static __this_module: ::kernel::types::Opaque<::kernel::bindings::module>;
            }
            const NAME: &::kernel::str::CStr = ::kernel::c_str!($name);
            const TYPE: &str = concat!("parmtype=", $name, ":", $c_type, "\0");
            const DESC: &str = concat!("parm=", $name, ":", $desc, "\0");

            // The sections of C's `module_param()`. `used(compiler)`, as in `module!`: a
            // linker-retained section would not merge with the other `.modinfo` strings.
            //
            // `link_section` is sound here (lint `unsafe_code`): `__param` is an array of
            // `struct kernel_param`, which the module loader walks; `KernelParam` is a
            // transparent `kernel_param`, `Sync`, and aligned as the other entries.
            #[allow(unsafe_code)]
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: $crate::common::params::KernelParam =
                // SAFETY: `__this_module` is this module.
                unsafe {
                    $crate::common::params::KernelParam::new(
                        NAME,
                        ::core::ptr::addr_of!(__this_module).cast_mut().cast(),
                        &$static,
                    )
                };
            // Sound: `.modinfo` is a sequence of NUL-terminated `key=value` strings of
            // alignment 1; `modinfo()` ends `TYPE` with its NUL, in a byte array.
            #[allow(unsafe_code)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; TYPE.len()] = $crate::common::params::modinfo(TYPE);
            // Sound as `PARMTYPE` is.
            #[allow(unsafe_code)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; DESC.len()] = $crate::common::params::modinfo(DESC);
        };
    };
}
