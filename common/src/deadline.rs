// SPDX-License-Identifier: GPL-2.0

//! The deadlines of a periodic thread (`Stopper::sleep_until_next` in `kthread.rs`).
//!
//! Pure logic, unit-tested on the host: times are nanoseconds of the monotonic clock.

// ANCHOR: next_deadline
/// The deadline that follows `previous`, for a thread that is at `now` and takes one
/// sample per `period`: it sleeps until the deadline if it is ahead, and samples at once
/// if it has passed.
///
/// Deadlines do not drift: each one is the previous plus the period, whenever the thread
/// got there, so the time spent between two sleeps comes out of the next sleep. A thread
/// that missed that deadline by less than a period catches up: the deadline has passed,
/// so it samples at once, a little late. A thread that missed it by a whole period or
/// more (its CPU was taken away) skips the deadlines it missed and gets the first one
/// after `now`, on the same grid, rather than all the missed ones at once: no burst of
/// samples.
pub fn next_deadline(previous: i64, period: i64, now: i64) -> i64 {
    let period = period.max(1);
    let next = previous.saturating_add(period);
    if now.saturating_sub(next) < period {
        return next;
    }
    let missed = (now - next) / period + 1;
    next.saturating_add(missed.saturating_mul(period))
}
// ANCHOR_END: next_deadline

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn on_time_the_next_deadline_is_one_period_on() {
        assert_eq!(next_deadline(0, MS, 300_000), MS);
        assert_eq!(next_deadline(5 * MS, MS, 5 * MS), 6 * MS);
        // The sample took 0.9 periods: the sleep is 0.1 period, the grid is kept.
        assert_eq!(next_deadline(0, MS, MS - 1), MS);
    }

    #[test]
    fn late_by_less_than_a_period_catches_up() {
        // The deadline has passed: the thread samples at once.
        assert_eq!(next_deadline(0, MS, MS), MS);
        assert_eq!(next_deadline(0, MS, 2 * MS - 1), MS);
    }

    #[test]
    fn late_by_a_period_or_more_skips_to_the_grid() {
        assert_eq!(next_deadline(0, MS, 2 * MS), 3 * MS);
        assert_eq!(next_deadline(0, MS, 7 * MS + 300_000), 8 * MS);
        assert_eq!(next_deadline(0, 10 * MS, 95 * MS), 100 * MS);
    }

    #[test]
    fn on_the_grid_and_never_a_period_behind() {
        for period in [1, 7, MS, 333_333_333, 1_000_000_000] {
            for previous in [0, 12_345, 10 * period] {
                for late in [
                    0,
                    1,
                    period - 1,
                    period,
                    2 * period - 1,
                    2 * period,
                    1000 * period + 3,
                ] {
                    let now = previous + late;
                    let next = next_deadline(previous, period, now);
                    assert!(now - next < period, "{previous} {period} {now}: behind");
                    assert!(next - now <= period, "{previous} {period} {now}: too far");
                    assert_eq!((next - previous) % period, 0, "off the grid");
                    assert!(next > previous);
                }
            }
        }
    }

    /// Samples taken by a thread whose sample `i` takes `cost(i)` nanoseconds, from `0`
    /// to `end`, and the most taken with no sleep between them.
    fn run(period: i64, end: i64, cost: impl Fn(i64) -> i64) -> (i64, i64) {
        let (mut deadline, mut now, mut samples, mut run, mut longest) = (0, 0, 0, 0, 0);
        while now < end {
            now += cost(samples);
            samples += 1;
            deadline = next_deadline(deadline, period, now);
            if deadline > now {
                now = deadline;
                run = 0;
            } else {
                run += 1;
                longest = longest.max(run);
            }
        }
        (samples, longest)
    }

    #[test]
    fn a_thousand_periods_take_a_thousand_samples() {
        // Each sample takes 0.4 to 0.9 of a period: none is lost, the thread always sleeps.
        let (samples, longest) = run(MS, 1000 * MS, |i| (4 + i % 6) * MS / 10);
        assert_eq!((samples, longest), (1000, 0));
        // One sample in ten takes 1.5 periods: the next one catches up.
        let (samples, longest) = run(
            MS,
            1000 * MS,
            |i| if i % 10 == 0 { 15 } else { 3 } * MS / 10,
        );
        assert_eq!((samples, longest), (1000, 1));
    }

    #[test]
    fn a_stall_loses_the_periods_it_took_without_a_burst() {
        // One sample stalls for 50 periods: the thread takes the next deadline on the grid.
        let (samples, longest) = run(MS, 1000 * MS, |i| if i == 100 { 50 * MS } else { MS / 2 });
        assert_eq!(samples, 1000 - 50);
        assert_eq!(longest, 0);
        // Samples slower than the period: never more than one without a sleep.
        let (samples, longest) = run(MS, 1000 * MS, |_| 3 * MS / 2);
        assert!(longest <= 1, "{longest} samples without a sleep");
        assert!(samples < 1000);
    }

    #[test]
    fn extremes_saturate() {
        assert_eq!(next_deadline(i64::MAX - 1, MS, 0), i64::MAX);
        assert_eq!(next_deadline(0, 0, 0), 1);
        assert_eq!(next_deadline(0, i64::MAX, 5), i64::MAX);
    }
}
