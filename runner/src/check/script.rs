// SPDX-License-Identifier: GPL-2.0

//! The shell steps that exercise a module in the VM, through the lab's interface only.
//!
//! The steps gather evidence and decide nothing: [`super::checks`] judges it on the host.
//! Files are printed between `@@file NAME BYTES LASTBYTE` and `@@end` lines, so the host
//! sees their exact bytes.

use super::Subject;

/// Shell functions every module's steps use; defined once at the start of the VM.
pub(super) const PRELUDE: &str = r#"
# A hung task (a module that left its lock held) panics the VM within seconds, with the
# blocked task's report, rather than at the run's timeout.
echo 10 > /proc/sys/kernel/hung_task_timeout_secs
SYS=/sys/kernel/taskmonitor
D=/sys/kernel/debug/taskmonitor
F=/sys/kernel/debug/failslab
show() {
  printf '@@file %s %s %s\n' "$1" "$(wc -c < "$2")" "$(tail -c 1 "$2" | xxd -p)"
  cat "$2"; printf '\n@@end\n'
}
# The shrinker's count (0 when it reports none), and the cache's objects in use: after a
# `shrink`, which flushes the CPUs' slabs, whose free objects `objects` counts as used.
count() { c=; [ -n "$S" ] && c=$(cut -d' ' -f2 $S/count 2>/dev/null | head -n 1); echo ${c:-0}; }
objs() {
  o=; [ -n "$C" ] && { echo 1 > $C/shrink; o=$(cut -d' ' -f1 $C/objects 2>/dev/null); }
  echo ${o:-0}
}
# The taint flags, and whether lockdep is on (-1 without lockdep).
health() {
  l=$(grep debug_locks: /proc/lockdep_stats 2>/dev/null | tr -dc 0-9)
  echo "health $(cat /proc/sys/kernel/tainted) ${l:--1}"
}
# The debugfs file, read for 10 s and 4 MB at most: a seq_file whose `next` never ends
# would fill memory, then hang the run.
dbg() { timeout 10 cat $D 2>/dev/null | head -c 4000000; }
# What the history looks like through the module's files.
sig() { echo $(count) $(cat $SYS 2>/dev/null | md5sum) $(dbg | md5sum); }
# A process that burns CPU in user space, a child of this shell (so `wait` reaps it): $!.
burner() { sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & }
"#;

/// How long to let the module sample: it samples at 200 Hz with `frequency=200`, at the
/// lab's 1 Hz without the parameter.
pub(super) struct Pace {
    /// Seconds of sampling that give a handful of samples.
    pub(super) short: &'static str,
    /// Seconds between two readings of a history that must hold still.
    still: &'static str,
}

pub(super) fn pace(subject: &Subject) -> Pace {
    if subject.frequency {
        Pace {
            short: "0.5",
            still: "0.3",
        }
    } else {
        Pace {
            short: "3",
            still: "2.5",
        }
    }
}

