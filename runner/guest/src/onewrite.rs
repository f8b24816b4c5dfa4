// SPDX-License-Identifier: GPL-2.0

//! `onewrite SOURCE DEST`: writes the bytes of SOURCE to DEST in exactly one `write(2)`.
//!
//! A command file takes each `write(2)` as one command, and the shell cannot make some of
//! them: `printf '' > FILE` makes no `write(2)` at all, where this makes one of length 0.
//! Prints nothing on success; on failure the error (`Invalid argument (os error 22)`) or
//! how many bytes were taken, and exits with 1.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, dest] = args.as_slice() else {
        eprintln!("usage: onewrite SOURCE DEST");
        return ExitCode::from(2);
    };
    let result = fs::read(source).and_then(|bytes| {
        // No O_CREAT, no O_TRUNC: DEST is a command file that must already exist.
        let written = OpenOptions::new().write(true).open(dest)?.write(&bytes)?;
        Ok((written, bytes.len()))
    });
    match result {
        Ok((written, len)) if written == len => ExitCode::SUCCESS,
        Ok((written, len)) => {
            println!("short write: {written} of {len} bytes");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}
