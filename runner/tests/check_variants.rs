// SPDX-License-Identifier: GPL-2.0

//! `make check` catches what it claims to: each variant is the C reference
//! (`c-reference/taskmonitor.c`) with one plausible student bug, made by exact text
//! substitutions, checked at the lowest task that shows the bug; the checks that fail
//! must be exactly those that name it.
//!
//! The variants share two VMs (`check::run` checks modules one after the other); the one
//! that hangs the VM comes last in its VM.

use runner::check::{self, build, Report, Subject};
use std::path::PathBuf;

/// A broken copy of the C reference.
struct Variant {
    name: &'static str,
    /// The task it is checked as.
    task: u32,
    /// `(from, to)`: each `from` occurs exactly once in the C reference.
    edits: &'static [(&'static str, &'static str)],
    /// The checks that must fail.
    expected: &'static [&'static str],
    /// Which other checks may fail as well.
    others: Others,
}

/// The checks a variant may fail besides its expected ones.
enum Others {
    None,
    /// Any: the VM stops, so the checks after its stop fail as not reached.
    Any,
}

impl Variant {
    /// Writes the variant's source beside a copy of the Kbuild file, builds it, and
    /// returns it as a subject.
    fn subject(&self) -> Subject {
        let root = runner::repo_root();
        let reference = root.join("c-reference");
        let mut c = std::fs::read_to_string(reference.join("taskmonitor.c")).unwrap();
        for (from, to) in self.edits {
            assert_eq!(
                c.matches(from).count(),
                1,
                "variant {}: {from:?} must occur exactly once in c-reference/taskmonitor.c",
                self.name
            );
            c = c.replacen(from, to, 1);
        }
        let work = root.join("target/check/variants");
        let src: PathBuf = work.join("src").join(self.name);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("taskmonitor.c"), c).unwrap();
        std::fs::copy(reference.join("Kbuild"), src.join("Kbuild")).unwrap();
        let ko = build::build(&src, &work, &runner::kdir()).unwrap();
        Subject::new(self.name, ko, self.task).unwrap()
    }
}

