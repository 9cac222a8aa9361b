//! im2col with the batch folded into the columns: [N, C, H, W] -> [C*kh*kw, N*OH*OW], so that
//! a convolution becomes one matrix product (see `conv_gemm`).
use super::geometry::PlaneGeometry;
use crate::error::{CoreError, Result};
use crate::openmp;
use crate::shape::Window;
use tch::{Device, Kind, Tensor};

/// A plane's window geometry and the number of input channels.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    channels: usize,
    plane: PlaneGeometry,
}

impl std::ops::Deref for Geometry {
    type Target = PlaneGeometry;

    fn deref(&self) -> &PlaneGeometry {
        &self.plane
    }
}

impl Geometry {
    /// K: one row of columns per input channel and kernel position.
    fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }
}

/// Writes the columns of example `n` (its L columns in each of the K rows).
///
/// # Safety
/// `columns` points to a live [K, batch * L] float buffer, and no other thread touches
/// example `n`'s columns meanwhile.
unsafe fn unfold_example(input: &[f32], columns: *mut f32, n: usize, batch: usize, g: &Geometry) {
    let plane_in = g.height * g.width;
    let l = g.plane_out();
    for ci in 0..g.channels {
        let image = &input[ci * plane_in..(ci + 1) * plane_in];
        for i in 0..g.kernel[0] {
            for j in 0..g.kernel[1] {
                let row = (ci * g.kernel[0] + i) * g.kernel[1] + j;
                let out = std::slice::from_raw_parts_mut(columns.add(row * batch * l + n * l), l);
                if g.stride == [1, 1] && g.out_width == g.width {
                    unfold_shifted_plane(image, out, i, j, g);
                } else {
                    unfold_rows(image, out, i, j, g);
                }
            }
        }
    }
}

/// One (i, j) kernel offset of one image, row by row.
fn unfold_rows(image: &[f32], out: &mut [f32], i: usize, j: usize, g: &Geometry) {
    let valid = g.valid_columns(j);
    for oh in 0..g.out_height {
        let target = &mut out[oh * g.out_width..(oh + 1) * g.out_width];
        let ih = (oh * g.stride[0] + i) as isize - g.padding[0] as isize;
        if ih < 0 || ih as usize >= g.height || valid.is_empty() {
            target.fill(0.0);
            continue;
        }
        let source = &image[ih as usize * g.width..(ih as usize + 1) * g.width];
        target[..valid.start].fill(0.0);
        target[valid.end..].fill(0.0);
        let iw0 = valid.start * g.stride[1] + j - g.padding[1];
        if g.stride[1] == 1 {
            target[valid.clone()].copy_from_slice(&source[iw0..iw0 + valid.len()]);
        } else {
            for (k, slot) in target[valid.clone()].iter_mut().enumerate() {
                *slot = source[iw0 + k * g.stride[1]];
            }
        }
    }
}

/// With stride 1 and output rows as wide as input rows (`same` padding), the columns of one
/// kernel offset are the image shifted by a constant: one copy for the whole plane, then the
/// few border elements zeroed, instead of a short copy per row (28 floats for MNIST, where
/// the per-call cost of memcpy dominated).
fn unfold_shifted_plane(image: &[f32], out: &mut [f32], i: usize, j: usize, g: &Geometry) {
    let w = g.width;
    let rows_start = g.padding[0].saturating_sub(i).min(g.out_height);
    let rows_end = (g.height + g.padding[0]).saturating_sub(i).min(g.out_height).max(rows_start);
    let valid = g.valid_columns(j);
    if rows_start == rows_end || valid.is_empty() {
        out.fill(0.0);
        return;
    }
    // Output position d reads input position d + shift; both ends of the copied span are
    // inside the image because their rows and columns are valid.
    let first = rows_start * w + valid.start;
    let end = (rows_end - 1) * w + valid.end;
    let source_first = (rows_start + i - g.padding[0]) * w + valid.start + j - g.padding[1];
    out[first..end].copy_from_slice(&image[source_first..source_first + (end - first)]);
    out[..rows_start * w].fill(0.0);
    out[rows_end * w..].fill(0.0);
    for row in out[rows_start * w..rows_end * w].chunks_exact_mut(w) {
        // The copy wrapped neighbouring rows' values into the padded columns.
        row[..valid.start].fill(0.0);
        row[valid.end..].fill(0.0);
    }
}

/// The columns of a contiguous [N, C, H, W] float CPU tensor for a window `window` (a kernel,
/// stride and zero padding); `None` when the window does not fit the image.
pub fn im2col(input: &Tensor, window: &Window) -> Result<Option<Tensor>> {
    let [batch, channels, height, width] = input.size()[..] else {
        return Ok(None);
    };
    let Some(plane) = PlaneGeometry::new(height, width, window) else {
        return Ok(None);
    };
    let g = Geometry { channels: channels as usize, plane };
    let input = input.f_contiguous()?;
    let batch = batch as usize;
    let columns = Tensor::f_empty([g.rows() as i64, (batch * g.plane_out()) as i64], (Kind::Float, Device::Cpu))?;
    let (input_at, columns_at) = (input.data_ptr() as usize, columns.data_ptr() as usize);
    let example_in = g.channels * g.height * g.width;
    let ok = openmp::parallel(batch, &|member, members| {
        // SAFETY: both tensors are contiguous and alive for this call; each member writes the
        // columns of its own examples only.
        let input = unsafe { std::slice::from_raw_parts(input_at as *const f32, batch * example_in) };
        for n in openmp::share(batch, member, members) {
            let example = &input[n * example_in..(n + 1) * example_in];
            unsafe { unfold_example(example, columns_at as *mut f32, n, batch, &g) };
        }
    });
    if !ok {
        return Err(CoreError::Torch(tch::TchError::Torch("the im2col kernel failed on a worker thread".into())));
    }
    Ok(Some(columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_equal_libtorch_unfold_for_strides_and_paddings() {
        let window = |kernel: [i64; 2], stride: [i64; 2], padding: [i64; 2]| Window { kernel, stride, padding };
        let cases = [
            ([3, 1, 28, 28], window([3, 3], [1, 1], [1, 1])),
            ([2, 2, 9, 7], window([3, 3], [2, 2], [1, 1])),
            ([2, 3, 8, 10], window([5, 3], [1, 2], [2, 0])),
            ([1, 1, 4, 4], window([3, 3], [1, 1], [0, 0])),
            ([2, 1, 5, 5], window([2, 2], [3, 3], [1, 1])),
            ([2, 2, 6, 9], window([3, 5], [1, 1], [1, 2])),
            ([2, 1, 6, 6], window([5, 5], [1, 1], [2, 2])),
        ];
        for (shape, window) in cases {
            let x = Tensor::randn(shape, (Kind::Float, Device::Cpu));
            let Window { kernel, stride, padding } = window;
            let ours = im2col(&x, &window).unwrap().unwrap();
            // libtorch: [N, K, L] -> [K, N*L]
            let expected = x.im2col(kernel, [1, 1], padding, stride).permute([1, 0, 2]).reshape([ours.size()[0], -1]);
            assert!(ours.equal(&expected), "columns differ for {shape:?} k{kernel:?} s{stride:?} p{padding:?}");
        }
    }
}
