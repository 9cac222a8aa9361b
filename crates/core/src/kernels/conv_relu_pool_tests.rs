use super::*;

const POOL: Window = Window { kernel: [2, 2], stride: [2, 2], padding: [0, 0] };

fn window(kernel: [i64; 2], padding: [i64; 2]) -> Window {
    Window { kernel, stride: [1, 1], padding }
}

/// Output, input, weight and bias gradients of the fused node (`fused`) or of libtorch's
/// conv2d -> relu -> max_pool2d, under a loss that weights every output differently.
fn run(x: &Tensor, w: &Tensor, b: &Tensor, window: &Window, input_grad: bool, fused: bool) -> Vec<Tensor> {
    let x = x.copy().set_requires_grad(input_grad);
    let (w, b) = (w.copy().set_requires_grad(true), b.copy().set_requires_grad(true));
    let y = if fused {
        assert!(applies(&x, &w, window, &POOL));
        conv_relu_pool(&x, &w, &b, window).unwrap()
    } else {
        x.conv2d(&w, Some(&b), [1, 1], window.padding, [1, 1], 1).relu().max_pool2d(
            [2, 2],
            [2, 2],
            [0, 0],
            [1, 1],
            false,
        )
    };
    let weights =
        Tensor::arange(y.numel() as i64, (Kind::Float, Device::Cpu)).view(y.size().as_slice()).sin() * 0.5 + 1.0;
    (&y * weights).sum(Kind::Float).backward();
    let mut out = vec![y.detach(), w.grad(), b.grad()];
    if input_grad {
        out.push(x.grad());
    }
    out
}

fn assert_close(fused: &[Tensor], plain: &[Tensor], tolerance: f64, case: &str) {
    for (what, (a, b)) in ["output", "weight grad", "bias grad", "input grad"].iter().zip(fused.iter().zip(plain)) {
        assert_eq!(a.size(), b.size(), "{what} shape, {case}");
        let error = (a - b).abs().max().double_value(&[]) / b.abs().max().double_value(&[]).max(1e-12);
        assert!(error <= tolerance, "{what} differs by {error} (relative), {case}");
    }
}

#[test]
fn outputs_and_gradients_equal_libtorch_conv_relu_max_pool() {
    // The seed net's two blocks, odd sizes (the pool's floor drops a row and a column),
    // filter counts that are not a multiple of 8 (one, two and three vector blocks), other
    // kernels and paddings, and an input without gradient.
    let cases: [([i64; 4], [i64; 4], Window, bool); 7] = [
        ([5, 1, 28, 28], [8, 1, 3, 3], window([3, 3], [1, 1]), false),
        ([3, 8, 14, 14], [16, 8, 3, 3], window([3, 3], [1, 1]), true),
        ([2, 3, 9, 8], [5, 3, 3, 3], window([3, 3], [0, 0]), true),
        ([2, 2, 12, 11], [12, 2, 5, 5], window([5, 5], [2, 2]), true),
        ([3, 4, 7, 10], [24, 4, 2, 3], window([2, 3], [1, 0]), true),
        ([1, 6, 6, 6], [9, 6, 3, 3], window([3, 3], [2, 1]), true),
        ([4, 32, 6, 6], [8, 32, 3, 3], window([3, 3], [1, 1]), true),
    ];
    for (shape, dims, window, input_grad) in cases {
        let x = Tensor::randn(shape, (Kind::Float, Device::Cpu));
        let w = Tensor::randn(dims, (Kind::Float, Device::Cpu)) * 0.3;
        let b = Tensor::randn([dims[0]], (Kind::Float, Device::Cpu)) * 0.1;
        let fused = run(&x, &w, &b, &window, input_grad, true);
        let plain = run(&x, &w, &b, &window, input_grad, false);
        assert_close(&fused, &plain, 2e-5, &format!("{shape:?} {dims:?} {window:?}"));
    }
}

