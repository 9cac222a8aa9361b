//! A native object shared between JS handles and asynchronous jobs, which JS may dispose early.
//!
//! An asynchronous call reserves its objects when it is made (on the JS thread) until its job
//! has finished: a synchronous call on a reserved object is refused at once with Busy, instead
//! of waiting behind the job on the compute thread.
use convtorch_core::{CoreError, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// Native objects (models, datasets) whose tensors are alive: they hold every tensor the addon
/// keeps between calls, so a count that grows over a run is a leak.
static LIVE: AtomicUsize = AtomicUsize::new(0);

pub fn live_objects() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// The value, counted in LIVE while it exists.
struct Counted<T>(T);

impl<T> Counted<T> {
    fn new(value: T) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Counted(value)
    }
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Slot<T> {
    inner: Arc<Mutex<Option<Counted<T>>>>,
    reserved: Arc<AtomicBool>,
    what: &'static str,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot { inner: self.inner.clone(), reserved: self.reserved.clone(), what: self.what }
    }
}

/// Held by an asynchronous job; dropping it (when the job ends) frees the slot.
pub struct Reservation {
    reserved: Arc<AtomicBool>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.reserved.store(false, Ordering::SeqCst);
    }
}

impl<T> Slot<T> {
    pub fn new(what: &'static str, value: T) -> Self {
        Slot {
            inner: Arc::new(Mutex::new(Some(Counted::new(value)))),
            reserved: Arc::new(AtomicBool::new(false)),
            what,
        }
    }

    /// Reserves the slot for an asynchronous job; refused while another job holds it.
    pub fn reserve(&self) -> Result<Reservation> {
        if self.reserved.swap(true, Ordering::SeqCst) {
            return Err(CoreError::Busy);
        }
        Ok(Reservation { reserved: self.reserved.clone() })
    }

    /// Busy while an asynchronous job holds the slot (checked before a synchronous call is sent).
    pub fn check_free(&self) -> Result<()> {
        if self.reserved.load(Ordering::SeqCst) {
            return Err(CoreError::Busy);
        }
        Ok(())
    }

    fn present<'a>(&self, guard: &'a mut MutexGuard<'_, Option<Counted<T>>>) -> Result<&'a mut T> {
        guard.as_mut().map(|counted| &mut counted.0).ok_or(CoreError::Disposed(self.what))
    }

    /// Runs `body` on the value; a call while another holds it is refused, never queued.
    pub fn with<R>(&self, body: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return Err(CoreError::Busy),
            // A panic in an earlier call was already reported; the tensors are intact.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        body(self.present(&mut guard)?)
    }

    /// Runs `body` on the value, waiting for another holder to finish (for read-only data).
    pub fn with_waiting<R>(&self, body: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let mut guard = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        body(self.present(&mut guard)?)
    }

    /// Drops the value now (its device memory with it); later calls fail as disposed.
    pub fn dispose(&self) -> Result<()> {
        self.check_free()?;
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return Err(CoreError::Busy),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        guard.take();
        Ok(())
    }
}
