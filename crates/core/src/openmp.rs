//! Runs our own CPU kernels on libtorch's OpenMP team.
//!
//! libtorch parallelises with the libgomp it ships; a second pool of our own would make two
//! sets of threads fight over the cores (and libgomp stops spinning when it is not the only
//! runner, which costs a futex per parallel region). So our kernels enter the same runtime, as
//! `#pragma omp parallel` would: its entry points are looked up in the process (libtorch_cpu
//! already loaded libgomp), not linked, so no new library dependency appears. Without libgomp
//! the work runs on the calling thread.
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

type ParallelFn = unsafe extern "C" fn(extern "C" fn(*mut c_void), *mut c_void, u32, u32);
type CountFn = unsafe extern "C" fn() -> i32;
type SetCountFn = unsafe extern "C" fn(i32);

struct Runtime {
    parallel: ParallelFn,
    max_threads: CountFn,
    in_parallel: CountFn,
    thread_num: CountFn,
    num_threads: CountFn,
    set_num_threads: SetCountFn,
}

fn runtime() -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(lookup).as_ref()
}

fn symbol(name: &str) -> Option<*mut c_void> {
    let name = std::ffi::CString::new(name).ok()?;
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!address.is_null()).then_some(address)
}

fn lookup() -> Option<Runtime> {
    // SAFETY: each symbol is libgomp's, with the C signature of its documented API
    // (GOMP_parallel is the entry point GCC emits for `#pragma omp parallel`).
    unsafe {
        Some(Runtime {
            parallel: std::mem::transmute::<*mut c_void, ParallelFn>(symbol("GOMP_parallel")?),
            max_threads: std::mem::transmute::<*mut c_void, CountFn>(symbol("omp_get_max_threads")?),
            in_parallel: std::mem::transmute::<*mut c_void, CountFn>(symbol("omp_in_parallel")?),
            thread_num: std::mem::transmute::<*mut c_void, CountFn>(symbol("omp_get_thread_num")?),
            num_threads: std::mem::transmute::<*mut c_void, CountFn>(symbol("omp_get_num_threads")?),
            set_num_threads: std::mem::transmute::<*mut c_void, SetCountFn>(symbol("omp_set_num_threads")?),
        })
    }
}

/// The number of threads a parallel region started here would get (1 inside a region).
pub fn available_threads() -> usize {
    match runtime() {
        Some(rt) if unsafe { (rt.in_parallel)() } == 0 => unsafe { (rt.max_threads)() }.max(1) as usize,
        _ => 1,
    }
}

struct Region<'a> {
    body: &'a (dyn Fn(usize, usize) + Sync),
    panicked: AtomicBool,
    set_num_threads: SetCountFn,
    thread_num: CountFn,
    num_threads: CountFn,
}

extern "C" fn run_member(data: *mut c_void) {
    // SAFETY: `data` is the `Region` that `parallel` keeps alive until GOMP_parallel returns.
    let region = unsafe { &*(data as *const Region) };
    // Work inside the region is serial: libtorch and oneDNN size their own parallel loops from
    // the thread count, and a nested region here would only get one thread.
    unsafe { (region.set_num_threads)(1) };
    let (index, count) = unsafe { ((region.thread_num)() as usize, (region.num_threads)() as usize) };
    if catch_unwind(AssertUnwindSafe(|| (region.body)(index, count))).is_err() {
        region.panicked.store(true, Ordering::Relaxed);
    }
}

/// Calls `body(thread_index, thread_count)` once on each of up to `threads` team members and
/// returns when all are done; `thread_count` may be smaller than asked. Returns false if a
/// member panicked (the panic is caught: unwinding through libgomp is undefined).
pub fn parallel(threads: usize, body: &(dyn Fn(usize, usize) + Sync)) -> bool {
    let threads = threads.min(available_threads());
    let Some(rt) = runtime().filter(|_| threads > 1) else {
        return catch_unwind(AssertUnwindSafe(|| body(0, 1))).is_ok();
    };
    let region = Region {
        body,
        panicked: AtomicBool::new(false),
        set_num_threads: rt.set_num_threads,
        thread_num: rt.thread_num,
        num_threads: rt.num_threads,
    };
    unsafe { (rt.parallel)(run_member, &region as *const Region as *mut c_void, threads as u32, 0) };
    !region.panicked.load(Ordering::Relaxed)
}

/// Limits libtorch's parallel regions started from the calling thread to that thread alone, so
/// it never starts an OpenMP team of its own (libgomp slows every team down once their threads
/// outnumber the CPUs). libtorch sets a thread's OpenMP thread count lazily, on its first
/// parallel call there, so that is triggered first and then overridden.
pub fn limit_calling_thread_to_one() {
    let _ = tch::get_num_threads();
    if let Some(rt) = runtime() {
        unsafe { (rt.set_num_threads)(1) };
    }
}

/// Splits `0..len` into `count` near-equal contiguous ranges and returns the `index`-th.
pub fn share(len: usize, index: usize, count: usize) -> std::ops::Range<usize> {
    let base = len / count;
    let extra = len % count;
    let start = index * base + index.min(extra);
    start..start + base + usize::from(index < extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_member_runs_once_and_the_shares_cover_the_range_exactly() {
        let _ = tch::get_num_threads(); // loads libtorch, and with it libgomp
        let visits = AtomicUsize::new(0);
        let covered: Vec<AtomicUsize> = (0..1001).map(|_| AtomicUsize::new(0)).collect();
        assert!(parallel(4, &|index, count| {
            visits.fetch_add(1, Ordering::Relaxed);
            for i in share(covered.len(), index, count) {
                covered[i].fetch_add(1, Ordering::Relaxed);
            }
        }));
        assert!(visits.load(Ordering::Relaxed) >= 1);
        assert!(covered.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn a_panicking_member_is_reported_not_propagated() {
        let _ = tch::get_num_threads();
        assert!(!parallel(2, &|index, _| assert!(index > 0, "member 0 fails on purpose")));
    }

    #[test]
    fn a_limited_thread_runs_libtorch_on_itself_alone() {
        let threads = std::thread::spawn(|| {
            limit_calling_thread_to_one();
            let sum = tch::Tensor::ones([1 << 20], (tch::Kind::Float, tch::Device::Cpu))
                .sum(tch::Kind::Float)
                .double_value(&[]);
            (tch::get_num_threads(), available_threads(), sum)
        })
        .join()
        .unwrap();
        assert_eq!(threads, (1, 1, f64::from(1 << 20)));
    }

    #[test]
    fn shares_are_balanced() {
        assert_eq!(share(10, 0, 3), 0..4);
        assert_eq!(share(10, 1, 3), 4..7);
        assert_eq!(share(10, 2, 3), 7..10);
        assert_eq!(share(2, 2, 3), 2..2);
    }
}
