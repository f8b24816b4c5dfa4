// SPDX-License-Identifier: GPL-2.0

//! Fuzzes `fill_page`, which fills the page a `read()` of the module's files returns.
//!
//! Checks its contract on pages of 0 to 8192 bytes and any samples: it returns at most
//! the page's length and writes nothing past what it returns; the bytes written are the
//! first `k` formatted lines exactly, whole lines only; `k` is maximal (the next line
//! does not fit, or is longer than `MAX_LINE`, which ends the output too). Besides
//! samples, lines of 1 to 256 bytes made of `x` probe the `MAX_LINE` limit itself. Every
//! sample's line is also compared with what `writeln!` and core's integer formatting
//! write, which `Line`'s own decimal formatter must match byte for byte.
//!
//! Input layout (how `arbitrary` decodes it, for crafting seeds; integers little-endian,
//! missing bytes read as zeros): `page_len: u16` (taken modulo 8193), `repeat: u8` (the
//! items are written `1 + repeat` times over), then per item one byte whose low bit says
//! "one more item", a `u32` whose top bit picks `Text` over `Sample`, and the variant:
//! `Sample` is `pid: i32` then `utime`, `stime`, `total_kb`, `stack_kb`, `data_kb` as
//! `u64`; `Text` is `width: u8`.
#![no_main]

use std::fmt::{self, Display};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use taskmonitor_common::format::{fill_page, Line, TaskStats, MAX_LINE};

/// The largest page tried: two 4 KiB pages, to cross the usual size both ways.
const MAX_PAGE: usize = 8192;

/// What the page is filled with beforehand, to see any byte written past the output.
const CANARY: u8 = 0xAA;

#[derive(Arbitrary, Debug)]
struct Input {
    page_len: u16,
    repeat: u8,
    items: Vec<Item>,
}

#[derive(Arbitrary, Clone, Copy, Debug)]
enum Item {
    Sample {
        pid: i32,
        utime: u64,
        stime: u64,
        total_kb: u64,
        stack_kb: u64,
        data_kb: u64,
    },
    /// `width` bytes `x` and a newline, written in pieces as a formatter would.
    Text { width: u8 },
}

impl Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Item::Sample {
                pid,
                utime,
                stime,
                total_kb,
                stack_kb,
                data_kb,
            } => {
                let stats = TaskStats {
                    utime,
                    stime,
                    total_kb,
                    stack_kb,
                    data_kb,
                };
                Line { pid, stats }.fmt(f)
            }
            Item::Text { width } => {
                for _ in 0..width {
                    f.write_str("x")?;
                }
                f.write_str("\n")
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let page_len = usize::from(input.page_len) % (MAX_PAGE + 1);
    let items = || (0..=input.repeat).flat_map(|_| input.items.iter().copied());

    let mut page = vec![CANARY; page_len];
    let used = fill_page(&mut page, items());

    assert!(used <= page_len, "{used} > {page_len}");
    assert!(
        page[used..].iter().all(|&b| b == CANARY),
        "wrote past {used} bytes"
    );

    // The output is the first k lines, whole.
    let mut expected = Vec::new();
    let mut lines = items().map(|item| item.to_string());
    let mut next = lines.next();
    while let Some(line) = next.as_ref() {
        if expected.len() + line.len() > used {
            break;
        }
        expected.extend_from_slice(line.as_bytes());
        next = lines.next();
    }
    assert_eq!(&page[..used], &expected[..], "not the first lines, whole");

    // And k is as large as it can be: the next line was refused for a reason.
    if let Some(line) = next {
        assert!(
            line.len() > MAX_LINE || used + line.len() > page_len,
            "stopped before a {}-byte line with {} of {page_len} bytes free",
            line.len(),
            page_len - used
        );
    }

    // Every real sample is formatted as core formats it, and fits the limit: only `Text`
    // lines may exceed it.
    for item in &input.items {
        if let Item::Sample {
            pid,
            utime,
            stime,
            total_kb,
            stack_kb,
            data_kb,
        } = *item
        {
            let line = item.to_string();
            let reference = format!(
                "pid {pid} usr {utime} sys {stime} total {total_kb} stack {stack_kb} data {data_kb}\n"
            );
            assert_eq!(line, reference, "not core's formatting");
            assert!(
                line.len() <= MAX_LINE,
                "{} > {MAX_LINE}: {line}",
                line.len()
            );
        }
    }
});
