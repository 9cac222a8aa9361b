use std::fmt::Display;

/// Every failure the core can report. `code()` is the stable string that the JS side branches on.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{context}: {field} must be {expected}, got {value}")]
    InvalidArgument { context: String, field: String, value: String, expected: String },
    #[error("invalid model spec: {0}")]
    InvalidSpec(String),
    #[error("device '{device}' is not usable: {reason}")]
    DeviceUnavailable { device: String, reason: String },
    #[error("the model is already busy with another call; concurrent calls on one model are refused")]
    Busy,
    #[error("this {0} was disposed and can no longer be used")]
    Disposed(&'static str),
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: String, reason: String },
    /// A distributed run failed: the rendezvous, a peer rank, or a collective's timeout.
    #[error("distributed (rank {rank} of {world}): {reason}")]
    Distributed { rank: i64, world: i64, reason: String },
    /// A device allocation failed (libtorch's OutOfMemoryError): the process goes on, and the
    /// memory the failed call held is returned to the allocator.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    #[error("libtorch: {0}")]
    Torch(tch::TchError),
}

impl From<tch::TchError> for CoreError {
    /// libtorch's allocation failures get their own code, so callers can retry smaller.
    fn from(error: tch::TchError) -> CoreError {
        match &error {
            tch::TchError::Torch(text) if is_out_of_memory(text) => CoreError::OutOfMemory(text.clone()),
            _ => CoreError::Torch(error),
        }
    }
}

/// The messages of c10's OutOfMemoryError (CUDA's caching allocator, and the CPU allocator's
/// "DefaultCPUAllocator: not enough memory").
fn is_out_of_memory(text: &str) -> bool {
    text.contains("CUDA out of memory") || text.contains("not enough memory") || text.contains("OutOfMemoryError")
}

impl CoreError {
    /// Every code `code()` can return: the TS side has a class for each (checked by a test).
    pub const CODES: [&'static str; 9] = [
        "CONVTORCH_INVALID_ARGUMENT",
        "CONVTORCH_INVALID_SPEC",
        "CONVTORCH_DEVICE_UNAVAILABLE",
        "CONVTORCH_BUSY",
        "CONVTORCH_DISPOSED",
        "CONVTORCH_CHECKPOINT",
        "CONVTORCH_TORCH",
        "CONVTORCH_DISTRIBUTED",
        "CONVTORCH_OUT_OF_MEMORY",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidArgument { .. } => "CONVTORCH_INVALID_ARGUMENT",
            CoreError::InvalidSpec(_) => "CONVTORCH_INVALID_SPEC",
            CoreError::DeviceUnavailable { .. } => "CONVTORCH_DEVICE_UNAVAILABLE",
            CoreError::Busy => "CONVTORCH_BUSY",
            CoreError::Disposed(_) => "CONVTORCH_DISPOSED",
            CoreError::Checkpoint { .. } => "CONVTORCH_CHECKPOINT",
            CoreError::Torch(_) => "CONVTORCH_TORCH",
            CoreError::Distributed { .. } => "CONVTORCH_DISTRIBUTED",
            CoreError::OutOfMemory(_) => "CONVTORCH_OUT_OF_MEMORY",
        }
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;

/// Shorthand for the most common error: a named argument with a value outside what is accepted.
/// The value is shortened to what a message can show (a whole spec or array would not be read).
pub fn invalid(context: &str, field: &str, value: impl Display, expected: &str) -> CoreError {
    CoreError::InvalidArgument {
        context: context.to_owned(),
        field: field.to_owned(),
        value: shortened(&value.to_string()),
        expected: expected.to_owned(),
    }
}

const SHOWN_CHARS: usize = 80;

fn shortened(text: &str) -> String {
    let count = text.chars().count();
    if count <= SHOWN_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(SHOWN_CHARS - 20).collect();
    format!("{head}… ({count} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lists_the_code_of_every_variant() {
        let every = [
            invalid("a", "b", "c", "d"),
            CoreError::InvalidSpec(String::new()),
            CoreError::DeviceUnavailable { device: String::new(), reason: String::new() },
            CoreError::Busy,
            CoreError::Disposed("model"),
            CoreError::Checkpoint { path: String::new(), reason: String::new() },
            CoreError::Torch(tch::TchError::Torch(String::new())),
            CoreError::Distributed { rank: 0, world: 1, reason: String::new() },
            CoreError::OutOfMemory(String::new()),
        ];
        // A new variant makes this match fail to compile until it is listed above and in CODES.
        for error in &every {
            match error {
                CoreError::InvalidArgument { .. }
                | CoreError::InvalidSpec(_)
                | CoreError::DeviceUnavailable { .. }
                | CoreError::Busy
                | CoreError::Disposed(_)
                | CoreError::Checkpoint { .. }
                | CoreError::Torch(_)
                | CoreError::Distributed { .. }
                | CoreError::OutOfMemory(_) => {}
            }
        }
        let codes: Vec<&str> = every.iter().map(CoreError::code).collect();
        assert_eq!(codes, CoreError::CODES);
    }

    #[test]
    fn allocation_failures_are_out_of_memory_and_other_torch_errors_are_not() {
        let cuda = "CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 139.81 GiB total capacity)";
        let cpu = "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate 8 GB";
        for text in [cuda, cpu] {
            assert_eq!(CoreError::from(tch::TchError::Torch(text.into())).code(), "CONVTORCH_OUT_OF_MEMORY", "{text}");
        }
        let shape = CoreError::from(tch::TchError::Torch("shape '[2]' is invalid for input of size 3".into()));
        assert_eq!(shape.code(), "CONVTORCH_TORCH");
    }

    #[test]
    fn a_long_value_is_shortened_in_the_message() {
        let message = invalid("model", "optimizer", "x".repeat(1_000_000), "a spec").to_string();
        assert!(message.len() < 200, "{} characters", message.len());
        assert!(message.ends_with("… (1000000 characters)"));
        assert_eq!(invalid("a", "b", "short", "c").to_string(), "a: b must be c, got short");
    }
}
