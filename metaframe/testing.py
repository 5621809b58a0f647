"""Helpers for testing metaframe and third-party plugins: contract checks and a CLI runner.

Plugin authors can call :func:`check_sampler`, :func:`check_model` (which runs
:func:`check_functional_inner_loop` for a functional model), :func:`check_algorithm`,
:func:`check_preset` and :func:`check_experiment` from their own tests; metaframe runs them over every
registered name. With :mod:`metaframe.api` it is the whole of metaframe a plugin's tests import
(``load_plugins`` and ``use_plugins`` are here for them).
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from metaframe.batch_contract import batch_errors
from metaframe.capabilities import capability_errors, not_capabilities, task_capability_errors
from metaframe.checkpoint import load_resume, save_resume, write_weights
from metaframe.config import Config, Settings, parse_options, preset_problem
from metaframe.errors import UsageError
from metaframe.experiment import Render, Request, Score, Train, check_plan
from metaframe.functional import functional_adapt
from metaframe.loop import adapt
from metaframe.params import restore, snapshot
from metaframe.plugins import Plugins, load_plugins, use_plugins
from metaframe.protocols import Capability, OuterAlgorithm, Task, TaskModel, TaskSampler, batch_size
from metaframe.registry import Entry
from metaframe.resolve import check_preset_options, check_tables
from metaframe.stages import StageRunner, held_out_probe
from metaframe.training import progress_bars

__all__ = [
    "CliResult",
    "Plugins",
    "check_algorithm",
    "check_functional_inner_loop",
    "check_model",
    "check_experiment",
    "check_preset",
    "check_sampler",
    "from_table",
    "load_plugins",
    "options_for_tests",
    "run_cli",
    "small_settings",
    "use_plugins",
]


def options_for_tests(entry: Entry) -> dict[str, Any]:
    """The smallest options a registry entry declares for tests (``register(..., test_options=...)``),
    else none."""
    if not isinstance(entry, Entry):  # a bare factory, whose test_options attribute 0.2.0 no longer reads
        raise TypeError(
            f"options_for_tests takes a registry entry (e.g. plugins.models.get(name)), not {entry!r}; "
            "a factory's test_options attribute was removed in 0.2.0: use register(..., test_options=...)"
        )
    return dict(entry.test_options)


def from_table(factory: Callable[..., Any], options: type, kind: str) -> Callable[..., Any]:
    """``factory`` called with an option table (a dict, ``--set`` strings allowed) that is first parsed as
    ``options``, as the engine's ``entry.build`` does: for tests that call a plugin's factory directly
    (``build = from_table(build_task, TaskOptions, "task")``; then ``build({"query": "5"}, k=3)``)."""

    def build(table: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        return factory(parse_options(options, dict(table), kind), *args, **kwargs)

    return build


def check_sampler(sampler: TaskSampler, k: int) -> None:
    """Determinism, K support examples, a non-empty query set, repeatable evaluation tasks, and batches
    that match the declared :attr:`~metaframe.protocols.TaskSampler.batch_keys`; its declared capabilities
    and the methods it defines agree."""
    unable = task_capability_errors(sampler)
    assert not unable, f"the task {unable[0]}"
    first = sampler.sample(torch.Generator().manual_seed(3))
    again = sampler.sample(torch.Generator().manual_seed(3))
    assert isinstance(first, Task)
    assert batch_size(first.support) == k, f"support holds {batch_size(first.support)} examples, not K={k}"
    assert batch_size(first.query) >= 1, "the query set is empty"
    for key in first.support:
        assert torch.equal(first.support[key], again.support[key]), f"same seed, different support[{key!r}]"
    evals, evals_again = sampler.eval_tasks(), sampler.eval_tasks()
    assert evals, "no evaluation tasks"
    assert [t.name for t in evals] == [t.name for t in evals_again], "evaluation tasks change between calls"
    assert all(batch_size(t.support) == k for t in evals)
    if sampler.batch_keys is not None:
        for where, batch in {"support": first.support, "query": first.query, "eval support": evals[0].support}.items():
            errors = batch_errors(sampler.batch_keys, batch)
            assert not errors, f"{where} batch breaks the declared batch_keys: {'; '.join(errors)}"


def check_model(model: TaskModel, task: Task, steps: int = 2) -> None:
    """The task holds the batch keys the model needs; adaptation changes the weights and gives finite
    losses; scores, losses and capabilities work."""
    missing = sorted(set(model.needs_keys or ()) - set(task.support))
    assert not missing, f"the model needs batch keys {missing} that the task's support lacks"
    unable = capability_errors(model)
    assert not unable, f"the model {unable[0]}"
    before = snapshot(model.networks)
    history = adapt(model, task.support, steps)
    assert len(history) == steps and all(math.isfinite(v) for log in history for v in log.values())
    after = snapshot(model.networks)
    assert any(not torch.equal(before[key], after[key]) for key in before), "adaptation changed no weight"
    scores = model.score(task.query)
    assert scores and all(math.isfinite(v) for v in scores.values())
    assert set(scores) <= set(model.metric_goals) or not model.metric_goals
    for prefix in model.metric_scopes:  # eval shortens these prefixes in its table
        assert prefix.endswith("_") and any(m.startswith(prefix) for m in scores), f"scope {prefix!r} scores nothing"
    losses = model.losses(task.query)
    assert set(losses) <= set(model.networks), "losses are keyed by network name"
    if Capability.FUNCTIONAL in model.capabilities:
        params = {k: p for k, p in after.items() if k.split(".")[0] in model.functional_networks}
        params = {k: v.requires_grad_() for k, v in params.items() if v.is_floating_point()}
        named = {f"{n}.{k}" for n in model.functional_networks for k, _ in model.networks[n].named_parameters()}
        loss = model.functional_loss({k: v for k, v in params.items() if k in named}, task.support)
        assert loss.dim() == 0 and torch.isfinite(loss)
        check_functional_inner_loop(model, task, small_settings(t=steps))
    if Capability.SAMPLES in model.capabilities:
        picture = model.render_samples(task.query)
        assert picture.dtype == torch.uint8 and picture.dim() == 3 and picture.shape[-1] == 3
    if Capability.RENDER in model.capabilities:
        target = str(model.predicts)
        inputs = {key: value for key, value in task.query.items() if key != target}  # inputs alone
        predicted = model.render(inputs)
        real = task.query[target]
        assert predicted.shape == real.shape, (
            f"render gives {tuple(predicted.shape)}, not {target}'s {tuple(real.shape)}"
        )
        assert bool(torch.isfinite(predicted).all()), "render gives values that are not finite"


def check_functional_inner_loop(
    model: TaskModel, task: Task, settings: Settings | None = None, atol: float = 1e-6
) -> None:
    """With ``Capability.FUNCTIONAL``: the functional inner loop with its graph cut (the trajectory a second-order
    algorithm differentiates) reaches the weights :func:`~metaframe.loop.adapt` reaches, to ``atol``, after
    ``settings.t`` iterations from the same weights and seed, and leaves the model's parameters alone."""
    settings = settings or small_settings(t=3)
    start = snapshot(model.networks)
    torch.manual_seed(settings.seed)
    weights = functional_adapt(model, task.support, settings.t, settings.inner_schedule, differentiate=())
    params = {f"{n}.{k}": p for n, network in model.networks.items() for k, p in network.named_parameters()}
    assert all(torch.equal(p, start[key]) for key, p in params.items()), "functional_adapt changed the model"
    restore(model.networks, start)  # buffers (batch-norm statistics) move in both loops
    torch.manual_seed(settings.seed)
    adapt(model, task.support, settings.t, settings.inner_schedule)
    moved = {key for key, p in params.items() if not torch.equal(p, start[key])}
    assert moved, "adapt moved no weight"
    assert moved <= set(weights), f"the functional inner step leaves out {sorted(moved - set(weights))[:3]}"
    for key, value in weights.items():
        torch.testing.assert_close(value, params[key], atol=atol, rtol=0, msg=functools.partial(named_failure, key))
    restore(model.networks, start)


