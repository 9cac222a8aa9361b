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
        let parameters: Vec<&Tensor> = self.network.parameters.iter().map(|p| &p.tensor).collect();
        Ok(group.backward_mean(&loss, &parameters)?.0)
    }

    /// Averages the gradients and `loss` over the ranks after a backward pass that has already
    /// run (a sharded one, whose gradients exist only once its shards are summed): one
    /// bucketed allreduce in parameter order, the loss in the last bucket; alone, returns
    /// `loss` unchanged.
    pub(crate) fn average_over_ranks(&self, loss: Tensor) -> Result<Tensor> {
        let Some(group) = &self.group else {
            return Ok(loss);
        };
        let loss = loss.f_detach()?.f_contiguous()?.f_view([1])?;
        let grads: Vec<Tensor> = self.network.parameters.iter().map(|p| p.tensor.grad()).collect();
        let mut tensors: Vec<&Tensor> = grads.iter().collect();
        tensors.push(&loss);
        group.allreduce_mean(&tensors, group.bucket_bytes())?;
        Ok(loss.f_view([])?)
    }
}

#[cfg(test)]
#[path = "data_parallel_tests.rs"]
mod tests;
