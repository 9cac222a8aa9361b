//! A native object shared between JS handles and AsyncTasks, which JS may dispose early.
use convtorch_core::{CoreError, Result};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

pub struct Slot<T> {
    inner: Arc<Mutex<Option<T>>>,
    what: &'static str,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot { inner: self.inner.clone(), what: self.what }
    }
}

impl<T> Slot<T> {
    pub fn new(what: &'static str, value: T) -> Self {
        Slot { inner: Arc::new(Mutex::new(Some(value))), what }
    }

    fn present<'a>(&self, guard: &'a mut MutexGuard<'_, Option<T>>) -> Result<&'a mut T> {
        guard.as_mut().ok_or(CoreError::Disposed(self.what))
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
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return Err(CoreError::Busy),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        guard.take();
        Ok(())
    }
}
