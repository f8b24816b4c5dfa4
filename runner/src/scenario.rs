// SPDX-License-Identifier: GPL-2.0

//! A VM run: what to load, which shell steps to run, and what came out.

use crate::{health, initramfs::Initramfs, kdir, qemu, stage_dir, Taskmonitor};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::RwLock;
use std::time::Duration;
use wait_timeout::ChildExt;

/// Marks the step boundaries on the second serial port.
const BEGIN: &str = "@@@ BEGIN ";
const END: &str = "@@@ END ";
const DONE: &str = "@@@ DONE";

/// A start-up script shared by scenarios and the interactive shell: mounts, busybox
/// applets, and `/bin/burn`, which starts a CPU-burning process and prints its PID.
pub(crate) const SETUP: &str = r#"/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
# An empty module database, so that busybox's modinfo works on a .ko file.
mkdir -p /lib/modules/$(uname -r) && : > /lib/modules/$(uname -r)/modules.dep
# Forget what boot allocated, so a later scan reports only what the run leaked (the
# measuring kernel has no kmemleak).
[ -e /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
cat > /bin/burn <<'END'
#!/bin/sh
# Starts a process that burns CPU in user space, and prints its PID.
sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
echo $!
END
chmod +x /bin/burn
"#;

/// Checks every run ends with, after the scenario's own steps. The test kernels have
/// every facility they need; the measuring kernel of `make bench` (see
/// [`Scenario::kernel`]) has no kmemleak nor lockdep, and runs the others.
const EPILOGUE: &[(&str, &str)] = &[
    ("_modules", "cat /proc/modules"),
    (
        "_kmemleak",
        "echo scan > /sys/kernel/debug/kmemleak; sleep 5; \
         echo scan > /sys/kernel/debug/kmemleak; cat /sys/kernel/debug/kmemleak",
    ),
    ("_tainted", "cat /proc/sys/kernel/tainted"),
    ("_lockdep", "grep debug_locks: /proc/lockdep_stats"),
];

/// Held for reading by every VM of this process while it runs, and for writing by one
/// that must run alone (see [`Scenario::alone`]).
static VMS: RwLock<()> = RwLock::new(());

/// What to boot and run.
#[derive(Clone)]
pub struct Scenario {
    name: String,
    /// Files of the initramfs: where, from which host file, with which mode.
    files: Vec<(String, PathBuf, u32)>,
    steps: Vec<(String, String)>,
    memory_mb: u32,
    timeout: Duration,
    cmdline: String,
    alone: bool,
    /// Another kernel tree than [`kdir`]'s.
    kernel: Option<PathBuf>,
}

/// The modules with stage 7's interface and behaviour, which stage 7's VM tests load in
/// turn: the same steps must give the same output (the same snapshots) with either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage7 {
    /// `task7-multi/`, in Rust.
    Rust,
    /// `c-reference/`, the finished lab in C.
    C,
}

impl Stage7 {
    /// Its module.
    pub fn module(self) -> Taskmonitor {
        match self {
            Stage7::Rust => Taskmonitor::Stage(7),
            Stage7::C => Taskmonitor::C,
        }
    }

    /// A VM's name for a scenario of this module: `base`, with `-c` for the C one.
    pub fn name(self, base: &str) -> String {
        match self {
            Stage7::Rust => base.to_string(),
            Stage7::C => format!("{base}-c"),
        }
    }
}

/// One shell step: its command, everything it printed, and its exit status.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub command: String,
    pub output: String,
    pub status: i32,
}

/// A finished, healthy run.
#[derive(Debug)]
pub struct Run {
    /// The scenario's steps, in order, without the health epilogue.
    pub steps: Vec<Step>,
    /// The kernel log (first serial port).
    pub console: String,
}

impl Run {
    /// The step called `name`.
    pub fn step(&self, name: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name}"))
    }

    /// The output of the step called `name`.
    pub fn output(&self, name: &str) -> &str {
        &self.step(name).output
    }
}

/// Why a run failed.
pub enum RunError {
    /// The VM could not be prepared or started.
    Setup(String),
    /// The VM ran but the kernel is not healthy, or the scenario did not finish.
    Failed {
        reasons: Vec<String>,
        steps: Vec<Step>,
        console: String,
    },
}

