// SPDX-License-Identifier: GPL-2.0

//! Kernel threads: C's `kthread_run()` and `kthread_stop()`, owned by a Rust value.
//!
//! [`KThread::run`] starts a thread that runs a closure; dropping the [`KThread`] asks the
//! closure to stop, wakes it and waits until it has returned, so nothing the closure uses
//! can be freed under it. The closure is given a [`Stopper`]: [`Stopper::should_stop`] is
//! C's `kthread_should_stop()`, and [`Stopper::sleep_until_next`] sleeps until the thread's
//! next periodic deadline, which a stop request interrupts at once instead of after the
//! rest of the period.
//!
//! The lab's C loop sleeps a relative period after each sample (`schedule_timeout(period)`).
//! That runs slower than asked: the work itself takes time, and a jiffies timeout of one
//! tick lasts until the *second* tick (the timer wheel rounds its expiry up so that it never
//! fires early), so `frequency=1000` gave fewer than 500 samples a second. Here the
//! thread keeps an absolute deadline, `next = previous deadline + period`
//! ([`deadline::next_deadline`]), on the monotonic clock in nanoseconds, and sleeps until
//! it on a high-resolution timer (`schedule_hrtimeout(&next, HRTIMER_MODE_ABS)`): the time
//! a sample takes comes out of the next sleep, and the rate is the one asked whatever
//! `CONFIG_HZ` is.

#[path = "deadline.rs"]
pub mod deadline;

use super::registration::Registration;
use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use kernel::{
    bindings, c_str,
    error::from_err_ptr,
    prelude::*,
    sync::Arc,
    task::{Task, TASK_INTERRUPTIBLE, TASK_NORMAL},
    time::Ktime,
    types::{ARef, Opaque},
};

/// The lockdep class of every stop request's wait queue (C's `static struct
/// lock_class_key __key` inside `init_waitqueue_head()`).
struct WaitKey(Opaque<bindings::lock_class_key>);

// SAFETY: The key is only handed to lockdep, which synchronizes its own use of it.
unsafe impl Sync for WaitKey {}

/// Lockdep wants static keys left uninitialized.
static WAIT_KEY: WaitKey = WaitKey(Opaque::uninit());

/// The stop request shared by a [`KThread`] and its thread.
///
/// # Invariants
///
/// `wake` is an initialized wait queue head. `detached` is set only by the thread itself,
/// holding a reference on this module that its last act gives back.
#[pin_data]
struct StopRequest {
    stopped: AtomicBool,
    detached: AtomicBool,
    #[pin]
    wake: Opaque<bindings::wait_queue_head>,
}

// SAFETY: A wait queue head has its own spinlock and may be used from any thread; the flag
// is atomic.
unsafe impl Send for StopRequest {}
// SAFETY: As above: every method takes `&self` and synchronizes through the wait queue's
// lock or the atomic.
unsafe impl Sync for StopRequest {}

impl StopRequest {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            stopped: AtomicBool::new(false),
            detached: AtomicBool::new(false),
            // SAFETY: `__init_waitqueue_head` initializes the head in place; the name and
            // the key are static.
            wake <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_waitqueue_head(
                    slot,
                    c_str!("kthread::StopRequest::wake").as_char_ptr(),
                    WAIT_KEY.0.get(),
                )
            }),
        })
    }

    fn is_set(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Asks the thread to stop, and wakes it if it sleeps in [`Self::sleep_until`].
    fn set(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        // SAFETY: `wake` is initialized (type invariant).
        unsafe { bindings::__wake_up(self.wake.get(), TASK_NORMAL, 1, ptr::null_mut()) };
    }

    // ANCHOR: sleep_until
    /// Sleeps until `deadline` (nanoseconds of `CLOCK_MONOTONIC`, as `ktime_get()`), or
    /// until a stop is requested, whichever comes first.
    fn sleep_until(&self, deadline: i64) {
        let entry = Opaque::<bindings::wait_queue_entry>::uninit();
        // SAFETY: `entry` is valid memory for a wait queue entry; it stays where it is
        // until `finish_wait` below has taken it off the queue.
        unsafe { bindings::init_wait(entry.get()) };
        loop {
            // C's `prepare_to_wait()`: on the queue, and TASK_INTERRUPTIBLE, *before* the
            // flag is checked. A stop request after the check finds this thread on the
            // queue and wakes it, so `schedule_hrtimeout` returns at once; one before it
            // is seen by the check (the queue's lock orders the flag's store before
            // `__wake_up` with this load).
            // SAFETY: `wake` is initialized (type invariant) and `entry` was initialized
            // by `init_wait`.
            unsafe { bindings::prepare_to_wait(self.wake.get(), entry.get(), TASK_INTERRUPTIBLE) };
            if self.is_set() {
                break;
            }
            let mut expires: bindings::ktime_t = deadline;
            // SAFETY: The task state is set (above), `expires` is a valid `ktime_t`.
            // Returns 0 once the deadline has passed, -EINTR when woken before it.
            let woken = unsafe {
                bindings::schedule_hrtimeout(&mut expires, bindings::hrtimer_mode_HRTIMER_MODE_ABS)
            };
            if woken == 0 {
                break;
            }
            // Woken early: by a stop request (checked at the top), or spuriously, which
            // must not cut the period short.
        }
        // SAFETY: `wake` and `entry` are as in `prepare_to_wait` above.
        unsafe { bindings::finish_wait(self.wake.get(), entry.get()) };
    }
    // ANCHOR_END: sleep_until
}

