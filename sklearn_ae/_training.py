"""The training loop shared by every estimator (torch only, no scikit-learn).

Speed rules this file keeps: the data is one tensor on the device, minibatches
are slices of a shuffled index, and the running loss stays on the device until
the end of the epoch, when train and validation losses are read in one
transfer.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ._cuda_graphs import graphed_epochs, use_graphs
from ._distributed import SOLO

__all__ = [
    "LoopSettings",
    "TrainingHistory",
    "cosine_factor",
    "train",
    "validation_loss_fn",
]

# A fit whose best loss ends this many times the first epoch's above it has
# diverged, even when every loss stayed finite: on 16 standard normal
# features, learning rates of 10 and more ended 100x to 1e27x above; rates that
# train (1e-4 to 1) end below the first epoch's loss.
_DIVERGED_FACTOR = 100.0


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

    @classmethod
    def joined(cls, histories):
        """The trainings of one fit (a network, then its refit) as one history.

        Curves and epochs add up; the validation scores are None when the
        last training had no validation set; the rest is the last one's.
        """
        last = histories[-1]
        validation = None
        if last.validation_scores is not None:
            validation = [v for h in histories for v in (h.validation_scores or [])]
        return cls([v for h in histories for v in h.loss_curve], validation, last.best_loss,
                   sum(h.n_iter for h in histories), last.converged, last.interrupted)


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


class _EarlyStopping:
    """MLPRegressor's stopping rule, and the best epoch's weights to restore.

    The loop ends when the monitored loss has not improved by at least
    ``tol`` for more than ``n_iter_no_change`` consecutive epochs. With
    ``keep_best`` (a validation set), the weights of the epoch with the
    lowest monitored loss are kept and restored at the end.
    """

    def __init__(self, tol, n_iter_no_change, keep_best):
        self.tol, self.n_iter_no_change, self.keep_best = tol, n_iter_no_change, keep_best
        self.best_loss = math.inf
        self.best_state = None
        self.no_improvement = 0

    def update(self, monitored, module):
        """Record an epoch's monitored loss; True when training should stop."""
        if monitored > self.best_loss - self.tol:
            self.no_improvement += 1
        else:
            self.no_improvement = 0
        if monitored < self.best_loss:
            self.best_loss = monitored
            if self.keep_best:
                self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        return self.no_improvement > self.n_iter_no_change

    def restore(self, module):
        """Put the best epoch's weights back into ``module`` (when they were kept)."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def _check_finite(values, epoch):
    if not all(math.isfinite(v) for v in values):
        raise FloatingPointError(
            f"the training loss became {values[0]} at epoch {epoch + 1}"
            + (f" (validation loss {values[1]})" if len(values) > 1 else "")
        )


def _check_not_diverged(history):
    first = history.loss_curve[0] if history.loss_curve else math.nan
    if abs(first) > 0 and history.best_loss > first + _DIVERGED_FACTOR * abs(first):
        # Finite but useless: the steps threw the weights far from where the
        # first epoch had them, and no epoch came back (too large a rate).
        raise FloatingPointError(
            f"the loss went from {first:.4g} in the first epoch to at best "
            f"{history.best_loss:.4g}"
        )


@contextlib.contextmanager
def _epoch_runner(train_step, X, y, batch_size, generator, schedule, autocast, graphed,
                  step_generators, rows_per_epoch):
    """A function that trains one epoch and returns its mean loss as a device scalar."""
    if graphed:
        with graphed_epochs(train_step, X, y, batch_size, autocast, step_generators,
                            generator, schedule) as epoch:
            yield epoch
        return
    yield lambda: _batch_losses(train_step, X, y, batch_size, generator, schedule, autocast,
                                rows_per_epoch)


def _epoch_losses(run_epoch, validation_loss, group, validation_rows):
    """This epoch's training (and validation) loss, read in one transfer."""
    # Averaged over the ranks of a data-parallel fit, so that every rank
    # sees the same losses and stops together.
    losses = [group.average_loss(run_epoch(), 1.0)]
    if validation_loss is not None:
        losses.append(group.average_loss(validation_loss(), float(validation_rows)))
    # The one device-to-host transfer of the epoch.
    return torch.stack(losses).tolist()


def _show(bar, verbose, values):
    bar.update(1)
    if verbose:
        postfix = {"loss": f"{values[0]:.4g}"}
        if len(values) > 1:
            postfix["val_loss"] = f"{values[1]:.4g}"
        bar.set_postfix(postfix)


@dataclass
class LoopSettings:
    """How :func:`train` runs: the estimator's parameters, resolved for one fit.

    Attributes
    ----------
    max_iter : int
        Most epochs to run.
    batch_size : int
        Rows per optimisation step; the last batch may be shorter.
    tol : float
        Smallest decrease of the monitored loss that counts as improvement.
    n_iter_no_change : int
        Epochs without improvement tolerated before stopping.
    learning_rate : {"constant", "cosine"}
        "cosine": a 5% linear warm-up, then a cosine decay to zero at the
        last step of ``max_iter`` epochs. Early stopping may end it sooner.
    autocast_dtype : torch.dtype or None
        When given, training steps run under :func:`torch.autocast` in that
        dtype (weights, optimizer state and validation stay in float32).
    verbose : int
        When positive, a tqdm progress bar with the losses of each epoch.
    description : str
        Label of the progress bar.
    rows_per_epoch : int or None
        Rows per epoch, the same on every rank of a data-parallel group (see
        :func:`_batch_losses`); None: the rows of ``X``.
    validation_rows : int
        This rank's validation rows, to weigh its validation loss in the
        average over a data-parallel group.
    """

    max_iter: int
    batch_size: int
    tol: float
    n_iter_no_change: int
    learning_rate: str = "constant"
    autocast_dtype: torch.dtype | None = None
    verbose: int = 0
    description: str = "fit"
    rows_per_epoch: int | None = None
    validation_rows: int = 0


