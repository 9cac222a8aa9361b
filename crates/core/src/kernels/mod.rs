//! CPU kernels of our own, used where libtorch's are measurably slow; each one computes what
//! the libtorch op computes (tests compare them) and falls back to it outside its domain.
pub mod conv_gemm;
pub mod conv_relu_pool;
mod conv_relu_pool_loops;
pub mod geometry;
pub mod im2col;
pub mod max_pool;