def named_failure(key: str, message: str) -> str:
    """An assertion message that names the weight it is about."""
    return f"{key}: {message}"


def check_algorithm(algorithm: OuterAlgorithm, model: TaskModel, tasks: list[Task]) -> dict[str, float]:
    """One step changes the weights and logs finite numbers; the algorithm's state survives the files a
    checkpoint really writes (``resume.pt``, read back with ``weights_only=True``) and its meta-learned
    tensors survive ``model.safetensors``; what it requires are :class:`~metaframe.protocols.Capability` values."""
    strings = not_capabilities(algorithm.requires, "requires")
    assert not strings, f"the algorithm {strings[0]}"
    before = snapshot(model.networks)
    logs = algorithm.step(tasks, 0)
    after = snapshot(model.networks)
    assert any(not torch.equal(before[key], after[key]) for key in before), "the step changed no weight"
    assert all(math.isfinite(v) for v in logs.values())
    with tempfile.TemporaryDirectory() as folder:
        resume, weights = Path(folder) / "resume.pt", Path(folder) / "model.safetensors"
        save_resume(resume, {"algorithm": algorithm.state_dict()})
        try:
            state = load_resume(resume)["algorithm"]
        except UsageError as error:
            raise AssertionError(f"state_dict() holds what a weights_only load refuses: {error}") from None
        algorithm.load_state_dict(state)
        write_weights(weights, {k: v.detach().cpu().contiguous() for k, v in algorithm.meta_tensors().items()})
        algorithm.load_meta_tensors(load_file(weights))
    return logs


