"""Data-parallel training across the processes of a torch.distributed group.

Inside a script launched by ``torchrun`` (or any launcher) whose process group
is initialised, every rank calls ``fit`` on its own rows and the ranks train
one model together, as ``DistributedDataParallel`` does: the same initial
weights, gradients averaged across ranks before every optimiser step, the same
number of steps per epoch on every rank, and every statistic the fit learns
from the data (scaling, feature ranges, the offset, the losses that early
stopping watches) taken over all ranks' rows. Every rank ends with the same
model.

The averaging runs in a step pre-hook of each optimiser rather than in a
``DistributedDataParallel`` wrapper, because the variants' losses call the
network's parts (``encode``, ``decode``, a discriminator) and the adversarial
one steps three optimisers per batch: a hook on each optimiser covers them
all. Gradients are flattened into one buffer per step, one all-reduce each.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["Group", "current_group"]


class Group:
    """The process group a fit trains across (the default group)."""

    def __init__(self):
        import torch.distributed as dist

        self.dist = dist
        self.rank = dist.get_rank()
        self.size = dist.get_world_size()
        backend = dist.get_backend()
        # NCCL reduces tensors on the GPU, gloo on the CPU.
        self.device = (
            torch.device("cuda", torch.cuda.current_device()) if backend == "nccl"
            else torch.device("cpu")
        )

    def gather(self, obj):
        """Every rank's ``obj``, in rank order (picklable objects)."""
        out = [None] * self.size
        self.dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank."""
        out = [obj]
        self.dist.broadcast_object_list(out, src=0)
        return out[0]

    def sum(self, values, device=None):
        """Elementwise sum over ranks of a float64 vector (list or array)."""
        tensor = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self.device)
        self.dist.all_reduce(tensor)
        return tensor.cpu().numpy()

    def reduce(self, values, op):
        """Elementwise min or max over ranks of a float64 vector."""
        ops = {"min": self.dist.ReduceOp.MIN, "max": self.dist.ReduceOp.MAX}
        tensor = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self.device)
        self.dist.all_reduce(tensor, op=ops[op])
        return tensor.cpu().numpy()

    def average_loss(self, loss, weight):
        """Sum of ``loss * weight`` over ranks divided by the sum of ``weight``.

        ``loss`` is a device scalar; returns one on the same device.
        """
        pair = torch.stack([loss.detach().double() * weight,
                            torch.tensor(float(weight), dtype=torch.float64,
                                         device=loss.device)]).to(self.device)
        self.dist.all_reduce(pair)
        return (pair[0] / pair[1]).to(device=loss.device, dtype=loss.dtype)

    def broadcast_module(self, module):
        """Rank 0's parameters and buffers into ``module`` on every rank."""
        for tensor in list(module.parameters()) + list(module.buffers()):
            moved = tensor.detach().to(self.device)
            self.dist.broadcast(moved, src=0)
            with torch.no_grad():
                tensor.copy_(moved.to(tensor.device))

    def average_gradients_before_steps(self, optimizers):
        """Register a hook on each optimiser that averages its gradients first.

        Returns the hooks' handles (``remove()`` them after training).
        """

        def hook(optimizer, args, kwargs):
            params = [p for group in optimizer.param_groups for p in group["params"]]
            # A parameter without a gradient (unused in this step) has none on
            # every rank: the same code ran everywhere.
            grads = [p.grad for p in params if p.grad is not None]
            if not grads:
                return
            flat = torch._utils._flatten_dense_tensors(grads).to(self.device)
            self.dist.all_reduce(flat)
            flat /= self.size
            flat = flat.to(grads[0].device)
            for grad, averaged in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads)):
                grad.copy_(averaged)

        return [optimizer.register_step_pre_hook(hook) for optimizer in optimizers]


def current_group():
    """The initialised process group of more than one process, else None."""
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    if dist.get_world_size() < 2:
        return None
    return Group()
