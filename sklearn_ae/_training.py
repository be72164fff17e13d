"""The training loop shared by every estimator (torch only, no scikit-learn).

Speed rules this file keeps: the data is one tensor on the device, minibatches
are slices of a shuffled index, and the running loss stays on the device until
the end of the epoch, when train and validation losses are read in one
transfer.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

__all__ = [
    "TrainingHistory",
    "cosine_factor",
    "cuda_graphs_enabled",
    "denormals_flushed",
    "forked_rng",
    "intra_op_threads",
    "make_generator",
    "resolve_device",
    "train",
    "usable_or_cpu",
]

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(device: str) -> torch.device:
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    Parameters
    ----------
    device : str
        ``"auto"`` (a CUDA GPU when PyTorch sees one, else an Apple GPU
        through MPS, else the CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or
        ``"mps"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the string is not one of the forms above, or names a GPU that
        PyTorch cannot see.
    """
    if not isinstance(device, str) or not _DEVICE_PATTERN.match(device):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}."
        )
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if device == "mps" and not _mps_available():
        built = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_built()
        raise ValueError(
            "device='mps' was requested, but PyTorch sees no Apple GPU "
            "(torch.backends.mps.is_available() is False"
            + ("" if built else "; this PyTorch build has no MPS support")
            + "). Use device='auto' to fall back to the CPU, or device='cpu'."
        )
    resolved = torch.device(device)
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but PyTorch sees no CUDA GPU "
                "(torch.cuda.is_available() is False). Use device='auto' to fall "
                "back to the CPU, or device='cpu'."
            )
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"device={device!r} was requested, but PyTorch sees only {count} "
                f"CUDA device(s): cuda:0 to cuda:{count - 1}."
            )
    return resolved


def usable_or_cpu(device: torch.device) -> torch.device:
    """``device`` when this machine has it, else the CPU (for loading models)."""
    if device.type == "cuda" and not (
        torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    ):
        return torch.device("cpu")
    if device.type == "mps" and not _mps_available():
        return torch.device("cpu")
    return device


def _denormals_are_flushed() -> bool:
    # PyTorch has a setter but no getter; a subnormal float32 times one is
    # zero exactly when flushing is on.
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    return bool((tiny * 1.0).item() == 0.0)


@contextlib.contextmanager
def denormals_flushed(enabled: bool = True) -> Iterator[None]:
    """Flush subnormal floats to zero inside the block, then restore.

    Subnormal activations and gradients slow x86 CPUs down; flushing them was
    measured here to make epochs 10-20% faster with identical losses.
    """
    if not enabled or _denormals_are_flushed():
        yield
        return
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


# A fit whose best loss ends this many times the first epoch's above it has
# diverged, even when every loss stayed finite: on 16 standard normal
# features, learning rates of 10 and more ended 100x to 1e27x above; rates that
# train (1e-4 to 1) end below the first epoch's loss.
_DIVERGED_FACTOR = 100.0