impl RunError {
    /// Why the run failed, one reason per entry.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            RunError::Setup(e) => vec![e.clone()],
            RunError::Failed { reasons, .. } => reasons.clone(),
        }
    }
}

impl fmt::Debug for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Setup(e) => write!(f, "VM set-up failed: {e}"),
            RunError::Failed {
                reasons,
                steps,
                console,
            } => {
                writeln!(f, "VM run failed:")?;
                for r in reasons {
                    writeln!(f, "  - {r}")?;
                }
                writeln!(f, "--- steps ---")?;
                for s in steps {
                    writeln!(f, "$ {}  [exit {}]\n{}", s.command, s.status, s.output)?;
                }
                writeln!(f, "--- kernel log (last 80 lines) ---")?;
                let lines: Vec<_> = console.lines().collect();
                for l in &lines[lines.len().saturating_sub(80)..] {
                    writeln!(f, "{l}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Scenario {
    /// An empty scenario: 256 MiB of memory, 180 s before it is killed.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            files: Vec::new(),
            steps: Vec::new(),
            memory_mb: 256,
            timeout: Duration::from_secs(180),
            cmdline: String::new(),
            alone: false,
            kernel: None,
        }
    }

    /// Runs this VM with no other VM of this process beside it: it waits for those running
    /// to finish, and new ones wait for it. For a measurement of time, which a VM running
    /// beside it on the host's CPUs would disturb (the tests of one file run in parallel).
    pub fn alone(mut self) -> Self {
        self.alone = true;
        self
    }

    /// Adds stage `n`'s module as `/lib/modules/taskmonitor.ko`.
    pub fn stage(self, n: u32) -> Self {
        self.module("taskmonitor", stage_dir(n).join("taskmonitor.ko"))
    }

    /// Adds a module with stage 7's interface as `/lib/modules/taskmonitor.ko`: stage 7's
    /// Rust or the C reference.
    pub fn stage7(self, module: Stage7) -> Self {
        self.module("taskmonitor", module.module().dir().join("taskmonitor.ko"))
    }

    /// Adds a module as `/lib/modules/NAME.ko`.
    pub fn module(self, name: &str, ko: impl Into<PathBuf>) -> Self {
        self.file(&format!("/lib/modules/{name}.ko"), ko, 0o644)
    }

    /// Adds the host file `host` to the VM as `path`, with permissions `mode` (a static
    /// program as `/bin/NAME` with 0o755, say).
    pub fn file(mut self, path: &str, host: impl Into<PathBuf>, mode: u32) -> Self {
        self.files.push((path.to_string(), host.into(), mode));
        self
    }

    /// Adds a shell step; its output and status are reported under `name`.
    pub fn step(mut self, name: &str, command: &str) -> Self {
        self.steps.push((name.to_string(), command.to_string()));
        self
    }

    /// The VM's memory.
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// How long the run may take before it is killed and fails.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Boots the kernel of `kdir` instead of the test kernel: the measuring kernel of
    /// `make bench`. The health checks are those that kernel can run: the splats, taint and
    /// modules left loaded always; kmemleak and lockdep where it has them.
    pub fn kernel(mut self, kdir: impl Into<PathBuf>) -> Self {
        self.kernel = Some(kdir.into());
        self
    }

    /// Adds parameters to the kernel command line.
    pub fn cmdline(mut self, extra: &str) -> Self {
        self.cmdline = extra.to_string();
        self
    }

    /// Every step's name in the order they run, the epilogue's included.
    fn step_names<'a>(&'a self, epilogue: &[(&'a str, &'a str)]) -> Vec<&'a str> {
        let scenario = self.steps.iter().map(|(name, _)| name.as_str());
        scenario
            .chain(epilogue.iter().map(|(name, _)| *name))
            .collect()
    }

    /// The epilogue's checks that the kernel of `kdir` can run. The test kernel must run
    /// them all.
    fn epilogue(&self, kdir: &Path) -> Result<Vec<(&'static str, &'static str)>, RunError> {
        let config = std::fs::read_to_string(kdir.join(".config"))
            .map_err(|e| RunError::Setup(format!("{}/.config: {e}", kdir.display())))?;
        let has = |option: &str| config.lines().any(|l| l == format!("{option}=y"));
        let (kmemleak, lockdep) = (has("CONFIG_DEBUG_KMEMLEAK"), has("CONFIG_LOCKDEP"));
        if self.kernel.is_none() && !(kmemleak && lockdep) {
            return Err(RunError::Setup(format!(
                "{}: the test kernel must have kmemleak and lockdep",
                kdir.display()
            )));
        }
        Ok(EPILOGUE
            .iter()
            .copied()
            .filter(|(name, _)| match *name {
                "_kmemleak" => kmemleak,
                "_lockdep" => lockdep,
                _ => true,
            })
            .collect())
    }

    /// The init script: set-up, the steps, the health epilogue, power off.
    fn init_script(&self, epilogue: &[(&str, &str)]) -> String {
        let mut s = String::from("#!/bin/busybox sh\n");
        s.push_str(SETUP);
        s.push_str(
            r#"stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
# A step's output goes to a file first and reaches the serial port through `cat` in a
# process of its own: this shell catches SIGCHLD without SA_RESTART, so its own writes to
# a tty fail with EINTR when a background child exits meanwhile, and a marker is lost.
# A tmpfs of its own, so a step that fills /tmp cannot make its output fail.
mkdir -p /run/steps && mount -t tmpfs tmpfs /run/steps
# The step's name and command are kept aside: a command may change "$1" with `set --`.
step() {
  step_name=$1 step_command=$2
  printf '@@@ BEGIN %s\n' "$step_name" > /run/steps/out
  eval "$step_command" </dev/null >>/run/steps/out 2>&1
  printf '\n@@@ END %s %d\n' "$step_name" "$?" >> /run/steps/out
  (exec cat /run/steps/out) >&3
}
cd /lib/modules
"#,
        );
        for (name, cmd) in self
            .steps
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_str()))
            .chain(epilogue.iter().copied())
        {
            s.push_str(&format!(
                "step {} {}\n",
                shell_quote(name),
                shell_quote(cmd)
            ));
        }
        s.push_str(&format!(
            "printf '{DONE}\\n' > /run/steps/out; (exec cat /run/steps/out) >&3\nsync\nreboot -f\n"
        ));
        s
    }

    /// Boots the VM, runs the steps, and checks the kernel's health.
    pub fn run(&self) -> Result<Run, RunError> {
        // A test that panicked while holding the lock changes nothing for the others.
        let (_shared, _alone) = if self.alone {
            (None, Some(VMS.write().unwrap_or_else(|e| e.into_inner())))
        } else {
            (Some(VMS.read().unwrap_or_else(|e| e.into_inner())), None)
        };
        let setup = |e: std::io::Error| RunError::Setup(e.to_string());
        let kdir = self.kernel.clone().unwrap_or_else(kdir);
        let epilogue = self.epilogue(&kdir)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("taskmonitor-{}-", self.name))
            .tempdir()
            .map_err(setup)?;
        let mut fs = Initramfs::default();
        let init = dir.path().join("init");
        std::fs::write(&init, self.init_script(&epilogue)).map_err(setup)?;
        fs.add("/init", &init, 0o755);
        for (path, host, mode) in &self.files {
            if !host.exists() {
                return Err(RunError::Setup(format!(
                    "{} is not built: run `make test` (or `make modules`)",
                    host.display()
                )));
            }
            fs.add(path, host, *mode);
        }
        let initrd = fs.build(&kdir, dir.path()).map_err(setup)?;

        let console_path = dir.path().join("console.log");
        let steps_path = dir.path().join("steps.log");
        let mut cmd = qemu::command(
            &kdir.join("arch/x86/boot/bzImage"),
            &initrd,
            self.memory_mb,
            &self.cmdline,
        );
        cmd.arg("-serial")
            .arg(format!("file:{}", console_path.display()))
            .arg("-serial")
            .arg(format!("file:{}", steps_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(dir.path().join("qemu.err")).map_err(setup)?);
        let mut child = cmd.spawn().map_err(setup)?;
        let finished = child.wait_timeout(self.timeout).map_err(setup)?.is_some();
        if !finished {
            let _ = child.kill();
            let _ = child.wait();
        }

        let console = read_lossy(&console_path);
        let raw_steps = read_lossy(&steps_path);
        let (mut steps, done) = parse_steps(&raw_steps, &self.steps);
        let mut reasons = Vec::new();
        if !finished {
            reasons.push(format!("timed out after {:?}", self.timeout));
        } else if !done {
            let qemu_err = read_lossy(&dir.path().join("qemu.err"));
            reasons.push(format!(
                "the VM stopped before the end of the scenario {qemu_err}"
            ));
        } else if steps.len() != self.steps.len() + epilogue.len() {
            let last = steps.last().map_or("none", |s| s.name.as_str());
            reasons.push(format!(
                "{} of {} steps reported (the last: {last}): a step broke the markers; \
                 the raw text after the last good step: {:?}",
                steps.len(),
                self.steps.len() + epilogue.len(),
                after_step(&raw_steps, &steps, &self.step_names(&epilogue))
            ));
        }
        for line in health::splats(&console) {
            reasons.push(format!("kernel log: {line}"));
        }
        let ran = steps.split_off(steps.len().min(self.steps.len()));
        for step in &ran {
            let out = step.output.trim();
            let verdict = match step.name.as_str() {
                "_modules" if !out.is_empty() => Err(format!("modules still loaded: {out}")),
                "_kmemleak" if !out.is_empty() => Err(format!("kmemleak: {out}")),
                "_tainted" => health::check_taint(out),
                "_lockdep" => health::check_lockdep(out),
                _ => Ok(()),
            };
            if let Err(e) = verdict {
                reasons.push(e);
            }
        }
        if reasons.is_empty() {
            Ok(Run { steps, console })
        } else {
            steps.extend(ran);
            Err(RunError::Failed {
                reasons,
                steps,
                console,
            })
        }
    }
}