#[test]
fn ties_and_zeroed_windows_route_the_gradient_as_libtorch_does() {
    // Small integers: every convolution sum is exact in either order, so outputs tie often
    // (within a window, and at zero under the ReLU). A gradient sent to another of the tied
    // positions would move a patch of integers: an error of order 1, where the loss's
    // non-integer weights leave only rounding (~1e-7).
    let x = (Tensor::randn([6, 3, 10, 10], (Kind::Float, Device::Cpu)) * 1.5).round();
    let w = Tensor::randint_low(-1, 2, [8, 3, 3, 3], (Kind::Float, Device::Cpu));
    let b = Tensor::zeros([8], (Kind::Float, Device::Cpu));
    let window = window([3, 3], [1, 1]);
    let fused = run(&x, &w, &b, &window, true, true);
    let plain = run(&x, &w, &b, &window, true, false);
    let ties = {
        let y = x.conv2d(&w, Some(&b), [1, 1], [1, 1], [1, 1], 1).relu();
        let pooled = y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let repeated = pooled.repeat_interleave_self_int(2, Some(2), None).repeat_interleave_self_int(2, Some(3), None);
        y.eq_tensor(&repeated).to_kind(Kind::Float).sum(Kind::Float).double_value(&[]) - pooled.numel() as f64
    };
    assert!(ties > 100.0, "the case should hold many tied windows, has {ties}");
    assert_close(&fused, &plain, 1e-6, "integer inputs");
}

#[test]
fn a_nan_wins_its_window_as_in_libtorch() {
    // The weight gradients are left out: the plain backward multiplies the NaN by the zero
    // gradients of the positions the pool did not pick, which this one never visits.
    let x = Tensor::randn([2, 2, 8, 8], (Kind::Float, Device::Cpu));
    let _ = x.narrow(2, 3, 1).narrow(3, 5, 1).fill_(f64::NAN);
    let w = Tensor::randn([8, 2, 3, 3], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([8], (Kind::Float, Device::Cpu));
    let window = window([3, 3], [1, 1]);
    let fused = run(&x, &w, &b, &window, false, true);
    let plain = run(&x, &w, &b, &window, false, false);
    assert_eq!(
        fused[0].isnan().sum(Kind::Int64).int64_value(&[]),
        8 * 2 * 4,
        "each filter's 2x2 pooled outputs around the NaN"
    );
    assert!(fused[0].isnan().equal(&plain[0].isnan()), "NaN outputs in the same places");
    let finite = |t: &Tensor| t.nan_to_num(0.0, None, None);
    let (a, b) = ([finite(&fused[0]), fused[2].shallow_clone()], [finite(&plain[0]), plain[2].shallow_clone()]);
    for (what, (a, b)) in ["output", "bias grad"].iter().zip(a.iter().zip(&b)) {
        let error = (a - b).abs().max().double_value(&[]);
        assert!(error < 1e-4, "{what} differs by {error}");
    }
}

#[test]
fn outside_its_domain_the_node_is_not_used() {
    let x = Tensor::zeros([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    let w = Tensor::zeros([4, 3, 3, 3], (Kind::Float, Device::Cpu));
    let same = window([3, 3], [1, 1]);
    assert!(applies(&x, &w, &same, &POOL));
    assert!(!applies(&x, &w, &Window { stride: [2, 2], ..same }, &POOL), "stride 2");
    assert!(!applies(&x, &w, &same, &Window { kernel: [3, 3], ..POOL }), "a 3x3 pool");
    assert!(!applies(&x.to_kind(Kind::Double), &w, &same, &POOL), "double input");
    assert!(!applies(&x.narrow(2, 0, 2), &w, &window([3, 3], [0, 0]), &POOL), "a 0-row convolution output");
    let wide = Tensor::zeros([1, 256, 4, 4], (Kind::Float, Device::Cpu));
    assert!(
        !applies(&wide, &Tensor::zeros([256, 256, 3, 3], (Kind::Float, Device::Cpu)), &same, &POOL),
        "a large layer"
    );
}
