// SPDX-License-Identifier: GPL-2.0

//! Misuse of the `common/` wrappers is refused at build time: `runner/misuse/misuse.rs`
//! builds as a module (in a copy of its folder and of `common/`), and each of its cases,
//! safe code that would break a wrapper's invariant, fails to compile with the error that
//! says why. On the code before the fixes each of these compiled.

use runner::{kdir, repo_root};
use std::path::Path;
use std::process::Command;

/// Each case, and what the compiler must say about it.
const CASES: &[(&str, &str)] = &[
    (
        "second_cache_static",
        "call to unsafe function `KmemCache::<T>::new`",
    ),
    (
        "second_cache_macro",
        "conflicting implementations of trait `Cached`",
    ),
    ("second_pool", "call to unsafe function `Mempool::<T>::new`"),
    ("fops_owner", "call to unsafe function `Fops::<T>::new`"),
    ("kernel_param", "call to unsafe function `KernelParam::new`"),
    (
        "param_type",
        "the trait bound `u64: ParamType` is not satisfied",
    ),
    ("zero_sized_cache", "slab objects need a size"),
    ("zero_sized_ksize", "a zero-sized type is not allocated"),
    ("push_shared", "UniqueOwner` is not satisfied"),
    ("macro_bypass", "implementation of an `unsafe` trait"),
    ("shared_refcount", "mismatched types"),
    ("deref_refcount", "does not have a field named `refs`"),
    (
        "packed_links",
        "reference to field of packed struct is unaligned",
    ),
    (
        "unchecked_module",
        "modpost: \"__taskmonitor_checked_module\"",
    ),
];

/// Builds the module in `dir` with `--cfg misuse_CASE` (none for `None`): success, and
/// what the compiler printed.
fn build(dir: &Path, case: Option<&str>) -> (bool, String) {
    let flags = case.map_or(String::new(), |c| format!("--cfg misuse_{c}"));
    let out = Command::new("make")
        .arg("-C")
        .arg(kdir())
        .arg(format!("M={}", dir.display()))
        .args(["LLVM=-19", "-s"])
        .arg(format!("KRUSTFLAGS={flags}"))
        .arg("modules")
        .output()
        .expect("make");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let keep = name == "Kbuild" || path.extension().is_some_and(|e| e == "rs");
        if path.is_file() && keep {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

#[test]
fn misuse_of_the_wrappers_does_not_compile() {
    let root = repo_root();
    let tmp = tempfile::tempdir().unwrap();
    // The same layout as the repository: the module finds `../../common/src`.
    let dir = tmp.path().join("runner/misuse");
    copy_dir(&root.join("runner/misuse"), &dir);
    copy_dir(&root.join("common/src"), &tmp.path().join("common/src"));

    let (ok, text) = build(&dir, None);
    assert!(ok, "the module without a misuse must build:\n{text}");
    for (case, expected) in CASES {
        let (ok, text) = build(&dir, Some(case));
        assert!(!ok, "{case}: built, but must not:\n{text}");
        assert!(
            text.contains(expected),
            "{case}: refused, but not with `{expected}`:\n{text}"
        );
    }
}