# torch's global generator is one per process: two fits in two threads that
# seed it and draw from it interleave their draws (and the last to restore it
# leaves the other's state behind). Only module construction still needs it
# (layers initialise themselves from it), so that is done under this lock;
# every draw during training comes from a generator of the fit's own.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def forked_rng(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator inside the block, then restore it.

    Holds a process-wide lock for the whole block, so that fits in other
    threads neither see nor disturb the draws; keep the block short (build
    modules on the CPU in it, nothing else).
    """
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def intra_op_threads(n_threads: int) -> Iterator[None]:
    """Run torch ops of this thread on at most ``n_threads`` threads, then restore.

    Never raises the count: limits set by the caller (``torch.set_num_threads``,
    ``threadpoolctl.threadpool_limits``, joblib's workers) stay in force.
    """
    previous = torch.get_num_threads()
    if n_threads >= previous:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded with ``seed``, for a fit's own draws."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@dataclass
class TrainingHistory:
    """What one call of :func:`train` did.

    Attributes
    ----------
    loss_curve : list of float
        Mean training loss of each epoch.
    validation_scores : list of float or None
        Mean validation loss of each epoch, when a validation set was given.
    best_loss : float
        Lowest monitored loss: validation loss when there is a validation set,
        else training loss.
    n_iter : int
        Epochs run.
    converged : bool
        True when the loop stopped because the monitored loss stopped
        improving, False when it ran out of epochs.
    interrupted : bool
        True when the user stopped the loop (KeyboardInterrupt); the module
        then holds the best weights so far, as after early stopping.
    """

    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] | None = None
    best_loss: float = math.inf
    n_iter: int = 0
    converged: bool = False
    interrupted: bool = False


def cosine_factor(step: int, n_steps: int) -> float:
    """Learning-rate factor of a cosine decay to zero after a 5% linear warm-up.

    Parameters
    ----------
    step : int
        Index of the optimisation step, from 0.
    n_steps : int
        Steps in the whole schedule.

    Returns
    -------
    float
        Between 0 and 1.
    """
    warmup = max(1.0, 0.05 * n_steps)
    return min(1.0, (step + 1) / warmup) * 0.5 * (1.0 + math.cos(math.pi * min(step, n_steps) / n_steps))


class _Schedule:
    """Sets every optimizer's learning rate before each step: constant or cosine."""

    def __init__(self, optimizers, kind: str, n_steps: int):
        self.groups = [g for opt in optimizers for g in opt.param_groups]
        # The rates the optimizers were built with are the peak rates.
        self.base = [g["lr"] for g in self.groups]
        self.kind = kind
        self.n_steps = max(1, n_steps)
        self.step = 0

    def __call__(self):
        if self.kind == "cosine":
            factor = cosine_factor(self.step, self.n_steps)
            for group, base in zip(self.groups, self.base):
                if isinstance(group["lr"], torch.Tensor):
                    # A captured step reads its rate from this tensor's
                    # address: update it in place (a kernel, no sync).
                    group["lr"].fill_(base * factor)
                else:
                    group["lr"] = base * factor
        self.step += 1

    @contextlib.contextmanager
    def on_device(self, device):
        """Rates as device tensors and optimizers capturable inside the block.

        A CUDA graph bakes a float rate into its kernels; a tensor rate is
        read at each replay, so the schedule can move it. Restored to floats
        afterwards, so a saved optimizer state is the same as after an eager
        fit and loads on a CPU-only machine.
        """
        saved = [(g["lr"], g.get("capturable", False)) for g in self.groups]
        try:
            for group in self.groups:
                group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32, device=device)
                group["capturable"] = True
            yield
        finally:
            for group, (_, capturable) in zip(self.groups, saved):
                group["lr"] = float(group["lr"])
                group["capturable"] = capturable


def _batch_losses(
    train_step: Callable,
    X: torch.Tensor,
    y: torch.Tensor | None,
    batch_size: int,
    generator: torch.Generator,
    before_step: Callable[[], None],
    autocast: contextlib.AbstractContextManager,
    rows_per_epoch: int | None = None,
) -> torch.Tensor:
    """Run one epoch; return the mean training loss as a device scalar.

    ``rows_per_epoch`` above the number of rows pads the shuffled order with
    rows drawn again at random (as ``DistributedSampler`` pads), so that every
    rank of a data-parallel fit takes the same number of steps.
    """
    n_samples = X.shape[0]
    total = torch.zeros((), device=X.device)
    if hasattr(X, "epoch_batches"):
        # Rows streamed from a file: the source shuffles and batches them.
        batches = X.epoch_batches(batch_size, generator)
    else:
        order = torch.randperm(n_samples, generator=generator)
        if rows_per_epoch is not None and rows_per_epoch > n_samples:
            extra = torch.randint(n_samples, (rows_per_epoch - n_samples,), generator=generator)
            order = torch.cat([order, extra])
            n_samples = rows_per_epoch
        order = order.to(X.device)
        batches = (
            (X[index], None if y is None else y[index])
            for index in (order[start : start + batch_size]
                          for start in range(0, n_samples, batch_size))
        )
    for X_batch, y_batch in batches:
        before_step()
        with autocast:
            loss = train_step(X_batch, y_batch)
        # Weighted by rows so a short last batch counts for what it is.
        total += loss.detach() * X_batch.shape[0]
    return total / n_samples


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


