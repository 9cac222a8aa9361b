//! Weights and optimizer state on disk as safetensors. Weights use PyTorch's parameter names,
//! so they load into the equivalent torch.nn.Module with `load_state_dict(load_file(...))`;
//! optimizer state is named `{parameter}.{slot}` with torch.optim's slot names. Loading reads
//! and checks every file before it changes anything, so a failed load leaves the model as it was.
use crate::error::{CoreError, Result};
use crate::model::Model;
use crate::optimizer::{OptimizerSpec, ParameterState, STATE_SLOTS};
use std::path::Path;
use tch::{Device, Tensor};

fn checkpoint_error(path: &Path, reason: impl Into<String>) -> CoreError {
    CoreError::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

/// The file's tensors sorted by name, so that a refusal names the same tensor every time.
fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let mut named = Tensor::read_safetensors(path).map_err(|e| checkpoint_error(path, e.to_string()))?;
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(named)
}

fn write(named: &[(String, Tensor)], path: &Path) -> Result<()> {
    Tensor::write_safetensors(named, path).map_err(|e| checkpoint_error(path, e.to_string()))
}

/// The state slots an optimizer keeps per parameter.
fn slots_of(spec: &OptimizerSpec) -> &'static [&'static str] {
    match spec {
        OptimizerSpec::Sgd { momentum, .. } if *momentum != 0.0 => &STATE_SLOTS[..1],
        OptimizerSpec::Sgd { .. } => &[],
        OptimizerSpec::Adam { .. } | OptimizerSpec::AdamW { .. } => &STATE_SLOTS[1..],
    }
}

impl Model {
    pub fn save_weights(&self, path: &Path) -> Result<()> {
        let mut named = Vec::with_capacity(self.network.parameters.len());
        for parameter in &self.network.parameters {
            named
                .push((parameter.name.clone(), parameter.tensor.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?));
        }
        write(&named, path)
    }

    pub fn save_optimizer_state(&self, path: &Path) -> Result<()> {
        let mut named = Vec::new();
        for (parameter, state) in self.network.parameters.iter().zip(self.optimizer.states()) {
            named.extend(state.named_tensors(&parameter.name)?);
        }
        write(&named, path)
    }

    /// Loads every parameter; names and shapes must match this model's exactly.
    pub fn load_weights(&mut self, path: &Path) -> Result<()> {
        self.load_checkpoint(path, None)
    }

    /// Loads weights and, when given, optimizer state; both are checked before either is applied.
    pub fn load_checkpoint(&mut self, weights: &Path, optimizer: Option<&Path>) -> Result<()> {
        let values = self.checked_weights(weights)?;
        let states = match optimizer {
            Some(path) => Some(self.checked_optimizer_state(path)?),
            None => None,
        };
        let _guard = tch::no_grad_guard();
        for (parameter, value) in self.network.parameters.iter().zip(&values) {
            parameter.tensor.shallow_clone().f_copy_(value)?;
        }
        if let Some(states) = states {
            self.optimizer.set_states(states)?;
        }
        Ok(())
    }

    /// The stored tensors in this model's parameter order, after checking names and shapes.
    fn checked_weights(&self, path: &Path) -> Result<Vec<Tensor>> {
        let mut stored = read(path)?;
        if let Some((extra, _)) = stored.iter().find(|(name, _)| self.network.parameter(name).is_none()) {
            return Err(checkpoint_error(path, format!("holds '{extra}', which this model does not have")));
        }
        let mut values = Vec::with_capacity(self.network.parameters.len());
        for parameter in &self.network.parameters {
            let Some(position) = stored.iter().position(|(name, _)| *name == parameter.name) else {
                return Err(checkpoint_error(path, format!("has no tensor '{}'", parameter.name)));
            };
            let (_, value) = stored.swap_remove(position);
            if value.size() != parameter.tensor.size() {
                return Err(checkpoint_error(
                    path,
                    format!(
                        "'{}' has shape {:?}, the model expects {:?}",
                        parameter.name,
                        value.size(),
                        parameter.tensor.size()
                    ),
                ));
            }
            values.push(value);
        }
        Ok(values)
    }

    fn checked_optimizer_state(&self, path: &Path) -> Result<Vec<ParameterState>> {
        let stored = read(path)?;
        let slots = slots_of(self.optimizer.spec());
        for (name, _) in &stored {
            let known = name
                .rsplit_once('.')
                .is_some_and(|(parameter, slot)| slots.contains(&slot) && self.network.parameter(parameter).is_some());
            if !known {
                return Err(checkpoint_error(
                    path,
                    format!("holds '{name}', which is not optimizer state of this model and its optimizer"),
                ));
            }
        }
        let mut states = Vec::with_capacity(self.network.parameters.len());
        for parameter in &self.network.parameters {
            let find = |slot: &str| stored.iter().find(|(name, _)| *name == format!("{}.{slot}", parameter.name));
            let present: Vec<&str> = slots.iter().copied().filter(|slot| find(slot).is_some()).collect();
            if !present.is_empty() && present.len() != slots.len() {
                return Err(checkpoint_error(
                    path,
                    format!("has {} for '{}' but not all of {}", present.join(", "), parameter.name, slots.join(", ")),
                ));
            }
            let mut state = ParameterState::default();
            for (slot, value) in slots.iter().filter_map(|slot| find(slot).map(|(_, value)| (*slot, value))) {
                if slot == "step" {
                    let step = value.f_double_value(&[])?;
                    if value.numel() != 1 || !(step >= 1.0 && step.fract() == 0.0) {
                        return Err(checkpoint_error(
                            path,
                            format!("'{}.step' must be one whole number >= 1", parameter.name),
                        ));
                    }
                    state.step = step as i64;
                    continue;
                }
                if value.size() != parameter.tensor.size() {
                    return Err(checkpoint_error(
                        path,
                        format!(
                            "'{}.{slot}' has shape {:?}, the parameter has {:?}",
                            parameter.name,
                            value.size(),
                            parameter.tensor.size()
                        ),
                    ));
                }
                let value = Some(value.f_to_device(self.device)?.f_contiguous()?);
                match slot {
                    "momentum_buffer" => state.momentum_buffer = value,
                    "exp_avg" => state.exp_avg = value,
                    _ => state.exp_avg_sq = value,
                }
            }
            states.push(state);
        }
        Ok(states)
    }
}
