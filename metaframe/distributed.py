"""Several processes, one run: ``torch.distributed`` under ``torchrun``, and the collectives the engine offers.

``torchrun`` starts the same command in every process and tells each its place through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``). :func:`setup` joins the
process group: gloo for tensors on the CPU, NCCL for tensors on CUDA (each process on ``cuda:LOCAL_RANK``).
Process 0 is the *writer*: it alone writes the run folder and prints; the others are silenced.

Every function here is an identity in a single process, so the engine and the algorithms call them
unconditionally. An algorithm never calls ``torch.distributed`` itself: it reaches these collectives
through :class:`metaframe.protocols.OuterAlgorithm` (``reduce_mean``, ``averaged_gradients``), and the
engine merges the logs every process returns.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn

from metaframe.errors import UsageError
from metaframe.output import silence

T = TypeVar("T")
TIMEOUT_VARIABLE = "METAFRAME_DIST_TIMEOUT"
ANNOUNCED = "metaframe_announced"  # set on an error every process has been told of
DEFAULT_TIMEOUT = 1800.0  # seconds a collective waits for a live but silent peer (a dead one fails at once)


class PeerFailed(UsageError):
    """Another process of the run stopped with an error; this one stops too, instead of waiting for it."""


class PeerLost(UsageError):
    """A collective failed: another process of the run died, or stayed silent past the timeout."""


def lost_peer(error: BaseException) -> bool:
    """Whether ``error`` is a collective that failed because another process stopped or went silent."""
    if world_size() == 1 or not isinstance(error, RuntimeError):
        return False
    marks = ("gloo", "NCCL", "Connection reset", "Connection closed", "Broken pipe", "timed out", "Timeout")
    return isinstance(error, dist.DistError) or any(mark in str(error) for mark in marks)


def lost_peer_line(error: BaseException) -> str:
    """One line for :func:`lost_peer` errors: what happened, and where to look."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    reason = reason.split("] ", 1)[-1].split(". ")[0]  # without gloo's source file and advice
    who = f"process {rank()} of {world_size()}"
    return f"{who} lost contact with another process of this run, which died or hung ({reason})"


def launched() -> bool:
    """Whether this process was started by ``torchrun`` (or anything else that sets its variables)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup() -> None:
    """Join the process group when launched by ``torchrun``; silence every process but the writer."""
    if not launched() or dist.is_initialized():
        return
    backend = "gloo"
    if torch.cuda.is_available() and dist.is_nccl_available():
        backend = "cpu:gloo,cuda:nccl"  # the tensor's device picks the backend; objects travel by gloo
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout()))
    if not is_writer():
        silence()


def teardown() -> None:
    """Leave the process group (a no-op in a single process), all together: a process that tore its
    connections down while another still used them made that one abort (seen once in CI under load:
    ``terminate called without an active exception``, SIGABRT in rank 1 after a ``compare``)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


@contextlib.contextmanager
def processes() -> Iterator[None]:
    """The process group for the life of a command. A command that fails leaves without a goodbye: a
    process that died cannot answer one."""
    setup()
    yield
    teardown()


def timeout() -> float:
    """Seconds a collective may wait (``METAFRAME_DIST_TIMEOUT``, default 30 minutes)."""
    value = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        return float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise UsageError(f"{TIMEOUT_VARIABLE}={value!r} is not a number of seconds") from None


def rank() -> int:
    """This process's place in the run, 0 … world size − 1 (0 in a single process)."""
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """How many processes share the run (1 in a single process)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def local_rank() -> int:
    """This process's place on its machine: the CUDA device it uses."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_writer() -> bool:
    """Whether this process writes files and prints (process 0)."""
    return rank() == 0


def place(device: torch.device) -> torch.device:
    """``cuda`` without an index means this process's own GPU, ``cuda:LOCAL_RANK``, when launched."""
    if device.type == "cuda" and device.index is None and launched():
        return torch.device("cuda", local_rank())
    return device


def share(items: Sequence[T]) -> list[T]:
    """This process's share of ``items``: every world-size-th one, starting at its rank."""
    return list(items[rank() :: world_size()])


def check_meta_batch(meta_batch: int) -> None:
    """Every process needs at least one task of each meta-batch."""
    size = world_size()
    if size > meta_batch:
        raise UsageError(
            f"{size} processes share a meta-batch of {meta_batch} task(s), so some would have none: set "
            f"--meta-batch {size} or more, or start at most {meta_batch} process(es)"
        )


def gather(items: list[T]) -> list[T]:
    """Every process's ``items`` (small, picklable: names and figures), concatenated in rank order."""
    if world_size() == 1:
        return list(items)
    parts: list[list[T] | None] = [None] * world_size()
    dist.all_gather_object(parts, items)
    return [item for part in parts for item in part or []]


@torch.no_grad()
def mean(tensors: dict[str, Tensor], count: int) -> dict[str, Tensor]:
    """The mean over every process's tasks: ``tensors`` holds this process's mean over its ``count`` tasks.

    Each process's values are weighted by its ``count``, so an uneven split of the meta-batch still gives
    the mean over all of its tasks. The result is new tensors, the same on every process.
    """
    if world_size() == 1:
        return dict(tensors)
    result: dict[str, Tensor] = {}
    for keys in groups(tensors):  # one all-reduce per dtype and device, not one per tensor
        first = tensors[keys[0]]
        dtype = torch.promote_types(first.dtype, torch.float32)  # counts and sums exact in half precision too
        weight = torch.tensor([float(count)], dtype=dtype, device=first.device)  # rides along: the total count
        flat = torch.cat([*(tensors[key].reshape(-1).to(dtype) * count for key in keys), weight])
        dist.all_reduce(flat)
        flat = flat[:-1] / flat[-1]
        for key, piece in zip(keys, flat.split([tensors[key].numel() for key in keys])):
            result[key] = piece.view_as(tensors[key]).to(tensors[key].dtype)
    return {key: result[key] for key in tensors}


