"""Where and how a fit computes: device, precision, threads, random state.

Plain functions of plain arguments (torch only, no scikit-learn): the
estimator asks them, and they never call back into it.
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
from collections.abc import Iterator

import torch

__all__ = [
    "cpu_has_amx",
    "cpu_state",
    "denormals_flushed",
    "forked_rng",
    "intra_op_threads",
    "make_generator",
    "optimizer_state_to_cpu",
    "resolve_device",
    "resolve_precision",
    "restore_moments",
    "training_threads",
    "usable_or_cpu",
]

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

# Networks with fewer weights than this train on one CPU thread (see
# training_threads for the measurements).
_SMALL_NETWORK_WEIGHTS = 150_000

# precision="auto" uses bfloat16 from this hidden width on (AMX CPUs): at
# (512, 256) and (1024, 512) on MNIST the epoch took 0.58x and 0.44x the
# float32 time with the same test error.
_BF16_MIN_WIDTH = 256


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _check_mps() -> None:
    if _mps_available():
        return
    built = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_built()
    raise ValueError(
        "device='mps' was requested, but PyTorch sees no Apple GPU "
        "(torch.backends.mps.is_available() is False"
        + ("" if built else "; this PyTorch build has no MPS support")
        + "). Use device='auto' to fall back to the CPU, or device='cpu'."
    )


def _check_cuda(device: str, resolved: torch.device) -> None:
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
    if device == "mps":
        _check_mps()
    resolved = torch.device(device)
    if resolved.type == "cuda":
        _check_cuda(device, resolved)
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


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles for bfloat16 (PyTorch's own probe)."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except Exception:  # a probe that fails means no AMX we can rely on
        return False


def resolve_precision(precision: str, hidden_layer_sizes, device: torch.device) -> str:
    """``precision="auto"``: bfloat16 for wide networks on AMX CPUs, else float32."""
    if precision != "auto":
        return precision
    wide = max(hidden_layer_sizes, default=0) >= _BF16_MIN_WIDTH
    return "bfloat16" if device.type == "cpu" and wide and cpu_has_amx() else "float32"


def training_threads(module: torch.nn.Module, device: torch.device) -> int:
    """Most CPU threads a training step may use (torch's own count or fewer).

    A small network's step is too short to share: on 2 cores, one thread
    trained 64- and 128-feature tables as fast as two (1.0x, 1.09x), and
    when another process held a core, two threads took 16 s where one
    took 0.33 s (OpenMP threads waiting for a descheduled peer). From
    about 200,000 weights on, two threads were 1.2-1.6x faster idle.
    """
    if device.type != "cpu":
        return torch.get_num_threads()
    weights = sum(p.numel() for p in module.parameters() if p.ndim > 1)
    return 1 if weights < _SMALL_NETWORK_WEIGHTS else torch.get_num_threads()


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


def optimizer_state_to_cpu(state):
    """Copy of an optimizer ``state_dict`` with every tensor on the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu")
    if isinstance(state, dict):
        return {k: optimizer_state_to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [optimizer_state_to_cpu(v) for v in state]
    return state


def restore_moments(optimizers, states):
    """Load each optimizer's saved ``state_dict``, keeping its current learning rates.

    Moments carry over to a warm start; the rates are the new fit's (a
    finished cosine schedule saved rates near zero).
    """
    for optimizer, state in zip(optimizers, states):
        rates = [g["lr"] for g in optimizer.param_groups]
        optimizer.load_state_dict(state)
        for param_group, rate in zip(optimizer.param_groups, rates):
            param_group["lr"] = rate


def cpu_state(state, keep_optimizer):
    """A fitted estimator's ``__dict__`` to pickle: CPU tensors only, device as text.

    A model fitted on a GPU then loads on a machine without one. Adam's
    moments are twice the weights and serve only a later warm start: without
    them (``keep_optimizer=False``) a pickle is about a third of the size.
    """
    if "module_" in state:
        state["module_"] = copy.deepcopy(state["module_"]).to("cpu")
    if keep_optimizer:
        state["_optimizer_state"] = [
            optimizer_state_to_cpu(s) for s in state.get("_optimizer_state", [])
        ]
    else:
        state.pop("_optimizer_state", None)
    if "device_" in state:
        state["device_"] = str(state["device_"])
    return state
