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
import scipy.sparse as sp
import torch

from ._streaming import is_file_backed

__all__ = ["SOLO", "Group", "Solo", "current_group"]


class Solo:
    """A fit in one process: the group of one rank, whose collectives change nothing.

    A fit always trains in a group: in one process this one, so that code
    that pools statistics over ranks needs no branch for the common case.
    """

    rank = 0
    size = 1

    def gather(self, obj):
        """``[obj]``: every rank's object, of the one rank."""
        return [obj]

    def broadcast(self, obj):
        """``obj`` itself."""
        return obj

    def sum(self, values):
        """``values`` as a float64 array."""
        return np.asarray(values, dtype=np.float64)

    def reduce(self, values, op):
        """``values`` as a float64 array (the min or max over one rank)."""
        return np.asarray(values, dtype=np.float64)

    def average_loss(self, loss, weight):
        """``loss`` itself."""
        return loss

    def broadcast_module(self, module):
        """Nothing to send."""

    def average_gradients_before_steps(self, optimizers):
        """No hooks: one process's gradients are already the average."""
        return []

    def check_inputs(self, X, classes=None):
        """Nothing to compare: one rank agrees with itself."""


SOLO = Solo()


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

    def sum(self, values):
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

    def check_inputs(self, X, classes=None):
        """Refuse what a data-parallel fit cannot do; the same answer on every rank.

        Every rank checks what every rank passed (gathered), so that all
        raise together rather than some waiting forever for the others.
        ``classes``: the labels of a conditional model's ``y`` (None for
        none), which every rank must share.
        """
        seen = self.gather((X.shape[1], classes is not None and [repr(c) for c in classes]))
        widths = [width for width, _ in seen]
        if len(set(widths)) > 1:
            raise ValueError(
                f"every rank of a data-parallel fit must pass rows of the same width; "
                f"ranks 0 to {self.size - 1} passed {widths} features."
            )
        if any(labels != seen[0][1] for _, labels in seen):
            raise ValueError(
                "every rank of a data-parallel fit must see the same classes of y (its "
                "rows of every class); they differ between ranks."
            )
        if not sp.issparse(X) and is_file_backed(X):
            raise ValueError(
                "a data-parallel fit (torch.distributed) takes each rank's rows in "
                "memory; pass np.asarray(X[rows]) of the rank's share rather than a "
                "memmap."
            )


def current_group():
    """The initialised process group of more than one process, else :data:`SOLO`."""
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return SOLO
    if dist.get_world_size() < 2:
        return SOLO
    return Group()