/// What the thread's closure is given: its stop request and its periodic deadline.
///
/// Only the thread itself has it (it is not `Sync`, so it cannot be shared with another
/// thread), like the C functions it stands for, which act on `current`.
pub struct Stopper {
    request: Arc<StopRequest>,
    /// The latest deadline, in nanoseconds of `CLOCK_MONOTONIC`; at first, when the thread
    /// started.
    next: Cell<i64>,
}

impl Stopper {
    /// Whether the owner of the thread asked it to stop (C's `kthread_should_stop()`).
    pub fn should_stop(&self) -> bool {
        self.request.is_set()
    }

    // ANCHOR: sleep_until_next
    /// Sleeps until the next deadline, `period` after the previous one (the first is
    /// `period` after the thread started), or less if a stop is requested meanwhile.
    ///
    /// The deadlines do not drift: a thread that calls this once per sample takes one
    /// sample per `period`, however long each sample takes, as long as it takes less than
    /// a period on average. A thread that missed the next deadline by less than a period
    /// returns at once, to catch up; one that missed it by a whole period or more (its CPU
    /// was taken away) skips the deadlines it missed and sleeps until the next one still
    /// ahead, rather than catching up with a burst of samples ([`deadline::next_deadline`]).
    pub fn sleep_until_next(&self, period: Duration) {
        let period = i64::try_from(period.as_nanos()).unwrap_or(i64::MAX);
        let now = Ktime::ktime_get().to_ns();
        let next = deadline::next_deadline(self.next.get(), period, now);
        self.next.set(next);
        if next > now {
            self.request.sleep_until(next);
        }
    }
    // ANCHOR_END: sleep_until_next
}

/// What the new thread receives: the closure and its stop request.
struct Payload<F> {
    work: F,
    request: Arc<StopRequest>,
}

/// A running kernel thread, stopped when dropped.
///
/// Dropped by the thread itself (its closure owned it, say), it cannot wait for its own
/// end: it asks the closure to stop and returns, and a reference on the module keeps the
/// module loaded until the thread has ended.
///
/// # Invariants
///
/// `task` is the thread created by `kthread_create_on_node`, and this value holds a
/// reference to it, so `kthread_stop` is valid even after the closure has returned.
/// `payload` is the `KBox<Payload<F>>` given to the thread, which takes ownership of it
/// when it starts; `drop_payload` frees it as that type.
pub struct KThread {
    task: ARef<Task>,
    request: Arc<StopRequest>,
    payload: *mut c_void,
    drop_payload: unsafe fn(*mut c_void),
    /// `None` once the thread has dropped this value itself and could not pin the module.
    registration: Option<Registration>,
}