fn read_lossy(path: &std::path::Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).replace('\r', ""))
        .unwrap_or_default()
}

/// Splits the second serial port's text into steps; also says whether the end was reached.
fn parse_steps(text: &str, commands: &[(String, String)]) -> (Vec<Step>, bool) {
    let mut steps = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some((name, body)) = after.split_once('\n') else {
            break;
        };
        let marker = format!("\n{END}{name} ");
        let Some(end) = body.find(&marker) else {
            break;
        };
        let tail = &body[end + marker.len()..];
        let (status, next) = tail.split_once('\n').unwrap_or((tail, ""));
        let command = commands
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
            .or_else(|| {
                EPILOGUE
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| c.to_string())
            })
            .unwrap_or_default();
        steps.push(Step {
            name: name.to_string(),
            command,
            output: body[..end].to_string(),
            status: status.trim().parse().unwrap_or(-1),
        });
        rest = next;
    }
    (steps, rest.contains(DONE))
}

/// Up to 300 bytes of raw step text from the end of the last step that came in order,
/// to show how the next step's markers broke.
fn after_step<'a>(text: &'a str, steps: &[Step], expected: &[&str]) -> &'a str {
    let in_order = steps
        .iter()
        .zip(expected)
        .take_while(|(step, name)| step.name == **name)
        .last();
    let from = in_order
        .and_then(|(step, _)| text.find(&format!("{END}{} ", step.name)))
        .unwrap_or(0);
    let rest = &text[from..];
    let mut end = rest.len().min(300);
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    &rest[..end]
}

/// Quotes `s` for the shell, as one word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_end() {
        let text = "@@@ BEGIN a\nhello\n\n@@@ END a 0\n@@@ BEGIN b\n\n@@@ END b 3\n@@@ DONE\n";
        let cmds = vec![
            ("a".into(), "echo hello".into()),
            ("b".into(), "false".into()),
        ];
        let (steps, done) = parse_steps(text, &cmds);
        assert!(done);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].output, "hello\n");
        assert_eq!(steps[0].command, "echo hello");
        assert_eq!(steps[1].output, "");
        assert_eq!(steps[1].status, 3);
    }

    #[test]
    fn unfinished_run_is_not_done() {
        let (steps, done) = parse_steps("@@@ BEGIN a\npartial", &[]);
        assert!(!done);
        assert!(steps.is_empty());
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
