// SPDX-License-Identifier: GPL-2.0

//! Kernel threads: C's `kthread_run()` and `kthread_stop()`, owned by a Rust value.
//!
//! [`KThread::run`] starts a thread that runs a closure; dropping the [`KThread`] asks the
//! closure to stop, wakes it and waits until it has returned, so nothing the closure uses
//! can be freed under it. The thread sleeps through [`Stopper::sleep`], which a stop
//! request interrupts at once instead of after the rest of the period.

use core::ffi::{c_int, c_void};
use kernel::{
    bindings, c_str,
    error::from_err_ptr,
    new_condvar, new_mutex,
    prelude::*,
    sync::{Arc, CondVar, Mutex},
    task::Task,
    time::Jiffies,
    types::ARef,
};

/// The stop request shared by a [`KThread`] and the closure it runs.
#[pin_data]
pub struct Stopper {
    #[pin]
    stopped: Mutex<bool>,
    #[pin]
    wake: CondVar,
}

impl Stopper {
    /// Whether the owner of the thread asked it to stop (C's `kthread_should_stop()`).
    pub fn should_stop(&self) -> bool {
        *self.stopped.lock()
    }

    /// Sleeps for `period` jiffies, or less if a stop is requested meanwhile.
    pub fn sleep(&self, period: Jiffies) {
        let mut stopped = self.stopped.lock();
        // Checking the flag under the lock that `stop` takes closes the window where a
        // request between the check and the sleep would be missed.
        if !*stopped {
            // Kernel threads ignore signals, so the result only says why the wait ended.
            let _ = self.wake.wait_interruptible_timeout(&mut stopped, period);
        }
    }

    fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }
}

/// What the new thread receives: the closure and its stop request.
struct Payload<F> {
    work: F,
    stopper: Arc<Stopper>,
}

/// A running kernel thread, stopped when dropped.
///
/// # Invariants
///
/// `task` is the thread created by `kthread_create_on_node`, and this value holds a
/// reference to it, so `kthread_stop` is valid even after the closure has returned.
/// `payload` is the `KBox<Payload<F>>` given to the thread, which takes ownership of it
/// when it starts; `drop_payload` frees it as that type.
pub struct KThread {
    task: ARef<Task>,
    stopper: Arc<Stopper>,
    payload: *mut c_void,
    drop_payload: unsafe fn(*mut c_void),
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
        let stopper = Arc::pin_init(
            pin_init!(Stopper {
                stopped <- new_mutex!(false),
                wake <- new_condvar!(),
            }),
            GFP_KERNEL,
        )?;
        let payload = KBox::new(
            Payload {
                work,
                stopper: stopper.clone(),
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
            stopper,
            payload,
            drop_payload: drop_payload::<F>,
        })
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        self.stopper.stop();
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
    let Payload { work, stopper } = KBox::into_inner(payload);
    work(&stopper);
    0
}