// SAFETY: The raw pointer is only used in `drop`, to free a payload that the thread never
// started with; the payload is `Send` (bound on `run`).
unsafe impl Send for KThread {}
// SAFETY: No method of `&KThread` touches the raw pointer.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts a thread named `name` that runs `work` (C's `kthread_run()`).
    ///
    /// `work` should return soon after [`Stopper::should_stop`] becomes true.
    pub fn run<F>(name: &CStr, work: F) -> Result<Self>
    where
        F: FnOnce(&Stopper) + Send + 'static,
    {
        let registration = Registration::new()?;
        let request = Arc::pin_init(StopRequest::new(), GFP_KERNEL)?;
        let payload = KBox::new(
            Payload {
                work,
                request: request.clone(),
            },
            GFP_KERNEL,
        )?;
        let payload = KBox::into_raw(payload).cast::<c_void>();

        // SAFETY: `thread_main::<F>` matches the thread function type and takes a
        // `Payload<F>`, which `payload` is. The format string is "%s" with one C string
        // argument.
        let task = unsafe {
            bindings::kthread_create_on_node(
                Some(thread_main::<F>),
                payload,
                bindings::NUMA_NO_NODE,
                c_str!("%s").as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task) {
            Ok(task) => task,
            Err(e) => {
                // SAFETY: The thread was not created, so the payload is still ours.
                unsafe { drop_payload::<F>(payload) };
                return Err(e);
            }
        };
        // SAFETY: `kthread_create_on_node` returned a valid task, which cannot go away
        // before it is woken up. `ARef::from` takes a reference of our own.
        let task: ARef<Task> = ARef::from(unsafe { &*task.cast::<Task>() });
        task.wake_up();
        // INVARIANT: `task` is the new thread, referenced; `payload` is its `Payload<F>`.
        Ok(Self {
            task,
            request,
            payload,
            drop_payload: drop_payload::<F>,
            registration: Some(registration),
        })
    }
}

extern "C" {
    /// This module: `module!` defines it, inside a module of its own.
    #[allow(improper_ctypes)]
    static __this_module: Opaque<bindings::module>;
}

/// This module's `struct module` (C's `THIS_MODULE`).
fn this_module() -> *mut bindings::module {
    ptr::addr_of!(__this_module).cast_mut().cast()
}

impl Drop for KThread {
    fn drop(&mut self) {
        self.request.set();
        if ptr::eq(&*self.task, kernel::current!()) {
            // Dropped by the thread itself, which cannot wait for its own exit
            // (`kthread_stop(current)` would wait forever). It returns once its closure
            // does; a reference on the module keeps the code it still runs loaded until
            // then, and `thread_main` gives it back as its last act, from kernel code.
            // SAFETY: `this_module()` is this module, which is running this code.
            if unsafe { bindings::try_module_get(this_module()) } {
                self.request.detached.store(true, Ordering::Relaxed);
            } else {
                // The module is being unloaded: leave the registration counted, so that
                // the check at unload stops it rather than free the running code.
                core::mem::forget(self.registration.take());
            }
            return;
        }
        // SAFETY: `task` is a kthread we hold a reference to (type invariant), so stopping
        // it is valid whether or not its function has already returned.
        let ret = unsafe { bindings::kthread_stop(super::task::as_raw(&self.task)) };
        if ret == -(bindings::EINTR as c_int) {
            // The thread was stopped before its function ran, so the payload was never
            // taken. (`thread_main` itself always returns 0.)
            // SAFETY: `payload` is the thread's `Payload<F>` (type invariant) and the thread
            // has exited without using it.
            unsafe { (self.drop_payload)(self.payload) };
        }
    }
}

/// Frees a payload given to a thread.
///
/// # Safety
///
/// `payload` must come from `KBox::<Payload<F>>::into_raw` and not be used afterwards.
unsafe fn drop_payload<F>(payload: *mut c_void) {
    // SAFETY: The caller guarantees that `payload` is an unused `KBox<Payload<F>>`.
    drop(unsafe { KBox::from_raw(payload.cast::<Payload<F>>()) });
}

/// The thread function given to `kthread_create_on_node`.
///
/// # Safety
///
/// `data` must come from `KBox::<Payload<F>>::into_raw`; this function takes ownership.
unsafe extern "C" fn thread_main<F>(data: *mut c_void) -> c_int
where
    F: FnOnce(&Stopper) + Send + 'static,
{
    // SAFETY: The caller passes the payload built by `KThread::run` and gives up ownership.
    let payload = unsafe { KBox::from_raw(data.cast::<Payload<F>>()) };
    let Payload { work, request } = KBox::into_inner(payload);
    let stopper = Stopper {
        request,
        next: Cell::new(Ktime::ktime_get().to_ns()),
    };
    work(&stopper);
    // The closure, and with it whatever it owned, is gone; only its stop request is left.
    let detached = stopper.request.detached.load(Ordering::Relaxed);
    drop(stopper);
    if detached {
        // C's `module_put_and_kthread_exit(0)`: the module may go as soon as the reference
        // taken when the thread dropped its `KThread` is put, so that is done by kernel
        // code that does not return here.
        // SAFETY: The thread holds a reference on this module (`StopRequest` invariant);
        // nothing of the module runs after this call.
        unsafe { bindings::__module_put_and_kthread_exit(this_module(), 0) };
    }
    0
}
