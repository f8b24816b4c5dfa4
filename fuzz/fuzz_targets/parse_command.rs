// SPDX-License-Identifier: GPL-2.0

//! Fuzzes `parse_command`, which reads whatever a user writes to the debugfs file.
//!
//! Checks properties, not only the absence of panics: every verdict equals the one of a
//! small reference model written here independently (leading zeros stripped, the PID
//! compared by length and in `u64`, instead of a checked fold); longer writes than
//! `MAX_COMMAND` are `TooLong`; an accepted write is exactly an optional `-`, ASCII
//! digits and one optional `\n`; a PID printed back as `p`/`-p`, with and without `\n`,
//! parses to the same command; a write without its newline gets the verdict it gets
//! with one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskmonitor_common::command::{parse_command, Command, ParseError, MAX_COMMAND};

/// The reference model: the same contract, computed another way.
fn model(input: &[u8]) -> Result<Command, ParseError> {
    if input.len() > MAX_COMMAND {
        return Err(ParseError::TooLong);
    }
    let body = match input {
        [rest @ .., b'\n'] => rest,
        _ => input,
    };
    let (remove, digits) = match body {
        [] => return Err(ParseError::Empty),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, body),
    };
    if digits.is_empty() || digits.iter().any(|d| d.wrapping_sub(b'0') > 9) {
        return Err(ParseError::NotANumber);
    }
    let first = digits.iter().position(|&d| d != b'0');
    let significant = first.map_or(&[][..], |i| &digits[i..]);
    // `i32::MAX` has 10 digits: more can only overflow, and 10 fit in a u64.
    if significant.len() > 10 {
        return Err(ParseError::Overflow);
    }
    let value = significant
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    match i32::try_from(value) {
        Err(_) => Err(ParseError::Overflow),
        Ok(0) => Err(ParseError::Zero),
        Ok(pid) if remove => Ok(Command::Remove(pid)),
        Ok(pid) => Ok(Command::Add(pid)),
    }
}

/// The text a user writes for `command`, as `echo` writes it when `newline`.
fn print(command: Command, newline: bool) -> Vec<u8> {
    let text = match command {
        Command::Add(pid) => format!("{pid}"),
        Command::Remove(pid) => format!("-{pid}"),
    };
    let mut bytes = text.into_bytes();
    if newline {
        bytes.push(b'\n');
    }
    bytes
}

/// Whether `input` is an optional `-`, one or more ASCII digits, an optional `\n`.
fn is_command_shaped(input: &[u8]) -> bool {
    let input = input.strip_suffix(b"\n").unwrap_or(input);
    let digits = input.strip_prefix(b"-").unwrap_or(input);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

fuzz_target!(|input: &[u8]| {
    let parsed = parse_command(input);
    assert_eq!(parsed, model(input), "model disagrees on {input:?}");

    if input.len() > MAX_COMMAND {
        assert_eq!(parsed, Err(ParseError::TooLong), "{input:?}");
    }

    if let Ok(command) = parsed {
        assert!(is_command_shaped(input), "accepted {input:?}");
        let pid = match command {
            Command::Add(pid) | Command::Remove(pid) => pid,
        };
        assert!(pid > 0, "{input:?} gave {command:?}");
        // Whatever zeros or newline the user wrote, the canonical text means the same.
        for newline in [false, true] {
            let text = print(command, newline);
            assert_eq!(parse_command(&text), Ok(command), "round trip of {text:?}");
        }
    }

    // The newline `echo` appends never changes the verdict.
    if input.len() < MAX_COMMAND && input.last() != Some(&b'\n') {
        let mut echoed = input.to_vec();
        echoed.push(b'\n');
        assert_eq!(parse_command(&echoed), parsed, "{input:?} vs {echoed:?}");
    }

    // Every PID, read from the first 4 bytes, prints and parses back, either way.
    if let Some(bytes) = input.first_chunk::<4>() {
        let pid = (u32::from_le_bytes(*bytes) & i32::MAX as u32) as i32;
        let pid = pid.max(1);
        for command in [Command::Add(pid), Command::Remove(pid)] {
            for newline in [false, true] {
                let text = print(command, newline);
                assert_eq!(parse_command(&text), Ok(command), "{text:?}");
            }
        }
    }
});
