// SPDX-License-Identifier: GPL-2.0

//! The commands written to `/sys/kernel/debug/taskmonitor` (Task 7): `312` starts
//! monitoring PID 312, `-312` stops it.
//!
//! Pure logic, unit-tested on the host over every malformed input.

/// A parsed command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start monitoring this PID.
    Add(i32),
    /// Stop monitoring this PID.
    Remove(i32),
}

/// Why a write is not a command. Every case is `EINVAL` for the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but an optional newline.
    Empty,
    /// A character that is not a digit, or a sign with no digits.
    NotANumber,
    /// More than a PID can hold.
    Overflow,
    /// `0` or `-0`: not a process.
    Zero,
    /// Longer than [`MAX_COMMAND`]: refused without being read.
    TooLong,
}

/// The longest write accepted, newline included: `-2147483648\n` is 12 bytes.
pub const MAX_COMMAND: usize = 32;

/// Parses one write: an optional `-`, decimal digits, and the newline `echo` appends.
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    if input.len() > MAX_COMMAND {
        return Err(ParseError::TooLong);
    }
    let input = input.strip_suffix(b"\n").unwrap_or(input);
    if input.is_empty() {
        return Err(ParseError::Empty);
    }
    let (remove, digits) = match input.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::NotANumber);
    }
    let pid = digits.iter().try_fold(0i32, |n, &d| {
        n.checked_mul(10)?.checked_add(i32::from(d - b'0'))
    });
    match pid {
        None => Err(ParseError::Overflow),
        Some(0) => Err(ParseError::Zero),
        Some(pid) if remove => Ok(Command::Remove(pid)),
        Some(pid) => Ok(Command::Add(pid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command::*;
    use ParseError::*;

    #[test]
    fn commands() {
        assert_eq!(parse_command(b"312\n"), Ok(Add(312)));
        assert_eq!(parse_command(b"312"), Ok(Add(312)));
        assert_eq!(parse_command(b"-312\n"), Ok(Remove(312)));
        assert_eq!(parse_command(b"0007"), Ok(Add(7)));
        assert_eq!(parse_command(b"2147483647"), Ok(Add(i32::MAX)));
        assert_eq!(parse_command(b"-2147483647\n"), Ok(Remove(i32::MAX)));
    }

    #[test]
    fn malformed() {
        let cases: &[(&[u8], ParseError)] = &[
            (b"", Empty),
            (b"\n", Empty),
            (b"-", NotANumber),
            (b"-\n", NotANumber),
            (b"+312", NotANumber),
            (b"abc", NotANumber),
            (b"12a", NotANumber),
            (b"312 ", NotANumber),
            (b" 312", NotANumber),
            (b"312\n\n", NotANumber),
            (b"3 12", NotANumber),
            (b"--312", NotANumber),
            (b"0x10", NotANumber),
            (b"\xff", NotANumber),
            (b"2147483648", Overflow),
            (b"-2147483648\n", Overflow),
            (b"99999999999999999999", Overflow),
            (b"0", Zero),
            (b"-0\n", Zero),
            (b"000", Zero),
            (&[b'1'; MAX_COMMAND + 1], TooLong),
        ];
        for (input, error) in cases {
            assert_eq!(parse_command(input), Err(*error), "{input:?}");
        }
    }

    #[test]
    fn the_longest_accepted_write() {
        let mut input = [b'0'; MAX_COMMAND];
        input[MAX_COMMAND - 2] = b'5';
        input[MAX_COMMAND - 1] = b'\n';
        assert_eq!(parse_command(&input), Ok(Add(5)));
    }
}