def train(module, train_step, X, y=None, *, settings, generator, validation_loss=None,
          optimizers=None, step_generators=(), group=SOLO, watch=None) -> TrainingHistory:
    """Train ``module`` by minibatch steps until it stops improving.

    Stopping follows ``MLPRegressor`` (:class:`_EarlyStopping`); with a
    validation set the best epoch's weights are restored.

    Parameters
    ----------
    module : torch.nn.Module
    train_step : callable
        ``train_step(X_batch, y_batch)``: one step; the batch's mean loss.
    X, y : torch.Tensor (y may be None)
        Rows on the device (or rows that stand in for them), side information.
    settings : LoopSettings
    generator : torch.Generator
        CPU generator of the shuffling order (the same on every device).
    validation_loss : callable or None
        Mean validation loss as a device scalar (:func:`validation_loss_fn`).
    optimizers : list of torch.optim.Optimizer or None
        Those ``train_step`` uses, for the schedule; their rates are the peaks.
    step_generators : tuple of torch.Generator
        Those ``train_step`` draws from (a CUDA graph's replay advances them).
    group : sklearn_ae._distributed.Group or Solo
        A data-parallel fit's group: losses averaged over ranks, steps eager.
    watch : callable or None
        ``watch(n_epochs, module)`` after each epoch: True ends training
        (e.g. once another model is sure to be kept); the best epoch's
        weights are restored as after early stopping.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    FloatingPointError
        A loss not finite, or the best 100x the first epoch's magnitude above it.
    """
    history = TrainingHistory(validation_scores=[] if validation_loss else None)
    stopping = _EarlyStopping(settings.tol, settings.n_iter_no_change,
                              keep_best=validation_loss is not None)
    # Graphs are for one process: a data-parallel step all-reduces its
    # gradients in an optimiser hook, outside what a graph replays.
    graphed = use_graphs(X) and group.size == 1
    run = _runner_arguments(train_step, X, y, settings, generator, optimizers, graphed)
    bar = tqdm(total=settings.max_iter, desc=settings.description, unit="epoch",
               disable=not settings.verbose, leave=True)
    with bar, _epoch_runner(*run, graphed, step_generators, settings.rows_per_epoch) as epoch:
        try:
            _epochs(module, epoch, validation_loss, group, settings, stopping, history, bar,
                    watch)
        except KeyboardInterrupt:
            # As MLPRegressor: Ctrl-C ends training, not the fit; what was
            # learnt so far (the best epoch's weights) is kept.
            history.interrupted = True
    _check_not_diverged(history)
    stopping.restore(module)
    return history


def _epochs(module, epoch, validation_loss, group, settings, stopping, history, bar, watch):
    """Run epochs until the stopping rule or ``max_iter`` ends them, into ``history``."""
    for n in range(settings.max_iter):
        module.train()
        values = _epoch_losses(epoch, validation_loss, group, settings.validation_rows)
        history.n_iter = n + 1
        _check_finite(values, n)
        history.loss_curve.append(values[0])
        if validation_loss is not None:
            history.validation_scores.append(values[-1])
        stop = stopping.update(values[-1], module)
        history.best_loss = stopping.best_loss
        _show(bar, settings.verbose, values)
        if stop:
            history.converged = True
            return
        if watch is not None and watch(n + 1, module):
            return


def _runner_arguments(train_step, X, y, settings, generator, optimizers, graphed):
    """What an epoch runner takes: the step, rows, batch size, schedule, autocast."""
    rows = settings.rows_per_epoch or X.shape[0]
    steps_per_epoch = math.ceil(rows / settings.batch_size)
    schedule = _Schedule(optimizers or [], settings.learning_rate,
                         settings.max_iter * steps_per_epoch)
    autocast = contextlib.nullcontext()
    if settings.autocast_dtype is not None:
        # A graph must not keep autocast's cache of cast weights: the cast
        # would be captured once and then never follow the weights.
        autocast = torch.autocast(X.device.type, dtype=settings.autocast_dtype,
                                  cache_enabled=not graphed)
    return train_step, X, y, settings.batch_size, generator, schedule, autocast


def validation_loss_fn(per_row_loss, module, X_val, y_val, chunk):
    """``validation_loss()`` for :func:`train`: mean per-row loss of the validation rows.

    ``per_row_loss(module, rows, conditions)`` gives each row's loss; the
    rows are taken ``chunk`` at a time (streamed rows in their source's
    chunks, in file order), and the mean stays a device scalar.
    """

    def parts():
        if hasattr(X_val, "chunks"):
            # Streamed from a file: the source's chunks, in file order.
            yield from X_val.chunks()
        else:
            yield X_val, y_val

    def validation_loss():
        module.eval()
        total = torch.zeros((), device=X_val.device)
        with torch.no_grad():
            for rows, conditions in parts():
                for start in range(0, rows.shape[0], chunk):
                    y_chunk = None if conditions is None else conditions[start : start + chunk]
                    total += per_row_loss(module, rows[start : start + chunk], y_chunk).sum()
        return total / X_val.shape[0]

    return validation_loss

