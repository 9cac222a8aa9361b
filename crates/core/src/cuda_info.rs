//! CUDA device names and memory, and the cuDNN version, read through the driver API and the
//! loaded cuDNN (tch exposes neither). Every failure means "unknown", never an error.
use std::ffi::{c_char, c_int, c_void, CStr};

#[derive(Debug, Clone, PartialEq)]
pub struct CudaDevice {
    pub index: i64,
    pub name: String,
    pub total_memory_bytes: u64,
}

fn open(name: &CStr, flags: c_int) -> Option<*mut c_void> {
    let handle = unsafe { libc::dlopen(name.as_ptr(), flags) };
    (!handle.is_null()).then_some(handle)
}

fn symbol<T>(handle: *mut c_void, name: &CStr) -> Option<T> {
    let address = unsafe { libc::dlsym(handle, name.as_ptr()) };
    // SAFETY: T is the function-pointer type of the named C symbol.
    (!address.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, T>(&address) })
}

type CuInit = unsafe extern "C" fn(u32) -> c_int;
type CuDeviceGetCount = unsafe extern "C" fn(*mut c_int) -> c_int;
type CuDeviceGet = unsafe extern "C" fn(*mut c_int, c_int) -> c_int;
type CuDeviceGetName = unsafe extern "C" fn(*mut c_char, c_int, c_int) -> c_int;
type CuDeviceTotalMem = unsafe extern "C" fn(*mut usize, c_int) -> c_int;

/// The CUDA devices the driver reports; empty without a driver.
pub fn cuda_devices() -> Vec<CudaDevice> {
    let Some(driver) = open(c"libcuda.so.1", libc::RTLD_NOW | libc::RTLD_LOCAL) else { return Vec::new() };
    let (Some(init), Some(count_fn), Some(get), Some(get_name), Some(total_mem)) = (
        symbol::<CuInit>(driver, c"cuInit"),
        symbol::<CuDeviceGetCount>(driver, c"cuDeviceGetCount"),
        symbol::<CuDeviceGet>(driver, c"cuDeviceGet"),
        symbol::<CuDeviceGetName>(driver, c"cuDeviceGetName"),
        symbol::<CuDeviceTotalMem>(driver, c"cuDeviceTotalMem_v2"),
    ) else {
        return Vec::new();
    };
    let mut count: c_int = 0;
    if unsafe { init(0) } != 0 || unsafe { count_fn(&mut count) } != 0 {
        return Vec::new();
    }
    (0..count)
        .filter_map(|index| {
            let mut device: c_int = 0;
            if unsafe { get(&mut device, index) } != 0 {
                return None;
            }
            let mut name = [0 as c_char; 256];
            let mut bytes: usize = 0;
            let named = unsafe { get_name(name.as_mut_ptr(), name.len() as c_int, device) } == 0;
            let sized = unsafe { total_mem(&mut bytes, device) } == 0;
            let name = if named {
                unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned()
            } else {
                "unknown".into()
            };
            Some(CudaDevice { index: i64::from(index), name, total_memory_bytes: if sized { bytes as u64 } else { 0 } })
        })
        .collect()
}

type CudnnGetVersion = unsafe extern "C" fn() -> usize;

/// The version of the cuDNN that libtorch_cuda loaded (e.g. 91900), if any.
pub fn cudnn_version() -> Option<u64> {
    // RTLD_NOLOAD: only report a cuDNN that is already part of this process.
    let library = open(c"libcudnn.so.9", libc::RTLD_NOW | libc::RTLD_NOLOAD)?;
    let get_version = symbol::<CudnnGetVersion>(library, c"cudnnGetVersion")?;
    Some(unsafe { get_version() } as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_list_agrees_with_libtorch() {
        let devices = cuda_devices();
        assert_eq!(devices.len() as i64, crate::device::cuda_device_count());
        assert!(devices.iter().all(|d| !d.name.is_empty()));
    }
}
