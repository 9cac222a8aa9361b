//! Where the addon's libtorch calls run.
//!
//! The heavy work (training chunks, evaluation) runs on one long-lived compute
//! thread. OpenMP keeps a thread team per calling thread, and libgomp stops spinning (sleeping
//! and waking on every parallel region) once its teams hold more threads than there are CPUs:
//! calls from both the main thread and libuv's pool made training ~30% slower on two cores
//! than on one thread.
//!
//! A quick call (reading a parameter, a prediction, a save) must not wait seconds for a running
//! training chunk of another model, though. While the compute thread is busy, quick calls run on
//! a side thread instead, whose parallel regions are limited to one thread: it never starts an
//! OpenMP team, so the compute thread's team keeps its speed.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Jobs sent to the compute thread and not yet finished.
static COMPUTE_JOBS: AtomicUsize = AtomicUsize::new(0);

fn worker(name: &str, on_start: fn()) -> Mutex<Sender<Job>> {
    let (sender, receiver) = channel::<Job>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            on_start();
            for job in receiver {
                job();
            }
        })
        .expect("a convtorch worker thread could not be started");
    Mutex::new(sender)
}

fn compute_queue() -> &'static Mutex<Sender<Job>> {
    static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| worker("convtorch-compute", convtorch_core::runtime::tune_allocator))
}

fn side_queue() -> &'static Mutex<Sender<Job>> {
    static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| worker("convtorch-side", convtorch_core::openmp::limit_calling_thread_to_one))
}

fn send(queue: &Mutex<Sender<Job>>, job: Job) {
    queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .expect("a convtorch worker thread has stopped");
}

/// Queues `job` on the compute thread and returns at once (for asynchronous calls: no thread
/// of libuv's pool is parked while the job waits or runs).
pub fn post(job: impl FnOnce() + Send + 'static) {
    COMPUTE_JOBS.fetch_add(1, Ordering::SeqCst);
    send(
        compute_queue(),
        Box::new(move || {
            job();
            COMPUTE_JOBS.fetch_sub(1, Ordering::SeqCst);
        }),
    );
}

/// Runs `body` on the worker of `queue` and waits for its result.
fn run_waiting<R: Send>(queue: &Mutex<Sender<Job>>, counted: bool, body: impl FnOnce() -> R + Send) -> R {
    let (done, result) = sync_channel::<R>(1);
    let job: Box<dyn FnOnce() + Send + '_> = Box::new(move || {
        let _ = done.send(body());
        if counted {
            COMPUTE_JOBS.fetch_sub(1, Ordering::SeqCst);
        }
    });
    // SAFETY: this function does not return before the job has run (or been dropped), so the
    // borrows the job captures outlive it, as with a scoped thread.
    let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Job>(job) };
    if counted {
        COMPUTE_JOBS.fetch_add(1, Ordering::SeqCst);
    }
    send(queue, job);
    result.recv().expect("a convtorch worker dropped a job without running it")
}

/// Runs `body` on the compute thread and waits for its result (behind any queued chunk).
pub fn on_compute_thread<R: Send>(body: impl FnOnce() -> R + Send) -> R {
    run_waiting(compute_queue(), true, body)
}

/// Runs a quick `body` without waiting for queued work: on the compute thread when it is idle
/// (its full OpenMP team), else on the side thread.
pub fn without_waiting<R: Send>(body: impl FnOnce() -> R + Send) -> R {
    if COMPUTE_JOBS.load(Ordering::SeqCst) == 0 {
        on_compute_thread(body)
    } else {
        run_waiting(side_queue(), false, body)
    }
}
