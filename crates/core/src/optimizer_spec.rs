//! What an optimizer is: its kind and hyper-parameters, as torch.optim names them, checked.
use crate::error::{invalid, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum OptimizerSpec {
    #[serde(rename_all = "camelCase")]
    Sgd {
        lr: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        dampening: f64,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default)]
        nesterov: bool,
    },
    #[serde(rename_all = "camelCase")]
    Adam {
        lr: f64,
        #[serde(default = "beta1")]
        beta1: f64,
        #[serde(default = "beta2")]
        beta2: f64,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default)]
        weight_decay: f64,
    },
    #[serde(rename_all = "camelCase")]
    AdamW {
        lr: f64,
        #[serde(default = "beta1")]
        beta1: f64,
        #[serde(default = "beta2")]
        beta2: f64,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default = "adamw_decay")]
        weight_decay: f64,
    },
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}
fn adamw_decay() -> f64 {
    0.01
}

impl OptimizerSpec {
    /// The seed's optimizer: plain SGD.
    pub fn sgd(lr: f64) -> OptimizerSpec {
        OptimizerSpec::Sgd { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }

    pub fn lr(&self) -> f64 {
        match self {
            OptimizerSpec::Sgd { lr, .. } | OptimizerSpec::Adam { lr, .. } | OptimizerSpec::AdamW { lr, .. } => *lr,
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr())?;
        let non_negative = |field: &str, value: f64| {
            if value.is_finite() && value >= 0.0 && value <= f64::from(f32::MAX) {
                Ok(())
            } else {
                Err(invalid("optimizer", field, value, "a number in [0, 3.4e38] (a float32)"))
            }
        };
        let unit = |field: &str, value: f64| {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(invalid("optimizer", field, value, "a number in [0, 1)"))
            }
        };
        match self {
            OptimizerSpec::Sgd { momentum, dampening, weight_decay, nesterov, .. } => {
                non_negative("momentum", *momentum)?;
                non_negative("dampening", *dampening)?;
                non_negative("weightDecay", *weight_decay)?;
                if *nesterov && (*momentum <= 0.0 || *dampening != 0.0) {
                    return Err(invalid("optimizer", "nesterov", true, "used with momentum > 0 and dampening 0"));
                }
            }
            OptimizerSpec::Adam { beta1, beta2, eps, weight_decay, .. }
            | OptimizerSpec::AdamW { beta1, beta2, eps, weight_decay, .. } => {
                unit("beta1", *beta1)?;
                unit("beta2", *beta2)?;
                non_negative("eps", *eps)?;
                non_negative("weightDecay", *weight_decay)?;
            }
        }
        Ok(())
    }
}

/// The optimizer computes in float32: an lr past its range would become infinity there.
pub fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 && lr <= f64::from(f32::MAX) {
        Ok(())
    } else {
        Err(invalid("optimizer", "lr", lr, "a number in (0, 3.4e38] (a float32)"))
    }
}
