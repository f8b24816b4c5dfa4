// SPDX-License-Identifier: GPL-2.0

//! Building a student's folder against the project's kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Copies the module folder `src` into `work` and builds it with the kernel tree `kdir`;
/// returns its `taskmonitor.ko`, or an error that says what to fix.
///
/// A copy, so a submission's folder is never written to and no stale `.ko` of it is
/// used; `common/` is linked beside it, so a module that names our wrappers as the stages
/// do (`#[path = "../common/src"]`) builds as well.
pub fn build(src: &Path, work: &Path, kdir: &Path) -> Result<PathBuf, String> {
    if !src.is_dir() {
        return Err(format!("{}: no such folder", src.display()));
    }
    let kbuild = src.join("Kbuild");
    let makefile = src.join("Makefile");
    let has_obj_m = |p: &Path| std::fs::read_to_string(p).is_ok_and(|t| t.contains("obj-"));
    if !has_obj_m(&kbuild) && !has_obj_m(&makefile) {
        return Err(format!(
            "{}: no Kbuild file (or Makefile) with an `obj-m` line: the module must build with \
             `make -C KDIR M=DIR`",
            src.display()
        ));
    }
    let name = src
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "module".into());
    let dir = work.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    copy_sources(src, &dir).map_err(|e| format!("copying {}: {e}", src.display()))?;
    let common = work.join("common");
    if !common.exists() {
        let _ = std::os::unix::fs::symlink(crate::repo_root().join("common"), &common);
    }
    let out = Command::new("make")
        .arg("-C")
        .arg(kdir)
        .arg("LLVM=-19")
        .arg(format!("M={}", dir.display()))
        .arg("modules")
        .output()
        .map_err(|e| format!("cannot run make: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{} does not build:\n{}{}",
            src.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let built: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ko"))
        .collect();
    if built.iter().any(|n| n == "taskmonitor.ko") {
        return Ok(dir.join("taskmonitor.ko"));
    }
    Err(format!(
        "{} builds {}, not taskmonitor.ko: the lab's module is called taskmonitor \
         (`obj-m := taskmonitor.o`, and `name: \"taskmonitor\"` in Rust's `module!`)",
        src.display(),
        if built.is_empty() {
            "no module".to_string()
        } else {
            built.join(", ")
        }
    ))
}

/// Copies the source files of `src` (not its build outputs) into `dst`, folders included.
fn copy_sources(src: &Path, dst: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let target = dst.join(&name);
        let n = name.to_string_lossy();
        if path.is_dir() {
            if !n.starts_with('.') {
                std::fs::create_dir_all(&target)?;
                copy_sources(&path, &target)?;
            }
        } else if !is_build_output(&n) {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

fn is_build_output(name: &str) -> bool {
    [
        ".o", ".ko", ".mod", ".mod.c", ".cmd", ".order", ".symvers", ".d",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}
