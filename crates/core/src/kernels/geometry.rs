//! Where a sliding window goes over one image plane: the shape both of our CPU kernels walk.
use crate::shape::Window;

#[derive(Debug, Clone, Copy)]
pub struct PlaneGeometry {
    pub height: usize,
    pub width: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl PlaneGeometry {
    /// `None` when the window does not fit the plane or a value is negative: the callers then
    /// leave the case to libtorch, which phrases the error.
    pub fn new(height: i64, width: i64, window: &Window) -> Option<PlaneGeometry> {
        let all = [window.kernel, window.stride, window.padding].concat();
        if all.iter().any(|v| *v < 0) || window.stride.contains(&0) {
            return None;
        }
        let out =
            |size: i64, axis: usize| (size + 2 * window.padding[axis] - window.kernel[axis]) / window.stride[axis] + 1;
        let (out_height, out_width) = (out(height, 0), out(width, 1));
        if out_height < 1 || out_width < 1 {
            return None;
        }
        let cast = |pair: [i64; 2]| [pair[0] as usize, pair[1] as usize];
        Some(PlaneGeometry {
            height: height as usize,
            width: width as usize,
            out_height: out_height as usize,
            out_width: out_width as usize,
            kernel: cast(window.kernel),
            stride: cast(window.stride),
            padding: cast(window.padding),
        })
    }

    pub fn plane_in(&self) -> usize {
        self.height * self.width
    }

    pub fn plane_out(&self) -> usize {
        self.out_height * self.out_width
    }

    /// The output columns `ow` whose input column `ow * stride + j - padding` is inside the
    /// plane, for the window's column offset `j`.
    pub fn valid_columns(&self, j: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride[1], self.padding[1]);
        let first = p.saturating_sub(j).div_ceil(s);
        let end = if self.width + p > j { ((self.width + p - j - 1) / s + 1).min(self.out_width) } else { 0 };
        first..end.max(first)
    }
}
