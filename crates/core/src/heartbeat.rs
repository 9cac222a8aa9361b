//! Each rank's heartbeat in the rendezvous store: its step count and the time, written once a
//! second by a thread of its own. When a collective fails (a peer's timeout), the failing rank
//! reads the others' heartbeats to name the rank that stopped: one whose heartbeat is stale
//! (a stopped or frozen process) or whose step lags (a process alive but stuck). Gloo's own
//! timeout message names only the operation.
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

extern "C" {
    fn convtorch_dist_store_set(store: *mut c_void, key: *const c_char, value: *const c_char) -> *mut c_char;
    fn convtorch_dist_store_read(
        store: *mut c_void,
        key: *const c_char,
        timeout_ms: i64,
        found: *mut c_int,
        out: *mut *mut c_char,
    ) -> *mut c_char;
    fn convtorch_dist_store_free(store: *mut c_void);
}

const INTERVAL: Duration = Duration::from_secs(1);
/// A heartbeat older than this means the rank's process is not running.
const STALE: Duration = Duration::from_secs(2);
/// How long the report may wait for the store (whose host rank may be the one that hangs).
const READ_TIMEOUT_MS: i64 = 2_000;

/// The store handle, freed when the group and the heartbeat thread have both let go of it.
#[derive(Debug)]
pub struct SharedStore(pub *mut c_void);

// SAFETY: c10d's TCPStore serialises its operations internally; the handle is freed once.
unsafe impl Send for SharedStore {}
unsafe impl Sync for SharedStore {}

impl Drop for SharedStore {
    fn drop(&mut self) {
        unsafe { convtorch_dist_store_free(self.0) }
    }
}

fn take_message(raw: *mut c_char) -> Option<String> {
    if raw.is_null() {
        return None;
    }
    let text = unsafe { CStr::from_ptr(raw) }.to_string_lossy().into_owned();
    unsafe { libc::free(raw.cast()) };
    Some(text)
}

fn key(rank: i64) -> CString {
    CString::new(format!("convtorch/heartbeat/{rank}")).expect("no NUL in a key")
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug)]
pub struct Heartbeat {
    rank: i64,
    world_size: i64,
    store: Arc<SharedStore>,
    steps: Arc<AtomicI64>,
    /// Dropped with the heartbeat, which wakes its thread at once to end (not after a sleep).
    _stop: Sender<()>,
}

impl Heartbeat {
    /// Starts beating. The thread is not joined on drop: a store whose host hangs could block
    /// it for the store's whole timeout; it holds its own reference to the store instead.
    pub fn start(store: Arc<SharedStore>, rank: i64, world_size: i64) -> Heartbeat {
        Heartbeat::start_every(store, rank, world_size, INTERVAL)
    }

    fn start_every(store: Arc<SharedStore>, rank: i64, world_size: i64, interval: Duration) -> Heartbeat {
        let steps = Arc::new(AtomicI64::new(0));
        let (stop, stopped) = channel::<()>();
        let (thread_store, thread_steps) = (store.clone(), steps.clone());
        let spawned = std::thread::Builder::new().name("convtorch-heartbeat".into()).spawn(move || {
            let key = key(rank);
            loop {
                let value =
                    CString::new(format!("{} {}", thread_steps.load(Ordering::Relaxed), now_ms())).expect("digits");
                // A failed write (the store gone) ends the beating; the collectives report the failure.
                if take_message(unsafe { convtorch_dist_store_set(thread_store.0, key.as_ptr(), value.as_ptr()) })
                    .is_some()
                {
                    return;
                }
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        });
        // Without a thread there is no heartbeat, only a less precise report.
        drop(spawned);
        Heartbeat { rank, world_size, store, steps, _stop: stop }
    }

    /// Counts a step (one gradient allreduce).
    pub fn step(&self) {
        self.steps.fetch_add(1, Ordering::Relaxed);
    }

    /// What the other ranks' heartbeats say, for a collective's failure message.
    pub fn report(&self) -> String {
        let own = self.steps.load(Ordering::Relaxed);
        let now = now_ms();
        let mut suspects = Vec::new();
        for rank in (0..self.world_size).filter(|r| *r != self.rank) {
            let (mut found, mut out): (c_int, *mut c_char) = (0, std::ptr::null_mut());
            let key = key(rank);
            let failed =
                unsafe { convtorch_dist_store_read(self.store.0, key.as_ptr(), READ_TIMEOUT_MS, &mut found, &mut out) };
            if let Some(error) = take_message(failed) {
                return format!(
                    "the store (hosted by rank 0) did not answer ({}); rank 0 is likely the rank that stopped",
                    error.lines().next().unwrap_or("")
                );
            }
            let Some(value) = take_message(out).filter(|_| found != 0) else {
                suspects.push(format!("rank {rank} never sent a heartbeat"));
                continue;
            };
            let mut fields = value.split(' ').map(|f| f.parse::<i64>().unwrap_or(0));
            let (step, at) = (fields.next().unwrap_or(0), fields.next().unwrap_or(0));
            let age = Duration::from_millis((now - at).max(0) as u64);
            if age > STALE {
                suspects.push(format!(
                    "rank {rank} stopped: no heartbeat for {:.1} s (its last one reported step {step}; this rank is at step {own})",
                    age.as_secs_f64()
                ));
            } else if step < own {
                suspects
                    .push(format!("rank {rank} is stuck: alive, but at step {step} while this rank is at step {own}"));
            }
        }
        if suspects.is_empty() {
            "every other rank's heartbeat is recent and at this rank's step".to_owned()
        } else {
            suspects.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_dropped_heartbeat_ends_its_thread_without_waiting_out_the_interval() {
        let store = Arc::new(crate::distributed::loopback_store());
        // An interval far longer than the test: only the wake-up on drop can end the thread.
        let heartbeat = Heartbeat::start_every(store.clone(), 0, 1, Duration::from_secs(3600));
        let wait_for = |count: usize| {
            let started = Instant::now();
            while Arc::strong_count(&store) != count && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Arc::strong_count(&store)
        };
        assert_eq!(wait_for(3), 3, "this test's, the heartbeat's and its thread's references");
        drop(heartbeat);
        assert_eq!(wait_for(1), 1, "the thread still holds the store after the heartbeat was dropped");
    }
}
