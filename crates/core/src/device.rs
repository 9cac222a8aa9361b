//! Device names as users write them ("auto", "cpu", "cuda", "cuda:1") and their checks.
use crate::error::{invalid, CoreError, Result};
use crate::runtime::cuda_library;
use tch::{Cuda, Device};

const EXPECTED: &str = "'auto', 'cpu', 'cuda' or 'cuda:N'";

pub fn cuda_is_available() -> bool {
    cuda_library();
    Cuda::is_available()
}

pub fn cuda_device_count() -> i64 {
    cuda_library();
    Cuda::device_count()
}

/// Parses and checks a device name; a CUDA device must exist on this machine.
pub fn parse_device(name: &str) -> Result<Device> {
    let name = name.trim();
    match name {
        "auto" => Ok(if cuda_is_available() { Device::Cuda(0) } else { Device::Cpu }),
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda_device(name, 0),
        _ => match name.strip_prefix("cuda:") {
            Some(index) => match index.parse::<usize>() {
                Ok(index) => cuda_device(name, index),
                Err(_) => Err(invalid("device", "device", quoted(name), EXPECTED)),
            },
            None => Err(invalid("device", "device", quoted(name), EXPECTED)),
        },
    }
}

fn cuda_device(name: &str, index: usize) -> Result<Device> {
    let count = cuda_device_count();
    if count <= 0 {
        return Err(CoreError::DeviceUnavailable { device: name.to_owned(), reason: cuda_absence_reason() });
    }
    if index as i64 >= count {
        return Err(CoreError::DeviceUnavailable {
            device: name.to_owned(),
            reason: format!("this machine has {count} CUDA device(s), numbered from 0"),
        });
    }
    Ok(Device::Cuda(index))
}

/// Why CUDA is not there, in words that point at the fix.
pub fn cuda_absence_reason() -> String {
    use crate::runtime::CudaLibrary::*;
    match cuda_library() {
        Loaded(_) => "libtorch has CUDA but no CUDA device or driver was found".to_owned(),
        Absent(path) => format!("{} is absent: this libtorch is a CPU-only build", path.display()),
        Failed { path, error } => format!(
            "{} could not be loaded ({error}); install the CUDA wheels of torch (npm run setup:torch -- --cuda)",
            path.display()
        ),
        LibtorchNotFound => "libtorch_cpu.so is not loaded in this process".to_owned(),
    }
}

/// The canonical name of a device, as accepted by [`parse_device`].
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_owned(),
        Device::Cuda(index) => format!("cuda:{index}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn quoted(name: &str) -> String {
    format!("'{name}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cpu_and_refuses_unknown_names() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        let error = parse_device("tpu").unwrap_err();
        assert_eq!(error.code(), "CONVTORCH_INVALID_ARGUMENT");
        assert!(error.to_string().contains("'tpu'"), "{error}");
        assert!(parse_device("cuda:x").is_err());
    }

    #[test]
    fn auto_picks_a_device_that_exists() {
        let device = parse_device("auto").unwrap();
        assert_eq!(device == Device::Cpu, !cuda_is_available());
    }

    #[test]
    fn a_missing_cuda_device_is_reported_as_unavailable() {
        let beyond = format!("cuda:{}", cuda_device_count().max(0) + 1);
        assert_eq!(parse_device(&beyond).unwrap_err().code(), "CONVTORCH_DEVICE_UNAVAILABLE");
    }
}