def _use_graphs(X) -> bool:
    return (
        isinstance(X, torch.Tensor)
        and X.device.type == "cuda"
        and cuda_graphs_enabled()
    )


def train(
    module: torch.nn.Module,
    train_step: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    validation_loss: Callable[[], torch.Tensor] | None = None,
    max_iter: int,
    batch_size: int,
    tol: float,
    n_iter_no_change: int,
    generator: torch.Generator,
    verbose: int = 0,
    description: str = "fit",
    optimizers: list | None = None,
    learning_rate: str = "constant",
    autocast_dtype: torch.dtype | None = None,
    step_generators: tuple = (),
    group=None,
    rows_per_epoch: int | None = None,
    validation_rows: int = 0,
) -> TrainingHistory:
    """Train ``module`` by minibatch steps until it stops improving.

    Stopping follows scikit-learn's ``MLPRegressor``: the loop ends when the
    monitored loss has not improved by at least ``tol`` for more than
    ``n_iter_no_change`` consecutive epochs. With a validation set the
    monitored loss is the validation loss, and the weights of the best epoch
    are restored at the end.

    Parameters
    ----------
    module : torch.nn.Module
        Put in training mode for each epoch; weights restored in place.
    train_step : callable
        ``train_step(X_batch, y_batch)`` takes one optimisation step and
        returns the batch's mean loss as a scalar tensor.
    X : torch.Tensor of shape (n_samples, ...)
        Training data, already on the device.
    y : torch.Tensor or None
        Per-row side information sliced like ``X`` (e.g. conditions).
    validation_loss : callable or None
        ``validation_loss()`` returns the mean validation loss as a scalar
        tensor on the device; it is responsible for eval mode and no_grad.
    max_iter : int
        Most epochs to run.
    batch_size : int
        Rows per optimisation step; the last batch may be shorter.
    tol : float
        Smallest decrease of the monitored loss that counts as improvement.
    n_iter_no_change : int
        Epochs without improvement tolerated before stopping.
    generator : torch.Generator
        CPU generator for the shuffling order, so the order is the same on
        every device.
    verbose : int, default=0
        When positive, a tqdm progress bar with the losses of each epoch.
    description : str, default="fit"
        Label of the progress bar.
    optimizers : list of torch.optim.Optimizer or None
        The optimizers ``train_step`` uses, for the learning-rate schedule;
        their current rates are the peak rates.
    learning_rate : {"constant", "cosine"}, default="constant"
        "cosine": a 5% linear warm-up, then a cosine decay to zero at the
        last step of ``max_iter`` epochs. Early stopping may end it sooner.
    autocast_dtype : torch.dtype or None
        When given, training steps run under :func:`torch.autocast` in that
        dtype (weights, optimizer state and validation stay in float32).
    step_generators : tuple of torch.Generator, default=()
        Generators ``train_step`` draws from. On CUDA the steps are captured
        as CUDA graphs, one per batch length (see :func:`cuda_graphs_enabled`),
        and a captured draw advances these generators as an eager one would.
    group : sklearn_ae._distributed.Group or None
        The process group of a data-parallel fit: epoch losses are averaged
        over its ranks (so early stopping agrees), and steps run eagerly.
    rows_per_epoch : int or None
        Rows per epoch, the same on every rank of ``group`` (see
        :func:`_batch_losses`); default the rows of ``X``.
    validation_rows : int, default=0
        This rank's validation rows, to weigh its validation loss in the
        average over ``group``.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    FloatingPointError
        If a loss becomes NaN or infinite (the message names the epoch), or
        the best loss ends more than 100 times the first epoch's magnitude
        above it: diverged, though finite.
    """
    history = TrainingHistory(validation_scores=[] if validation_loss else None)
    best_state = None
    no_improvement = 0
    bar = tqdm(
        total=max_iter, desc=description, unit="epoch", disable=not verbose, leave=True
    )
    steps_per_epoch = math.ceil((rows_per_epoch or X.shape[0]) / batch_size)
    schedule = _Schedule(optimizers or [], learning_rate, max_iter * steps_per_epoch)
    # Graphs are for one process: a data-parallel step all-reduces its
    # gradients in an optimiser hook, outside what a graph replays.
    graphed = _use_graphs(X) and group is None
    autocast = (
        # A graph must not keep autocast's cache of cast weights: the cast
        # would be captured once and then never follow the weights.
        torch.autocast(X.device.type, dtype=autocast_dtype, cache_enabled=not graphed)
        if autocast_dtype is not None
        else contextlib.nullcontext()
    )
    stack = contextlib.ExitStack()
    runner = None
    if graphed:
        stack.enter_context(torch.cuda.device(X.device))
        stack.enter_context(schedule.on_device(X.device))
        runner = _GraphedSteps(train_step, X, y, batch_size, autocast, step_generators)
    try:
        for epoch in range(max_iter):
            module.train()
            if runner is not None:
                order = torch.randperm(X.shape[0], generator=generator).to(X.device)
                losses = [runner.epoch(order, schedule)]
            else:
                losses = [
                    _batch_losses(train_step, X, y, batch_size, generator, schedule, autocast,
                                  rows_per_epoch)
                ]
            if validation_loss is not None:
                losses.append(validation_loss())
            if group is not None:
                # Every rank then sees the same losses and stops together.
                losses[0] = group.average_loss(losses[0], 1.0)
                if validation_loss is not None:
                    losses[1] = group.average_loss(losses[1], float(validation_rows))
            # The one device-to-host transfer of the epoch.
            values = torch.stack(losses).tolist()
            history.n_iter = epoch + 1
            if not all(math.isfinite(v) for v in values):
                raise FloatingPointError(
                    f"the training loss became {values[0]} at epoch {epoch + 1}"
                    + (f" (validation loss {values[1]})" if len(values) > 1 else "")
                )
            history.loss_curve.append(values[0])
            monitored = values[-1]
            if validation_loss is not None:
                history.validation_scores.append(monitored)
            if monitored > history.best_loss - tol:
                no_improvement += 1
            else:
                no_improvement = 0
            if monitored < history.best_loss:
                history.best_loss = monitored
                if validation_loss is not None:
                    best_state = {
                        k: v.detach().clone() for k, v in module.state_dict().items()
                    }
            bar.update(1)
            if verbose:
                postfix = {"loss": f"{values[0]:.4g}"}
                if len(values) > 1:
                    postfix["val_loss"] = f"{values[1]:.4g}"
                bar.set_postfix(postfix)
            if no_improvement > n_iter_no_change:
                history.converged = True
                break
    except KeyboardInterrupt:
        # As MLPRegressor: Ctrl-C ends training, not the fit; what was learnt
        # so far (the best epoch's weights) is kept.
        history.interrupted = True
    finally:
        bar.close()
        if runner is not None:
            # Replays are asynchronous: finish them before the rates turn
            # back into floats and the graph's memory is released.
            torch.cuda.current_stream(X.device).synchronize()
            del runner
        stack.close()
    first = history.loss_curve[0] if history.loss_curve else math.nan
    if abs(first) > 0 and history.best_loss > first + _DIVERGED_FACTOR * abs(first):
        # Finite but useless: the steps threw the weights far from where the
        # first epoch had them, and no epoch came back (too large a rate).
        raise FloatingPointError(
            f"the loss went from {first:.4g} in the first epoch to at best "
            f"{history.best_loss:.4g}"
        )
    if best_state is not None:
        module.load_state_dict(best_state)
    return history
