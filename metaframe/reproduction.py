"""Reproducing a registered experiment from its name (:func:`reproduce`, what ``metaframe reproduce`` does):
the request (scale, seeds, sweeps), then its stages and ``report.md`` (:mod:`metaframe.stages`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from metaframe import distributed
from metaframe.errors import UsageError, as_usage_errors, check_counts
from metaframe.experiment import Request
from metaframe.plugins import Plugins, get_plugins
from metaframe.resolve import as_path
from metaframe.stages import run_experiment


def whole_numbers(text: str | None, flag: str) -> tuple[int, ...] | None:
    """``1,5,10`` as positive integers; anything else is refused in one line."""
    if text is None:
        return None
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UsageError(f"{flag}: {part!r} is not a positive whole number; give a list such as 1,5,10,20")
        values.append(int(part))
    if len(set(values)) != len(values):
        raise UsageError(f"{flag}: {text} names a value twice; give each once")
    return tuple(values)


def as_text(values: str | Sequence[int] | None) -> str | None:
    """A sweep as ``--ks`` takes it, whether given as text or as numbers."""
    return values if values is None or isinstance(values, str) else ",".join(map(str, values))


def patterns_of(only: str | Sequence[str] | None) -> list[str]:
    """``--only``'s stage patterns, from ``a,b`` or a list; an empty choice is refused."""
    if only is None:
        return []
    parts = only.split(",") if isinstance(only, str) else list(only)
    patterns = [part.strip() for part in parts if part.strip()]
    if not patterns:
        raise UsageError("--only: give stage names or patterns, e.g. --only 'score-*-t40-*'")
    return patterns


def request_of(
    plugins: Plugins,
    experiment: str | None,
    scale: str | None,
    seeds: int,
    ks: str | Sequence[int] | None,
    ts: str | Sequence[int] | None,
) -> Request:
    """The request for ``experiment``: its first scale unless one is named, seeds 1..``seeds``, and the
    scale's sweeps of K and T unless given."""
    if experiment is None:
        raise UsageError("name the experiment to run (`metaframe reproduce --list` shows them)")
    if distributed.world_size() > 1:
        raise UsageError("reproduce runs its stages in one process; run it without torchrun")
    check_counts(seeds=seeds)
    made = plugins.experiments.get(experiment).factory()
    scale = scale or made.scales[0]
    if scale not in made.scales:
        raise UsageError(f"unknown scale {scale!r} for experiment {experiment}; choose {', '.join(made.scales)}")
    default_ks, default_ts = made.sweeps(scale)
    chosen_ks = whole_numbers(as_text(ks), "--ks") or default_ks
    chosen_ts = whole_numbers(as_text(ts), "--ts") or default_ts
    return Request(experiment, scale, tuple(range(1, seeds + 1)), chosen_ks, chosen_ts)


def default_out(request: Request) -> Path:
    """``runs/reproduce-NAME-SCALE``."""
    return Path("runs") / f"reproduce-{request.experiment}-{request.scale}"


def command_of(request: Request, out: Path, seeds: int, device: str | None) -> list[str]:
    """The command line a Python call stands for (what ``report.md`` says made it)."""
    args = ["reproduce", request.experiment, "--scale", request.scale, "--out", str(out)]
    args += ["--ks", ",".join(map(str, request.ks)), "--ts", ",".join(map(str, request.ts))]
    args += ["--seeds", str(seeds)] if seeds != 1 else []
    return args + (["--device", device] if device else [])


@as_usage_errors
def reproduce(
    experiment: str,
    *,
    scale: str | None = None,
    seeds: int = 1,
    ks: str | Sequence[int] | None = None,
    ts: str | Sequence[int] | None = None,
    out: str | Path | None = None,
    only: str | Sequence[str] | None = None,
    report_only: bool = False,
    device: str | None = None,
    show_progress: bool = False,
    plugins: Plugins | None = None,
    argv: Sequence[str] | None = None,
) -> Path:
    """Run ``experiment``'s stages (trainings, evaluations, renders), finished ones skipped, then write
    ``report.md`` in ``out`` and return its path: ``metaframe reproduce``.

    :param only: run only the stages matching these shell-style patterns, and those they use.
    :param report_only: write the report of the stages finished so far and run nothing.
    :param argv: the command line to record (the console script's; by default the one this call stands for).
    :raises UsageError: whatever the command line would refuse, with the line it prints.
    """
    plugins = plugins or get_plugins()
    request = request_of(plugins, experiment, scale, seeds, ks, ts)
    folder = as_path(out) or default_out(request)
    patterns = patterns_of(only)
    argv = list(argv) if argv is not None else command_of(request, folder, seeds, device)
    return run_experiment(plugins, request, folder, device, show_progress, argv, report_only, patterns)
