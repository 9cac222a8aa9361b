use crate::compute_thread::{on_compute_thread, post, without_waiting};
use convtorch_core::CoreError;
use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Error, Status};
use std::any::Any;

/// The single conversion from core errors to JS errors; the TS façade reads the code prefix
/// and throws the matching typed error class.
pub fn js_error(error: CoreError) -> Error {
    let status = match error {
        CoreError::InvalidArgument { .. } | CoreError::InvalidSpec(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, format!("{}: {}", error.code(), error))
}

fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(Status::GenericFailure, format!("CONVTORCH_INTERNAL: {message}"))
}

/// `body` with a Rust panic turned into a JS error instead of aborting the process.
fn caught<T>(body: impl FnOnce() -> convtorch_core::Result<T>) -> napi::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(result) => result.map_err(js_error),
        Err(payload) => Err(panic_error(payload)),
    }
}

/// Runs `body` on the compute thread, behind any queued work: for calls that draw from the
/// default generators a running training chunk has installed (a training step).
pub fn guarded<T: Send>(body: impl FnOnce() -> convtorch_core::Result<T> + Send) -> napi::Result<T> {
    on_compute_thread(|| caught(body))
}

/// Runs a quick `body` without waiting for another model's running chunk.
pub fn guarded_quick<T: Send>(body: impl FnOnce() -> convtorch_core::Result<T> + Send) -> napi::Result<T> {
    without_waiting(|| caught(body))
}

/// Queues `body` on the compute thread and returns a promise of its result, converted to JS by
/// `to_js` on the JS thread.
pub fn spawn<T, V>(
    env: &Env,
    body: impl FnOnce() -> convtorch_core::Result<T> + Send + 'static,
    to_js: impl FnOnce(T) -> V + Send + 'static,
) -> napi::Result<Object<'_>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred::<V, Box<dyn FnOnce(Env) -> napi::Result<V>>>()?;
    post(move || match caught(body) {
        Ok(value) => deferred.resolve(Box::new(move |_env| Ok(to_js(value)))),
        Err(error) => deferred.reject(error),
    });
    Ok(promise)
}
