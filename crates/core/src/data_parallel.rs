//! A model in a data-parallel run: it joins a process group, starts from rank 0's parameters,
//! and averages its gradients over the ranks in each backward pass (as DDP does).
use crate::distributed::ProcessGroup;
use crate::error::Result;
use crate::model::Model;
use tch::Tensor;

impl Model {
    /// Makes this model one rank of `group`: its parameters become rank 0's, so every rank
    /// starts from the same weights whatever seed or checkpoint each was given.
    pub fn join_group(&mut self, group: ProcessGroup) -> Result<()> {
        let tensors: Vec<&Tensor> = self.network.parameters.iter().map(|p| &p.tensor).collect();
        group.broadcast(&tensors, 0, group.bucket_bytes())?;
        self.group = Some(group);
        Ok(())
    }

    /// Leaves the group (the run ends); the model trains alone again.
    pub fn leave_group(&mut self) -> Option<ProcessGroup> {
        self.group.take()
    }

    pub fn group(&self) -> Option<&ProcessGroup> {
        self.group.as_ref()
    }

    /// Runs `loss`'s backward pass; in a group, the gradients are averaged over the ranks while
    /// it runs (each bucket sent as soon as its gradients are in) and the loss returned is the
    /// ranks' mean.
    pub(crate) fn backward_over_ranks(&self, loss: Tensor) -> Result<Tensor> {
        let Some(group) = &self.group else {
            loss.f_backward()?;
            return Ok(loss);
        };
        Ok(group.backward_mean(&loss, &self.parameter_tensors(), false)?.0)
    }

    /// Averages over the ranks the gradients a backward pass has already left (a sharded one,
    /// whose gradients exist only once its shards are summed) and `loss`, in the same buckets
    /// as `backward_over_ranks`; alone, returns `loss` unchanged.
    pub(crate) fn average_over_ranks(&self, loss: Tensor) -> Result<Tensor> {
        let Some(group) = &self.group else {
            return Ok(loss);
        };
        Ok(group.backward_mean(&loss, &self.parameter_tensors(), true)?.0)
    }

    fn parameter_tensors(&self) -> Vec<&Tensor> {
        self.network.parameters.iter().map(|p| &p.tensor).collect()
    }
}

#[cfg(test)]
#[path = "data_parallel_tests.rs"]
mod tests;
