//! Data augmentation on the device, per training batch: random crop after zero padding,
//! horizontal flip and a small random affine transform, as torchvision's RandomCrop,
//! RandomHorizontalFlip and RandomAffine do per image, but as a few batched libtorch ops on
//! the gathered batch. Every draw comes from the default generators, which a model installs
//! as its own around training (see `rng`): the same seed gives the same augmentation, and a
//! resumed run repeats it.
use crate::error::{invalid, Result};
use serde::Deserialize;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Augmentation {
    /// Pad every side with this many black pixels, then crop back to the size at random.
    #[serde(default)]
    pub crop: i64,
    /// Mirror left-right with probability 0.5.
    #[serde(default)]
    pub flip: bool,
    /// Rotate by a uniform angle in [-rotate, rotate] degrees.
    #[serde(default)]
    pub rotate: f64,
    /// Scale by a uniform factor in [1 - scale, 1 + scale].
    #[serde(default)]
    pub scale: f64,
    /// Shift by a uniform fraction of the size in [-translate, translate], each axis.
    #[serde(default)]
    pub translate: f64,
}

impl Augmentation {
    pub fn from_json(json: &str) -> Result<Augmentation> {
        let augmentation: Augmentation = serde_json::from_str(json).map_err(|e| {
            invalid("augment", "augment", json, &format!("{{ crop, flip, rotate, scale, translate }} ({e})"))
        })?;
        augmentation.validate()?;
        Ok(augmentation)
    }

    fn validate(&self) -> Result<()> {
        if !(0..=64).contains(&self.crop) {
            return Err(invalid("augment", "crop", self.crop, "an integer in [0, 64] (pixels of padding)"));
        }
        if !(self.rotate.is_finite() && (0.0..=180.0).contains(&self.rotate)) {
            return Err(invalid("augment", "rotate", self.rotate, "degrees in [0, 180]"));
        }
        if !(self.scale.is_finite() && (0.0..1.0).contains(&self.scale)) {
            return Err(invalid("augment", "scale", self.scale, "a fraction in [0, 1)"));
        }
        if !(self.translate.is_finite() && (0.0..=0.5).contains(&self.translate)) {
            return Err(invalid("augment", "translate", self.translate, "a fraction of the size in [0, 0.5]"));
        }
        Ok(())
    }

    fn affine(&self) -> bool {
        self.rotate > 0.0 || self.scale > 0.0 || self.translate > 0.0
    }