/// Checks `variants` in one VM, prints every report, then fails naming each variant whose
/// failed checks are not the expected ones.
fn check(variants: &[Variant]) {
    let subjects: Vec<Subject> = variants.iter().map(Variant::subject).collect();
    let reports: Vec<Report> = check::run(&subjects).unwrap();
    let mut wrong = Vec::new();
    for (report, v) in reports.iter().zip(variants) {
        print!("{}", check::report::text(report));
        let failed = report.failed();
        let may = |_: &&str| matches!(v.others, Others::Any);
        let ok = v.expected.iter().all(|id| failed.contains(id))
            && failed.iter().all(|id| v.expected.contains(id) || may(id));
        if !ok {
            let others = match v.others {
                Others::None => String::new(),
                Others::Any => ", and maybe others".to_string(),
            };
            wrong.push(format!(
                "{} as task {}: failed {failed:?}, expected {:?}{others}",
                v.name, v.task, v.expected
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The lines of the show loop that emit a sample, when it fits, into the sysfs page.
const SHOW_EMIT: &str = "\t\tif (len + n >= PAGE_SIZE)
\t\t\tbreak;
\t\tlen += sysfs_emit_at(buf, len, \"%s\", line);
\t}
";

/// The sample allocation and release, from the pool.
const POOL_ALLOC: &str = "sample = mempool_alloc(sample_pool, GFP_NOWAIT);";
const POOL_FREE: &str = "\tmempool_free(sample, sample_pool);";

/// Shows the newest page oldest first: the lines that fit, printed from the last one
/// back, as a log reads.
const OLDEST_FIRST: Variant = Variant {
    name: "oldest-first",
    task: 1,
    edits: &[
        (
            "\tint len = 0, n;\n",
            "\tint len = 0, n;\n\tstruct task_sample *oldest = NULL;\n",
        ),
        (
            SHOW_EMIT,
            "\t\tif (len + n >= PAGE_SIZE)
\t\t\tbreak;
\t\tlen += n;
\t\toldest = sample;
\t}
\tlen = 0;
\tif (oldest)
\t\tlist_for_each_entry_from_reverse(oldest, &history, list) {
\t\t\tsample_line(line, sizeof(line), oldest);
\t\t\tlen += sysfs_emit_at(buf, len, \"%s\", line);
\t\t}
",
        ),
    ],
    expected: &["t1q3-newest-first"],
    others: Others::None,
};

/// The sysfs show returns the length of every line, also those that did not fit in the
/// page: sysfs says "returned bad count" and shows the page cut to 4095 bytes, whole
/// lines then zero bytes. The other checks read the whole lines only.
const PAST_THE_PAGE: Variant = Variant {
    name: "past-the-page",
    task: 1,
    edits: &[(
        SHOW_EMIT,
        "\t\tif (len + n < PAGE_SIZE)
\t\t\tsysfs_emit_at(buf, len, \"%s\", line);
\t\tlen += n;
\t}
",
    )],
    expected: &["t1q3-page"],
    others: Others::None,
};

/// Samples come from kmalloc, as in task 1, and the unload unlinks them from the history
/// without freeing them.
const LEAK: Variant = Variant {
    name: "leak",
    task: 1,
    edits: &[
        (POOL_ALLOC, "sample = kmalloc(sizeof(*sample), GFP_NOWAIT);"),
        (POOL_FREE, "\tkfree(sample);"),
        (
            "\t\tlist_del(&sample->list);\n\t\tsample_put(sample);\n",
            "\t\tlist_del(&sample->list);\n",
        ),
    ],
    expected: &["t1q4-freed"],
    others: Others::None,
};

/// The history is locked for the whole of a sample, and the early return when the target
/// has exited leaves it locked: the next reader of the history blocks for ever, and the
/// hung-task detector panics the VM.
///
/// (A thread that takes a mutex it already holds does not hang: woken, it takes it over
/// as its own handoff, and its unlock then frees it. The lock must block another task.)
const LOCK_HELD: Variant = Variant {
    name: "lock-held",
    task: 1,
    edits: &[
        (
            "\tif (!get_sample(tm, &stats))\n\t\treturn ERR_PTR(-ESRCH);\n",
            "\tmutex_lock(&history_lock);\n\tif (!get_sample(tm, &stats))\n\t\treturn ERR_PTR(-ESRCH);\n",
        ),
        (
            "\tmutex_lock(&history_lock);\n\tlist_add(&sample->list, &history);\n",
            "\tlist_add(&sample->list, &history);\n",
        ),
    ],
    expected: &["health-ran", "health-splat"],
    others: Others::Any,
};

/// The shrinker's scan frees samples but never lowers the count.
const COUNT_NEVER_FALLS: Variant = Variant {
    name: "count-never-falls",
    task: 2,
    edits: &[("\tatomic_long_sub(freed, &history_count);\n", "")],
    expected: &["t2q2-scan", "t2q3-drop-caches"],
    others: Others::None,
};

/// The shrinker's scan frees the newest samples, from the head of the list.
const SCAN_NEWEST: Variant = Variant {
    name: "scan-newest",
    task: 2,
    edits: &[(
        "oldest = list_last_entry(&history, struct task_sample, list);",
        "oldest = list_first_entry(&history, struct task_sample, list);",
    )],
    expected: &["t2q2-scan"],
    others: Others::None,
};

/// The cache is created, but samples are allocated with kmalloc.
const KMALLOC: Variant = Variant {
    name: "kmalloc",
    task: 3,
    edits: &[
        (POOL_ALLOC, "sample = kmalloc(sizeof(*sample), GFP_NOWAIT);"),
        (POOL_FREE, "\tkfree(sample);"),
    ],
    expected: &["t3q2-used"],
    others: Others::None,
};

/// The pool is created, but samples are allocated from the cache directly: no reserve.
const NO_RESERVE: Variant = Variant {
    name: "no-reserve",
    task: 4,
    edits: &[
        (
            POOL_ALLOC,
            "sample = kmem_cache_alloc(task_sample_cache, GFP_NOWAIT);",
        ),
        (POOL_FREE, "\tkmem_cache_free(task_sample_cache, sample);"),
    ],
    expected: &["t4q2-reserve"],
    others: Others::None,
};

/// The seq_file `start` finds the first sample at position 0 and takes any other
/// position for the end: a read stops after the first buffer (a page, or one line for
/// small reads).
const START_IGNORES_POS: Variant = Variant {
    name: "start-ignores-pos",
    task: 6,
    edits: &[(
        "\tfor (; sample && at < index; at++)\n\t\tsample = history_after(sample);\n",
        "\tif (*pos)\n\t\tsample = NULL;\n",
    )],
    expected: &["t6q3-whole", "t6q3-read-sizes"],
    others: Others::None,
};

/// A PID already monitored is added again: no search for it in the list.
const DUPLICATE: Variant = Variant {
    name: "duplicate",
    task: 7,
    edits: &[
        (
            "\tstruct task_monitor *tm, *other;\n",
            "\tstruct task_monitor *tm;\n",
        ),
        (
            "\tlist_for_each_entry(other, &tasks, list) {
\t\tif (other->nr == nr) {
\t\t\tmutex_unlock(&tasks_lock);
\t\t\tmonitor_free(tm);
\t\t\treturn -EEXIST;
\t\t}
\t}
",
            "",
        ),
    ],
    expected: &["t7q3-duplicate"],
    others: Others::None,
};

/// `echo -PID` of a process not monitored succeeds, running or exited.
const REMOVE_UNMONITORED: Variant = Variant {
    name: "remove-unmonitored",
    task: 7,
    edits: &[(
        "\tif (!found)\n\t\treturn -ENOENT;\n",
        "\tif (!found)\n\t\treturn 0;\n",
    )],
    expected: &["t7q3-not-monitored"],
    others: Others::None,
};

/// Each well-formed command starts a new history, freed before the command runs: a
/// refused `-PID` or exited PID loses every sample.
const REFUSED_CLEARS: Variant = Variant {
    name: "refused-clears",
    task: 7,
    edits: &[
        (
            "/* ANCHOR: write */\n",
            "static void free_history(void);\n\n/* ANCHOR: write */\n",
        ),
        (
            "\terr = remove ? monitor_remove(pid) : monitor_add(pid);\n",
            "\tfree_history();\n\terr = remove ? monitor_remove(pid) : monitor_add(pid);\n",
        ),
    ],
    expected: &["t7q3-nothing-lost"],
    others: Others::None,
};

/// Commands parsed with sscanf(): `12x` is PID 12.
const TRAILING_GARBAGE: Variant = Variant {
    name: "trailing-garbage",
    task: 7,
    edits: &[
        ("\tsize_t i;\n\n", ""),
        (
            "\t/* kstrtoint() would also take a leading '+' and a second '\\n'. */
\tfor (i = 0; i < len; i++)
\t\tif (!isdigit(buf[i]))
\t\t\treturn \"NotANumber\";
\tbuf[len] = '\\0';\t/* within the buffer: MAX_COMMAND < MAX_WRITE */
\t/* Digits only: kstrtoint() can fail only with -ERANGE. */
\tif (kstrtoint(buf, 10, pid))
\t\treturn \"Overflow\";
",
            "\tbuf[len] = '\\0';
\tif (sscanf(buf, \"%d\", pid) != 1)
\t\treturn \"NotANumber\";
",
        ),
    ],
    expected: &["t7q3-bad-input"],
    others: Others::None,
};

// Two VMs of about equal length, run side by side: one test per VM. The leak comes just
// before the hang: kmemleak reports some of its objects only at the next module's unload,
// which the hang never reaches.

#[test]
fn tasks_1_and_7_then_the_hang() {
    check(&[
        OLDEST_FIRST,
        PAST_THE_PAGE,
        DUPLICATE,
        REMOVE_UNMONITORED,
        LEAK,
        LOCK_HELD,
    ]);
}

#[test]
fn tasks_2_to_7() {
    check(&[
        COUNT_NEVER_FALLS,
        SCAN_NEWEST,
        KMALLOC,
        NO_RESERVE,
        START_IGNORES_POS,
        REFUSED_CLEARS,
        TRAILING_GARBAGE,
    ]);
}
