use crate::compute_thread::on_compute_thread;
use convtorch_core::CoreError;
use napi::{Error, Status};

/// The single conversion from core errors to JS errors; the TS façade reads the code prefix
/// and throws the matching typed error class.
pub fn js_error(error: CoreError) -> Error {
    let status = match error {
        CoreError::InvalidArgument { .. } | CoreError::InvalidSpec(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, format!("{}: {}", error.code(), error))
}

/// Runs `body` on the compute thread, turning a Rust panic into a JS error instead of
/// aborting the process.
pub fn guarded<T: Send>(body: impl FnOnce() -> convtorch_core::Result<T> + Send) -> napi::Result<T> {
    match on_compute_thread(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))) {
        Ok(result) => result.map_err(js_error),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Error::new(Status::GenericFailure, format!("CONVTORCH_INTERNAL: {message}")))
        }
    }
}
