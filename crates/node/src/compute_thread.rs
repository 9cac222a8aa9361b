//! Every libtorch call of the addon runs on one long-lived thread. OpenMP keeps a thread team
//! per calling thread, and libgomp stops spinning (sleeping and waking on every parallel
//! region) once its teams hold more threads than there are CPUs: calls from both the main
//! thread and libuv's pool made training ~30% slower on two cores than on one thread.
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

fn queue() -> &'static Mutex<Sender<Job>> {
    QUEUE.get_or_init(|| {
        let (sender, receiver) = channel::<Job>();
        std::thread::Builder::new()
            .name("convtorch-compute".into())
            .spawn(move || {
                convtorch_core::runtime::tune_allocator();
                for job in receiver {
                    job();
                }
            })
            .expect("the compute thread could not be started");
        Mutex::new(sender)
    })
}

/// Runs `body` on the compute thread and waits for its result.
pub fn on_compute_thread<R: Send>(body: impl FnOnce() -> R + Send) -> R {
    let (done, result) = sync_channel::<R>(1);
    let job: Box<dyn FnOnce() + Send + '_> = Box::new(move || {
        let _ = done.send(body());
    });
    // SAFETY: this function does not return before the job has run (or been dropped), so the
    // borrows the job captures outlive it, as with a scoped thread.
    let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Job>(job) };
    queue().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).send(job).expect("the compute thread has stopped");
    result.recv().expect("the compute thread dropped a job without running it")
}
