"""Training steps replayed as CUDA graphs (torch only, no scikit-learn).

On CUDA a training step is a few dozen small kernels; launching them one by
one from Python costs more than running them. Each step is captured once per
batch length and replayed, with the batch's rows gathered into the graph's
input buffer on the device.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import torch

__all__ = ["cuda_graphs_enabled", "graphed_epochs", "use_graphs"]


def cuda_graphs_enabled() -> bool:
    """Whether CUDA fits capture their training steps as CUDA graphs.

    On by default; the environment variable ``SKLEARN_AE_CUDA_GRAPHS=0``
    turns it off (every step then runs eagerly, as on the CPU), for
    debugging or to compare the two paths.
    """
    return os.environ.get("SKLEARN_AE_CUDA_GRAPHS", "1").strip().lower() not in {
        "0", "false", "no", "off"}


# Eager steps before the capture, as PyTorch's whole-network capture recipe
# asks: they create the optimizers' state, cuBLAS handles and autograd's
# buffers outside the graph. They are real training steps on real batches.
_GRAPH_WARMUP_STEPS = 3


class _GraphedSteps:
    """An epoch runner that replays captured training steps on CUDA.

    A step is captured once per fit and batch length, on static buffers:
    before each replay the batch's rows are gathered into the input buffer
    by one ``index_select`` on the device, and the graph adds the batch's
    loss to a device accumulator, so a step costs one gather and one replay
    launch. The first steps (warm-up) run eagerly through the same
    ``train_step``; so does the epoch's shorter last batch the first time it
    comes, after which it has a graph of its own (it has the same length
    every epoch). Each batch is thus trained once, on its own rows, whatever
    the path. If a capture fails, every later step runs eagerly, after one
    warning.
    """

    def __init__(self, train_step, X, y, batch_size, autocast, generators):
        self.train_step = train_step
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.autocast = autocast
        self.generators = [g for g in generators if g is not None and g.device.type == "cuda"]
        self.total = torch.zeros((), device=X.device)
        # Batch length -> (graph, static X rows, static y rows).
        self.graphs = {}
        self.ran_eagerly = set()
        self.failed = False
        self.steps = 0
        self.side_stream = torch.cuda.Stream(device=X.device)

    def _eager(self, index):
        x = self.X[index]
        y = None if self.y is None else self.y[index]
        with self.autocast:
            loss = self.train_step(x, y)
        self.total.add_(loss.detach(), alpha=index.numel())

    def _warm_up(self, index):
        # On a side stream, as PyTorch's recipe does, so that what the first
        # steps initialise lazily is not tied to the default stream.
        self.side_stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side_stream):
            self._eager(index)
        torch.cuda.current_stream().wait_stream(self.side_stream)
        self.ran_eagerly.add(index.numel())

    def _static(self, source, n_rows):
        if source is None:
            return None
        return torch.empty((n_rows, *source.shape[1:]), dtype=source.dtype, device=source.device)

    def _capture(self, n_rows):
        graph = torch.cuda.CUDAGraph()
        x_static, y_static = self._static(self.X, n_rows), self._static(self.y, n_rows)
        # Captured on the side stream by hand rather than through
        # torch.cuda.graph, whose entry empties the allocator's cache (and
        # may collect garbage): tens of milliseconds per fit, and every
        # later allocation of the fit would go back to cudaMalloc.
        stream = self.side_stream
        stream.wait_stream(torch.cuda.current_stream())
        try:
            # The fit's own generator: a captured draw must advance it at
            # each replay as an eager draw would.
            for generator in self.generators:
                graph.register_generator_state(generator)
            with torch.cuda.stream(stream):
                # thread_local: fits in other threads (GridSearchCV with a
                # threading backend) may allocate while this one captures.
                graph.capture_begin(capture_error_mode="thread_local")
                try:
                    with self.autocast:
                        loss = self.train_step(x_static, y_static)
                    self.total.add_(loss.detach(), alpha=n_rows)
                except BaseException:
                    # End the broken capture; the body's error is the one
                    # to report.
                    with contextlib.suppress(Exception):
                        graph.capture_end()
                    raise
                graph.capture_end()
        except Exception as exc:  # noqa: BLE001 (any failure: fall back, say why)
            torch.cuda.current_stream().wait_stream(stream)
            self.failed = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
            warnings.warn(
                f"Capturing the training step as a CUDA graph failed ({type(exc).__name__}: "
                f"{reason}); the rest of this fit trains eagerly, step by step (same "
                "results, slower). Set SKLEARN_AE_CUDA_GRAPHS=0 to skip the attempt.",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        torch.cuda.current_stream().wait_stream(stream)
        self.graphs[n_rows] = (graph, x_static, y_static)

    def epoch(self, order, before_step):
        """Train one epoch over the rows in ``order``; mean loss as a device scalar."""
        self.total.zero_()
        n_samples = order.numel()
        for start in range(0, n_samples, self.batch_size):
            index = order[start : start + self.batch_size]
            n_rows = index.numel()
            before_step()
            if (
                n_rows not in self.graphs
                and not self.failed
                and self.steps >= _GRAPH_WARMUP_STEPS
                # A short batch is captured once it has run eagerly (its
                # shapes then have their kernels and workspaces).
                and (n_rows == self.batch_size or n_rows in self.ran_eagerly)
            ):
                self._capture(n_rows)
            captured = self.graphs.get(n_rows)
            if captured is not None:
                graph, x_static, y_static = captured
                torch.index_select(self.X, 0, index, out=x_static)
                if y_static is not None:
                    torch.index_select(self.y, 0, index, out=y_static)
                graph.replay()
            elif not self.failed:
                self._warm_up(index)
            else:
                self._eager(index)
            self.steps += 1
        return self.total / n_samples


def use_graphs(X) -> bool:
    """Whether training on ``X`` replays graphs: a CUDA tensor, graphs not turned off."""
    return (
        isinstance(X, torch.Tensor)
        and X.device.type == "cuda"
        and cuda_graphs_enabled()
    )


@contextlib.contextmanager
def graphed_epochs(train_step, X, y, batch_size, autocast, step_generators, generator,
                   schedule):
    """A function that trains one epoch through captured steps, inside the block.

    The learning rates are device tensors inside the block (see
    ``_Schedule.on_device``); on leaving it, queued replays are finished
    before the rates turn back into floats and the graphs' memory is freed.
    """
    with torch.cuda.device(X.device), schedule.on_device(X.device):
        runner = _GraphedSteps(train_step, X, y, batch_size, autocast, step_generators)

        def epoch():
            order = torch.randperm(X.shape[0], generator=generator).to(X.device)
            return runner.epoch(order, schedule)

        try:
            yield epoch
        finally:
            # Replays are asynchronous: finish them before the rates turn
            # back into floats, then release the graphs and their memory.
            torch.cuda.current_stream(X.device).synchronize()
            runner.graphs.clear()