def check_preset(plugins: Plugins, name: str) -> None:
    """Preset ``name`` is a :class:`~metaframe.config.Preset` whose settings are engine settings, whose
    algorithm, model and task are registered, and whose option tables parse as the options those plugins
    declare (``register(..., options=...)``): a misspelt or mistyped option fails here."""
    preset = plugins.presets.get(name).factory
    problem = preset_problem(preset)
    assert problem is None, f"preset {name!r} {problem}"
    check_preset_options(plugins, name, preset)


def check_experiment(plugins: Plugins, name: str, scales: Sequence[str] | None = None) -> None:
    """Experiment ``name`` has scales, each with K and T sweeps of positive integers; its plan at each of
    ``scales`` (default: all of them; a plan may draw held-out tasks, so a test picks the cheap ones) is
    well formed, and every stage names registered plugins with option tables they declare."""
    experiment = plugins.experiments.get(name).factory()
    assert experiment.scales, f"experiment {name!r} has no scales"
    for scale in experiment.scales:
        ks, ts = experiment.sweeps(scale)
        values = (*ks, *ts)
        assert ks and ts and all(isinstance(v, int) and v >= 1 for v in values), f"{name} {scale}: {ks}, {ts}"
    with tempfile.TemporaryDirectory() as folder:
        runner = StageRunner(plugins, Path(folder), "cpu", progress_bars(False), False)
        for scale in experiment.scales if scales is None else scales:
            ks, ts = experiment.sweeps(scale)
            stages = experiment.plan(Request(name, scale, (1,), ks, ts), held_out_probe(runner))
            check_plan(stages)
            for stage in stages:
                config: Config | None = None
                if isinstance(stage, Train):
                    config = runner.train_config(stage)
                elif isinstance(stage, Score | Render):
                    config = runner.eval_config(stage.model, stage.task, stage.assignments, [])
                if config is not None:
                    names = {"algorithm": config.algorithm, "model": config.model, "task": config.task}
                    try:
                        check_tables(plugins, names, config.options)
                    except UsageError as error:
                        raise AssertionError(f"{name} {scale}, stage {stage.name}: {error}") from None


def small_settings(**changes: Any) -> Settings:
    """Engine settings for fast tests (K=2, T=2, 3 meta-iterations on the CPU)."""
    return Settings(**{"k": 2, "t": 2, "meta_iterations": 3, "device": "cpu", **changes})


@dataclass
class CliResult:
    """What a command printed and returned."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], plugins: Plugins | None = None) -> CliResult:
    """Run ``metaframe ARGS`` in-process (as the console script does), capturing its output."""
    from metaframe.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with _maybe_use(plugins), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _maybe_use(plugins: Plugins | None) -> Iterator[None]:
    if plugins is None:
        yield
    else:
        with use_plugins(plugins):
            yield