def groups(tensors: dict[str, Tensor]) -> list[list[str]]:
    """The keys of ``tensors`` grouped by dtype and device, in a fixed order (the same on every process)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, value in tensors.items():
        grouped.setdefault((str(value.dtype), str(value.device)), []).append(key)
    return [grouped[group] for group in sorted(grouped)]


def merge_step(logs: dict[str, float], count: int, networks: nn.Module, iteration: int) -> dict[str, float]:
    """After a meta-iteration, in one collective: check that every process holds the same weights, and
    average the logged scalars over every process's tasks (each process's weighted by its ``count``).

    The check catches an algorithm that updated from its own share of the meta-batch only (no
    :meth:`~metaframe.protocols.OuterAlgorithm.reduce_mean`) at its first step, instead of leaving
    process 0 to save weights learned from part of the data.
    """
    if world_size() == 1:
        return logs
    parts = gather([(count, logs, fingerprint(networks))])
    mine = parts[rank()][2]
    # loose enough for rounding on unlike hardware; an algorithm that ignores the others is far off
    if any(not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for _, _, other in parts for a, b in zip(other, mine)):
        raise UsageError(
            f"after meta-iteration {iteration} the {world_size()} processes hold different weights: the algorithm "
            f"updated each from its own share of the meta-batch; run it in one process, or make it average "
            f"through OuterAlgorithm.reduce_mean or averaged_gradients (docs/howto/write-a-plugin.md)"
        )
    keys = dict.fromkeys(key for _, part, _ in parts for key in part)
    weights = {key: sum(n for n, part, _ in parts if key in part) for key in keys}
    return {key: sum(n * part[key] for n, part, _ in parts if key in part) / weights[key] for key in keys}


@torch.no_grad()
def fingerprint(networks: nn.Module) -> list[float]:
    """The sum and the sum of magnitudes of every floating-point weight (float64, one device sync)."""
    values = [value.double() for value in networks.state_dict().values() if value.is_floating_point()]
    if not values:
        return []
    return torch.stack([torch.stack([v.sum(), v.abs().sum()]) for v in values]).sum(0).tolist()


def average_gradients(params: Iterable[Tensor], count: int) -> None:
    """Replace each gradient by its mean over the meta-batch (this process holds the mean over ``count``
    tasks). A parameter no process gave a gradient keeps none, as an optimizer skips it."""
    params = list(params)
    if world_size() == 1 or not params:
        return
    grads = {str(i): p.grad if p.grad is not None else torch.zeros_like(p) for i, p in enumerate(params)}
    present = {str(i): torch.tensor([float(p.grad is not None)]) for i, p in enumerate(params)}
    averaged = mean({**grads, **{f"has.{key}": flag for key, flag in present.items()}}, count)
    for i, param in enumerate(params):
        param.grad = averaged[str(i)] if averaged[f"has.{i}"].item() > 0 else None


@contextlib.contextmanager
def averaged_gradients(optimizers: Iterable[torch.optim.Optimizer], count: int) -> Iterator[None]:
    """Inside the block, every ``step()`` of these optimizers first averages their parameters' gradients
    over the meta-batch (an optimizer step pre-hook), so every process takes the same step."""
    handles = [
        optimizer.register_step_pre_hook(
            lambda opt, args, kwargs: average_gradients((p for g in opt.param_groups for p in g["params"]), count)
        )
        for optimizer in optimizers
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def exchange(error: BaseException | None) -> None:
    """Tell every process whether this one failed (``error``); a process that did not fail raises
    :class:`PeerFailed` when another did, naming it and its message."""
    if world_size() == 1:
        return
    mine = [] if error is None else [(rank(), str(error) or type(error).__name__)]
    failed = gather(mine)
    if failed and error is None:
        who, message = failed[0]
        peer = PeerFailed(f"process {who} of {world_size()} stopped: {message}")
        setattr(peer, ANNOUNCED, True)  # the others know already
        raise peer


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Every process runs the block; if it raises in any of them, all of them stop after it — none is
    left waiting in a collective for a process that has gone.

    Blocks may nest (and hold :func:`local_leader_first`): an error is announced at the first exchange
    after it, which the other processes meet wherever they are, and never again.
    """
    try:
        yield
    except Exception as error:  # noqa: BLE001 - passed on to every process, then raised as it was
        if not getattr(error, ANNOUNCED, False):
            setattr(error, ANNOUNCED, True)
            exchange(error)
        raise
    exchange(None)


@contextlib.contextmanager
def local_leader_first() -> Iterator[None]:
    """Local rank 0 of each machine runs the block first (e.g. fills a cache on disk), then the others
    (who find it filled); an error anywhere stops every process."""
    if world_size() == 1:
        yield
        return
    if local_rank() == 0:
        with together():
            yield
        exchange(None)
    else:
        exchange(None)
        with together():
            yield


def launcher() -> str:
    """The command that starts metaframe the way this process was started (for hints to resume)."""
    if world_size() == 1:
        return "metaframe"
    if os.environ.get("LOCAL_WORLD_SIZE") == str(world_size()):
        return f"torchrun --nproc_per_node {world_size()} -m metaframe"
    return f"torchrun (the same {world_size()} processes) -m metaframe"
