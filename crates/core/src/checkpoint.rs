//! Weights on disk as safetensors, under PyTorch's parameter names, so a checkpoint loads
//! into the equivalent torch.nn.Module with `load_state_dict(safetensors.torch.load_file(...))`.
use crate::error::{CoreError, Result};
use crate::model::Model;
use std::path::Path;
use tch::{Device, Tensor};

fn checkpoint_error(path: &Path, reason: impl Into<String>) -> CoreError {
    CoreError::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

impl Model {
    pub fn save_weights(&self, path: &Path) -> Result<()> {
        let mut named = Vec::with_capacity(self.network.parameters.len());
        for parameter in &self.network.parameters {
            named
                .push((parameter.name.clone(), parameter.tensor.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?));
        }
        Tensor::write_safetensors(&named, path).map_err(|e| checkpoint_error(path, e.to_string()))
    }

    /// Loads every parameter; names and shapes must match this model's exactly.
    pub fn load_weights(&mut self, path: &Path) -> Result<()> {
        let stored = Tensor::read_safetensors(path).map_err(|e| checkpoint_error(path, e.to_string()))?;
        for parameter in &self.network.parameters {
            let Some((_, value)) = stored.iter().find(|(name, _)| *name == parameter.name) else {
                return Err(checkpoint_error(path, format!("has no tensor '{}'", parameter.name)));
            };
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
        }
        if let Some((extra, _)) = stored.iter().find(|(name, _)| self.network.parameter(name).is_none()) {
            return Err(checkpoint_error(path, format!("holds '{extra}', which this model does not have")));
        }
        let _guard = tch::no_grad_guard();
        for parameter in &self.network.parameters {
            let (_, value) = stored.iter().find(|(name, _)| *name == parameter.name).expect("checked above");
            parameter.tensor.shallow_clone().f_copy_(value)?;
        }
        Ok(())
    }
}