    /// The augmented batch. `black`: [channels], the normalised value of a black pixel, which
    /// padding and the affine transform's outside take (as torchvision's fill of 0).
    pub fn apply(&self, images: &Tensor, black: &Tensor) -> Result<Tensor> {
        let [batch, channels, height, width] = <[i64; 4]>::try_from(images.size()).map_err(|_| {
            invalid("augment", "images", format!("{:?}", images.size()), "a batch [count, channels, height, width]")
        })?;
        let options = (Kind::Float, images.device());
        let black = black.f_view([1, channels, 1, 1])?;
        let mut x = images.shallow_clone();
        if self.crop > 0 {
            let pad = self.crop;
            // Zero padding, then black where the padding is: exact inside (x + 0 * black = x).
            let inside = Tensor::f_ones([batch, 1, height, width], options)?.f_constant_pad_nd([pad, pad, pad, pad])?;
            let padded =
                x.f_constant_pad_nd([pad, pad, pad, pad])?.f_add(&inside.f_neg()?.f_add_scalar(1.0)?.f_mul(&black)?)?;
            let dy = Tensor::f_randint_low(0, 2 * pad + 1, [batch, 1], (Kind::Int64, images.device()))?;
            let dx = Tensor::f_randint_low(0, 2 * pad + 1, [batch, 1], (Kind::Int64, images.device()))?;
            let rows = dy.f_add(&Tensor::f_arange(height, (Kind::Int64, images.device()))?.f_view([1, height])?)?;
            let cols = dx.f_add(&Tensor::f_arange(width, (Kind::Int64, images.device()))?.f_view([1, width])?)?;
            let rows =
                rows.f_view([batch, 1, height, 1])?.f_expand([batch, channels, height, width + 2 * pad], false)?;
            let cols = cols.f_view([batch, 1, 1, width])?.f_expand([batch, channels, height, width], false)?;
            x = padded.f_gather(2, &rows, false)?.f_gather(3, &cols, false)?;
        }
        if self.flip {
            let mirrored = Tensor::f_rand([batch, 1, 1, 1], options)?.f_lt(0.5)?;
            x = x.f_flip([3])?.f_where_self(&mirrored, &x)?;
        }
        if self.affine() {
            let uniform = |spread: f64| -> Result<Tensor> {
                Ok(Tensor::f_rand([batch], options)?.f_mul_scalar(2.0 * spread)?.f_sub_scalar(spread)?)
            };
            let angle = uniform(self.rotate.to_radians())?;
            let inverse_scale = uniform(self.scale)?.f_add_scalar(1.0)?.f_reciprocal()?;
            // grid_sample maps each output position to an input position, in coordinates that
            // run from -1 to 1 on both axes: a shift by a fraction f of the size is 2f there.
            let tx = uniform(2.0 * self.translate)?;
            let ty = uniform(2.0 * self.translate)?;
            let (cos, sin) = (angle.f_cos()?.f_mul(&inverse_scale)?, angle.f_sin()?.f_mul(&inverse_scale)?);
            // Rotation in pixels, not in the stretched [-1, 1] square of a non-square image.
            let aspect = height as f64 / width as f64;
            let theta = Tensor::f_stack(
                &[cos.shallow_clone(), sin.f_mul_scalar(-aspect)?, tx, sin.f_mul_scalar(1.0 / aspect)?, cos, ty],
                1,
            )?
            .f_view([batch, 2, 3])?;
            let grid = Tensor::f_affine_grid_generator(&theta, [batch, channels, height, width], false)?;
            // Bilinear (0), zeros outside (0), align_corners false: torchvision's defaults; shifted
            // so that the zeros outside are black.
            x = x.f_sub(&black)?.f_grid_sampler(&grid, 0, 0, false)?.f_add(&black)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn batch() -> (Tensor, Tensor) {
        tch::manual_seed(1);
        (Tensor::rand([6, 3, 8, 10], (Kind::Float, Device::Cpu)), Tensor::from_slice(&[-0.5f32, 0.0, 0.25]))
    }

    #[test]
    fn nothing_asked_changes_nothing() {
        let (x, black) = batch();
        let y = Augmentation::default().apply(&x, &black).unwrap();
        assert_eq!(f64::try_from((&y - &x).abs().max()).unwrap(), 0.0);
    }

    #[test]
    fn a_crop_moves_whole_images_and_pads_with_black() {
        let (x, black) = batch();
        tch::manual_seed(2);
        let y = Augmentation { crop: 2, ..Default::default() }.apply(&x, &black).unwrap();
        assert_eq!(y.size(), x.size());
        // Every output pixel is an input pixel of the same channel, or that channel's black.
        for c in 0..3 {
            let black_c = f64::try_from(black.get(c)).unwrap() as f32;
            let inputs: Vec<f32> = Vec::try_from(x.select(1, c).flatten(0, -1)).unwrap();
            let outputs: Vec<f32> = Vec::try_from(y.select(1, c).flatten(0, -1)).unwrap();
            assert!(outputs.iter().all(|v| *v == black_c || inputs.contains(v)));
        }
    }

    #[test]
    fn the_same_generator_state_gives_the_same_augmentation() {
        let (x, black) = batch();
        let all = Augmentation { crop: 2, flip: true, rotate: 10.0, scale: 0.1, translate: 0.1 };
        tch::manual_seed(7);
        let a = all.apply(&x, &black).unwrap();
        tch::manual_seed(7);
        let b = all.apply(&x, &black).unwrap();
        tch::manual_seed(8);
        let c = all.apply(&x, &black).unwrap();
        assert_eq!(f64::try_from((&a - &b).abs().max()).unwrap(), 0.0);
        assert!(f64::try_from((&a - &c).abs().max()).unwrap() > 0.01);
    }

    #[test]
    fn an_affine_transform_keeps_a_flat_image_flat_inside_and_fills_black_outside() {
        let flat = Tensor::full([4, 3, 16, 16], 0.7, (Kind::Float, Device::Cpu));
        let black = Tensor::from_slice(&[-0.5f32, -0.5, -0.5]);
        tch::manual_seed(3);
        let y = Augmentation { rotate: 30.0, scale: 0.2, ..Default::default() }.apply(&flat, &black).unwrap();
        let centre = f64::try_from(y.get(0).get(0).get(8).get(8)).unwrap();
        assert!((centre - 0.7).abs() < 1e-5, "{centre}");
        let (min, max) = (f64::try_from(y.min()).unwrap(), f64::try_from(y.max()).unwrap());
        assert!(min >= -0.5 - 1e-5 && max <= 0.7 + 1e-5, "{min} {max}");
        assert!(min < 0.0, "some corner shows the black outside");
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let message = Augmentation::from_json(r#"{"crop": -1}"#).unwrap_err().to_string();
        assert!(message.contains("crop must be an integer in [0, 64]"), "{message}");
        assert!(Augmentation::from_json(r#"{"spin": 3}"#).unwrap_err().to_string().contains("spin"));
    }
}