/// The steps of one module, named `PREFIX:step`.
pub(super) fn steps(subject: &Subject, prefix: &str) -> Vec<(String, String)> {
    let task = subject.task;
    let pace = pace(subject);
    let freq = if subject.frequency {
        " frequency=200"
    } else {
        ""
    };
    let mut steps = Vec::new();
    // Each step marks the kernel log, so a report there can be read against the steps.
    let mut step = |name: &str, cmd: String| {
        let mark = format!("echo 'taskmonitor-check: {prefix} {name}' > /dev/kmsg\n");
        steps.push((format!("{prefix}:{name}"), mark + &cmd))
    };

    step(
        "load",
        format!(
            r#"health; ls /sys/kernel/debug/shrinker > /tmp/shr0; ls /sys/kernel/slab > /tmp/slab0
burner; A=$!; S=; C=; CS=; echo "target $A"
insmod /lib/modules/{prefix}.ko target=$A{freq}; echo "status $?"
for d in $(ls /sys/kernel/debug/shrinker | grep -vxF -f /tmp/shr0); do
  echo "shrinker $d"; S=/sys/kernel/debug/shrinker/$d; done
for c in $(ls /sys/kernel/slab | grep -vxF -f /tmp/slab0); do
  echo "cache $c"; CS="$CS /sys/kernel/slab/$c"
  case "$C" in *sample*) ;; *) C=/sys/kernel/slab/$c ;; esac; done"#
        ),
    );
    let debugfs = if task >= 6 { "dbg > /tmp/g3; " } else { "" };
    let show_debugfs = if task >= 6 { "; show g3 /tmp/g3" } else { "" };
    step(
        "grow",
        format!(
            "sleep {short}; cat $SYS > /tmp/g1; echo \"status $?\"; sleep {short}; \
             cat $SYS > /tmp/g2; {debugfs}echo count $(count) objects $(objs); \
             show g1 /tmp/g1; show g2 /tmp/g2{show_debugfs}",
            short = pace.short
        ),
    );
    if task >= 4 {
        // Every allocation from the module's cache fails, GFP_KERNEL ones too.
        step(
            "failslab",
            format!(
                r#"if [ -z "$C" ]; then echo "no cache"; else
echo Y > $F/cache-filter; echo N > $F/ignore-gfp-wait; echo 0 > $F/verbose
echo -1 > $F/times; echo 1 > $F/interval; echo 100 > $F/probability
# Every new cache fails. Counted right after the switch, without a fork: a sample allocated
# before it is not taken for the reserve's, and a small reserve is not used up unseen.
for c in $CS; do echo 1 > $c/failslab; done; read -r _ c0 < $S/count
c0=${{c0:-0}}; sleep {short}; c1=$(count); sleep {short}; c2=$(count)
echo 0 > $F/probability; for c in $CS; do echo 0 > $c/failslab; done
t=0; until [ $(count) -gt $c2 ] || [ $t -ge 60 ]; do usleep 100000; t=$((t + 1)); done
echo "failslab $c0 $c1 $c2 $(count)"; fi"#,
                short = pace.short
            ),
        );
    }
    if task >= 5 {
        // Readers and the shrinker at once, while the thread samples.
        // Then sampling fills the history again.
        step(
            "concurrent",
            format!("(for i in $(seq 15); do echo 2 > /proc/sys/vm/drop_caches; done) & W=$!
bad=0; for i in $(seq 15); do cat $SYS > /tmp/r; grep -qvE '^pid[[:space:]]+[0-9]+[[:space:]]+usr[[:space:]]+[0-9]+[[:space:]]+sys[[:space:]]+[0-9]+' /tmp/r && bad=$((bad + 1)); done
wait $W; echo \"malformed $bad of 15\"; sleep {short}",
                short = pace.short
            ),
        );
    }
    step(
        "still",
        format!(
            "{fill}kill $A; wait $A 2>/dev/null; p=; for i in $(seq 20); do q=$(sig); \
             [ \"$q\" = \"$p\" ] && break; p=$q; sleep {still}; done; \
             [ \"$q\" = \"$p\" ] && echo still || echo moving; echo count $(count) objects $(objs); \
             cat $SYS > /tmp/s0; show s0 /tmp/s0",
            still = pace.still,
            // Enough samples for the scan of 5 to leave some (the lab's 1 Hz is slow).
            fill = if task >= 2 {
                "t=0; until [ -z \"$S\" ] || [ $(count) -ge 8 ] || [ $t -ge 150 ]; do \
                 usleep 100000; t=$((t + 1)); done; "
            } else {
                ""
            }
        ),
    );
    if task >= 6 {
        step(
            "reads",
            "dbg > /tmp/d0; show d0 /tmp/d0; \
             for bs in 1 7 4096 65536; do echo \"bs $bs $(timeout 10 dd if=$D bs=$bs 2>/dev/null | head -c 4000000 | md5sum)\"; done; \
             echo \"cat $(md5sum < /tmp/d0)\""
                .to_string(),
        );
    }
    if task >= 2 {
        let (before, after) = if task >= 6 {
            (
                "dbg > /tmp/x0; ",
                "dbg > /tmp/x1; show x0 /tmp/x0; show x1 /tmp/x1; ",
            )
        } else {
            ("", "")
        };
        step(
            "scan",
            format!(
                "if [ -z \"$S\" ]; then echo 'no shrinker'; else c0=$(count); {before}\
                 cat $SYS > /tmp/y0; m=$(cut -d' ' -f1 $S/count | head -n 1); \
                 echo \"${{m:-0}} 0 5\" > $S/scan; echo \"status $?\"; c1=$(count); \
                 cat $SYS > /tmp/y1; {after}echo \"count $c0 $c1\"; show y0 /tmp/y0; show y1 /tmp/y1; fi"
            ),
        );
        step(
            "drop",
            // Again while the count falls: with other `seeks`, a pass scans only part.
            "o0=$(objs); c0=$(count); p=$c0; for i in 1 2 3; do \
             echo 2 > /proc/sys/vm/drop_caches; n=$(count); [ $n -lt $p ] || break; p=$n; done; \
             echo \"drop $c0 $(count) $o0 $(objs) $(cat $SYS | wc -l)\"; \
             [ -n \"$C\" ] && echo \"per-slab $(cat $C/objs_per_slab)\"; true"
                .to_string(),
        );
    }
    if task >= 7 {
        step(
            "add",
            format!(
                "burner; B=$!; burner; E=$!; echo $B > $D; sb=$?; echo $E > $D; se=$?; sleep {short}; \
                 dbg > /tmp/m1; echo $B > $D; sd=$?; dbg > /tmp/m2; sleep {short}; \
                 dbg > /tmp/m3; echo \"add $B $sb $E $se dup $sd\"; \
                 show m1 /tmp/m1; show m2 /tmp/m2; show m3 /tmp/m3",
                short = pace.short
            ),
        );
        // Each write is refused; none may change what is monitored or recorded.
        let writes = BAD_WRITES
            .iter()
            .map(|(label, value)| format!("w {label} \"{value}\""))
            .collect::<Vec<_>>()
            .join("; ");
        step(
            "refuse",
            format!(
                "sleep 1000 & Z=$!; sleep 0 & X=$!; wait $X; \
                 w() {{ echo \"$2\" > $D; echo \"write $1 $?\"; }}; \
                 dbg > /tmp/b0; {writes}; dbg > /tmp/b1; sleep {short}; dbg > /tmp/b2; \
                 echo \"pids $Z $X\"; show b0 /tmp/b0; show b1 /tmp/b1; show b2 /tmp/b2",
                short = pace.short
            ),
        );
        step(
            "remove",
            format!(
                "echo -$E > $D; echo \"status $?\"; dbg > /tmp/r1; sleep {short}; \
                 dbg > /tmp/r2; show r1 /tmp/r1; show r2 /tmp/r2",
                short = pace.short
            ),
        );
    }
    step(
        "unload",
        format!(
            "kill $B $E $Z 2>/dev/null; wait $B $E $Z 2>/dev/null; rmmod taskmonitor; echo \"status $?\"; \
             echo \"loaded $(grep -c '^taskmonitor ' /proc/modules)\"; \
             [ -n \"$C\" ] && [ -e \"$C\" ] && echo \"cache left\"; \
             K=/sys/kernel/debug/kmemleak; echo scan > $K; sleep 5; echo scan > $K; \
             echo scan > $K; cat $K; echo clear > $K; health; \
             echo 'taskmonitor-check: end {prefix}' > /dev/kmsg; \
             B=; E=; Z=; true"
        ),
    );
    steps
}

/// The writes to the debugfs file that task 7 must refuse: (label, what `echo` writes).
/// `$Z` is a process that is not monitored, `$X` one that has exited.
pub(super) const BAD_WRITES: &[(&str, &str)] = &[
    ("minus-not-monitored", "-$Z"),
    ("not-a-number", "abc"),
    ("empty", ""),
    ("zero", "0"),
    ("trailing-garbage", "12x"),
    ("exited-process", "$X"),
    ("minus-exited-process", "-$X"),
    ("too-large", "99999999999999999999"),
    ("long", "$(printf '%0300d' 9)9x"),
];
