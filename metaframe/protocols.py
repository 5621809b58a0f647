"""The contracts between the engine and its plugins.

Three roles meet in a meta-training run:

* a :class:`TaskSampler` draws :class:`Task` objects (K support examples and a query set) from a
  family of tasks, with an explicit random generator, and lists the held-out evaluation tasks;
* a :class:`TaskModel` owns one or more named networks (all meta-learned state lives in them) and
  knows how to run one adaptation iteration, how to score a query batch and, optionally, how to give
  a differentiable loss of an explicit parameter dict (:attr:`Capability.FUNCTIONAL`);
* an :class:`OuterAlgorithm` turns a meta-batch of tasks into one update of the model's networks.

The engine (:mod:`metaframe.loop`) knows nothing else about any of them. Optional capabilities let
a plugin offer more (:class:`Capability`): a model that scores predictions made elsewhere
(``Capability.PREDICTIONS``), one that predicts from inputs alone (``Capability.RENDER``), a task that
writes examples as files to look at (``Capability.SHOW``). What the examples are (numbers, pictures,
sounds) only the plugins know.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from metaframe import distributed
from metaframe.errors import UsageError
from metaframe.loop import adapt
from metaframe.params import FunctionalOptimizer, OptimizerSpec, of_network

Batch = dict[str, Tensor]
"""A batch is a dict of tensors sharing their first (batch) dimension."""

Shape = tuple[int | str, ...]
"""A tensor's shape as a batch contract states it: an ``int`` is a fixed size, a name (``"B"``, ``"H"``)
any size, the same size wherever it appears in one batch (``"B"``, first, is the batch dimension)."""

BatchKeys = Mapping[str, Shape | None]
"""A batch contract: every key a batch holds, with the :data:`Shape` of its tensors (None: any shape).
Tasks declare what they yield (:attr:`TaskSampler.batch_keys`), models what they read
(:attr:`TaskModel.needs_keys`); the engine compares the two before step 0."""


@dataclass(frozen=True, order=True)
class Capability:
    """Something a model or a task offers beyond the methods every one has, and the methods that perform it.

    A model or task declares what it offers as ``capabilities = frozenset({Capability.FUNCTIONAL, ...})``;
    an algorithm lists the model capabilities it needs in ``requires`` (and ``register(..., requires=...)``).
    The engine's own are the class attributes below; a plugin defines one for the commands it adds
    (``MINE = Capability("mine", ("my_method",))``, then ``capabilities = frozenset({MINE})``).

    A class rather than an :class:`enum.Enum`, because an enum cannot be extended by plugins; frozen, so
    it is hashable and compares by value, and a type checker refuses a plain string where one is
    expected (the engine refuses one too, naming the member to write).

    :param name: how messages spell it (``"functional"``).
    :param performed_by: the methods that perform it: a class that declares it must define them all, and
        a class that defines the method of one of the engine's own must declare it.
    """

    name: str
    performed_by: tuple[str, ...]

    FUNCTIONAL: ClassVar[Capability]
    SAMPLES: ClassVar[Capability]
    PREDICTIONS: ClassVar[Capability]
    RENDER: ClassVar[Capability]
    SHOW: ClassVar[Capability]

    def __str__(self) -> str:
        return self.name


Capability.FUNCTIONAL = Capability("functional", ("functional_loss",))
"""The model implements :meth:`TaskModel.functional_loss` and offers its inner step as a pure function of
the parameters (:meth:`TaskModel.functional_inner_step`, :meth:`TaskModel.inner_optimizer_specs`), so
a second-order algorithm differentiates through the very iterations :func:`metaframe.loop.adapt` runs."""
Capability.SAMPLES = Capability("samples", ("render_samples",))
"""The model implements :meth:`TaskModel.render_samples` (a picture of its predictions)."""
Capability.PREDICTIONS = Capability("predictions", ("score_predictions",))
"""The model implements :meth:`TaskModel.score_predictions`: it scores predictions of a query batch made
elsewhere (by a reference that learns nothing, ``register_references``) with the metrics of
:meth:`TaskModel.score`."""
Capability.RENDER = Capability("render", ("render",))
"""The model predicts, once personalized, from inputs alone: it implements :meth:`TaskModel.render` and
names the batch key it predicts (:attr:`TaskModel.predicts`); an experiment's ``Render`` stage and
commands that plugins add need it."""
Capability.SHOW = Capability("show", ("show",))
"""The task writes a set of examples (the real ones, and models' predictions of them) as files to look
at: it implements :meth:`TaskSampler.show` (what an experiment's ``Render`` stage needs)."""

ENGINE_CAPABILITIES = (
    Capability.FUNCTIONAL,
    Capability.SAMPLES,
    Capability.PREDICTIONS,
    Capability.RENDER,
    Capability.SHOW,
)
"""The engine's own capabilities, each performed by a method of :class:`TaskModel` or :class:`TaskSampler`."""


@dataclass
class Task:
    """One task: K support examples to adapt on and a query set to score the adapted model on.

    :param name: a stable identifier (e.g. the recording and segment it came from), used in reports.
    :param support: the K examples that personalization may look at.
    :param query: held-out examples of the same task; never seen during adaptation.
    :param meta: free-form facts about the task (identity, amplitude, ...), JSON-serializable.
    """

    name: str
    support: Batch
    query: Batch
    meta: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> Task:
        """Return the same task with every tensor on ``device``."""
        return Task(self.name, batch_to(self.support, device), batch_to(self.query, device), self.meta)


def batch_to(batch: Batch, device: torch.device | str) -> Batch:
    """Move every tensor of ``batch`` to ``device`` (a no-op for tensors already there)."""
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def batch_size(batch: Batch) -> int:
    """Number of examples in ``batch`` (the first dimension of its tensors)."""
    return len(next(iter(batch.values())))


class TaskSampler(ABC):
    """A family of tasks.

    Subclasses are built by the factory registered under their name with ``(options, k=K)`` and must be
    deterministic: the same generator state gives the same task, and :meth:`eval_tasks` always gives the
    same list. Evaluation tasks never share an identity with training tasks.

    :attr batch_keys: the keys and shapes of every batch it yields, support and query alike (e.g.
        ``{"x": ("B", 1), "y": ("B", 1)}``); None (the default) declares nothing and skips the check.
    :attr capabilities: what the task offers beyond the required methods (:attr:`Capability.SHOW`, or one a plugin
        defines for the commands it adds).
    """

    batch_keys: ClassVar[BatchKeys | None] = None
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    @property
    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Facts a model needs to shape itself (e.g. ``in_channels``, ``size``), JSON-serializable."""

    @abstractmethod
    def sample(self, generator: torch.Generator) -> Task:
        """Draw one training task using only ``generator`` for randomness."""

    @abstractmethod
    def eval_tasks(self) -> list[Task]:
        """The fixed, ordered list of held-out evaluation tasks."""

    def load(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Load or build the data (e.g. render a synthetic dataset). The engine calls it once, after the
        model has accepted :attr:`info` and before the first task, so ``info`` must not need the data."""

    def close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release background workers or files; called once when the run ends."""

    # -- optional, per capability ---------------------------------------------------------------------
    def show(self, examples: Mapping[str, Tensor], folder: Path) -> dict[str, Any]:
        """With :attr:`Capability.SHOW`: write ``examples`` (one task's query examples, as rows keyed by a label: the
        real ones first, then each model's predictions of them, all on the CPU) as files in ``folder``;
        returns what the stage's record adds (file names relative to ``folder``, counts), JSON-serializable."""
        raise NotImplementedError(f"{type(self).__name__} does not declare the 'show' capability")


class TaskModel(ABC):
    """A model that can be personalized to one task.

    :attr networks: the named networks; everything meta-learned lives in their parameters and
        floating-point buffers. Keys become the key prefixes in ``model.safetensors``.
    :attr capabilities: what the model offers beyond the required methods (:attr:`Capability.FUNCTIONAL`,
        :attr:`Capability.SAMPLES`, ...). Algorithms refuse models that lack what they require.
    :attr metric_goals: for each metric :meth:`score` returns, ``"min"`` or ``"max"`` (which way is
        better), or ``"info"`` for a figure with no better direction.
    :attr metric_scopes: metric-name prefixes that score a part of each example (e.g. a region), each
        with the words that say which part; eval shows such columns with a short prefix and this legend.
    :attr needs_keys: the batch keys (and shapes) it reads; a task that does not yield them is refused
        before step 0. None (the default) declares nothing and skips the check.
    :attr predicts: with :attr:`Capability.RENDER`, the batch key whose values :meth:`render` predicts (the examples'
        targets): it gets batches without it, and a ``Render`` stage shows the real ones beside its own.
    :attr notes: short facts about how this model was built (which weights it loaded, whether a loss is
        on), keyed by a snake_case word; ``run.json`` records them under ``model_notes`` and the run says
        them when it starts (a factory prints nothing itself, so a refused command stays one line).
        Empty by default; each model owns its dict.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    metric_goals: ClassVar[Mapping[str, str]] = {}
    metric_scopes: ClassVar[Mapping[str, str]] = {}
    needs_keys: ClassVar[BatchKeys | None] = None
    predicts: ClassVar[str | None] = None

    def __init__(self, networks: Mapping[str, nn.Module]) -> None:
        self.networks = nn.ModuleDict(dict(networks))
        self.notes: dict[str, str] = {}

    # -- required -------------------------------------------------------------------------------------
    @abstractmethod
    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Fresh optimizers for one personalization, keyed by network name.

        Their ``lr`` is the base learning rate; :func:`metaframe.loop.adapt` scales it by its schedule.
        """

    @abstractmethod
    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        """One adaptation iteration on ``batch`` (for a GAN: a D step then a G step); returns losses."""

    @abstractmethod
    def losses(self, batch: Batch) -> dict[str, Tensor]:
        """Each network's differentiable objective on ``batch``, keyed by network name.

        The gradient of ``losses[name]`` is taken only with respect to network ``name``'s parameters
        (a first-order meta-gradient uses this at the adapted weights).
        """

    @abstractmethod
    def score(self, batch: Batch) -> dict[str, float]:
        """Evaluation metrics of the current weights on ``batch`` (no gradients are needed)."""

    # -- optional, per capability ---------------------------------------------------------------------
    functional_networks: ClassVar[tuple[str, ...]] = ()
    """With :attr:`Capability.FUNCTIONAL`: the networks whose parameters :meth:`functional_loss` takes."""

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        """With :attr:`Capability.FUNCTIONAL`: the inner-loop loss as a function of ``params``.

        ``params`` maps qualified names (``"generator.model.1.weight"``) of every parameter of
        :attr:`functional_networks` to tensors. Another network's entries, when given (a second-order algorithm
        passes the adapted weights of every network), are used held fixed; absent, its current weights are.
        """
        raise NotImplementedError(f"{type(self).__name__} does not declare the 'functional' capability")

    def inner_optimizer_specs(self) -> dict[str, OptimizerSpec]:
        """With :attr:`Capability.FUNCTIONAL`: the optimizer (kind and hyper-parameters) of each network that
        :meth:`inner_optimizers` returns, keyed alike. A model should build its optimizers from these
        (:meth:`OptimizerSpec.build`) so both inner loops use the same ones. Default: read from
        :meth:`inner_optimizers` when each is a plain ``torch.optim.SGD`` or ``Adam``; anything else is
        refused rather than approximated."""
        specs = {}
        for name, optimizer in self.inner_optimizers().items():
            try:
                specs[name] = OptimizerSpec.of(optimizer)
            except ValueError as error:
                raise UsageError(
                    f"{type(self).__name__}'s inner optimizer for {name!r} cannot be differentiated ({error}); "
                    "give the model an inner_optimizer_specs() of sgd or adam"
                ) from None
        return specs

    def functional_inner_step(
        self, params: Mapping[str, Tensor], optimizers: Mapping[str, FunctionalOptimizer], batch: Batch
    ) -> tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]:
        """With :attr:`Capability.FUNCTIONAL`: :meth:`inner_step` as a pure function, the same iteration on the same
        batch (the same filling, for a GAN the same D step then G step), with every network's weights
        taken from ``params`` (qualified names, every network of :meth:`inner_optimizer_specs`) and each
        update made by ``optimizers[name].step(params_of_name, loss)``. Returns the new parameters and
        optimizers; nothing is changed in place. Whether a network's steps are differentiated is the
        optimizer's business, not the model's. Default: every adapted network steps once on the one
        :meth:`functional_loss`, all from the same weights (one network, or networks that share one loss,
        such as a body and a head); networks that take turns on losses of their own (a GAN's D step then
        G step) must be written here, and a model that needs it and lacks it is refused when built."""
        loss = self.functional_loss(params, batch)
        new, stepped = dict(params), {}
        last = len(optimizers) - 1
        for index, (name, optimizer) in enumerate(optimizers.items()):
            # one loss, one graph: every network's gradient is taken from it before the graph is freed
            moved, stepped[name] = optimizer.step(of_network(params, name), loss, retain_graph=index < last)
            new.update(moved)
        return new, stepped

    def render_samples(self, batch: Batch) -> Tensor:
        """With :attr:`Capability.SAMPLES`: a picture (uint8, H×W×3) of the model's predictions on ``batch``."""
        raise NotImplementedError(f"{type(self).__name__} does not declare the 'samples' capability")

    def score_predictions(self, predicted: Tensor, batch: Batch) -> dict[str, float]:
        """With :attr:`Capability.PREDICTIONS`: the metrics of :meth:`score` for ``predicted``, predictions of
        ``batch``'s examples made elsewhere (shaped like what the model itself predicts for them)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare the 'predictions' capability")

    def render(self, batch: Batch) -> Tensor:
        """With :attr:`Capability.RENDER`: predictions of :attr:`predicts` for ``batch``'s examples, as the
        current weights (and support, :meth:`set_support`) make them; ``batch`` may hold the model's inputs
        only, without the key it predicts."""
        raise NotImplementedError(f"{type(self).__name__} does not declare the 'render' capability")

    def set_support(self, support: Batch) -> None:  # noqa: B027 - optional hook, empty by default
        """Called by :func:`metaframe.loop.adapt` with the task's support examples before the first inner
        step. A model whose predictions look at the support examples themselves, not only at its
        weights (a reference-conditioned generator), keeps what it needs here."""

    def personal_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Fresh optimizers for personalizing a trained model on a new task (eval, compare, the run's
        samples, plugins' commands), built after :meth:`set_support`. Default: :meth:`inner_optimizers`,
        the meta-training inner loop's. A model whose best personalization step differs from its inner
        loop's overrides it (a generator that refines a non-learned prediction may take a larger one)."""
        return self.inner_optimizers()

    def memory_estimate(self, examples: int) -> int | None:
        """Bytes one inner step on ``examples`` examples needs (activations, gradients, the batch), or
        None when the model cannot tell. The engine refuses, before anything runs, a K whose estimate
        exceeds the memory the machine has free."""
        return None

    # -- provided -------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """The device of the first parameter (CPU for a model without parameters)."""
        first = next(self.networks.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    def to(self, device: torch.device | str) -> TaskModel:
        """Move every network to ``device``; returns ``self``."""
        self.networks.to(device)
        return self

    def train(self, mode: bool = True) -> None:
        """Put every network in training (or evaluation) mode."""
        self.networks.train(mode)


class OuterAlgorithm(ABC):
    """An outer (meta) algorithm: one call of :meth:`step` is one meta-iteration.

    Built by its registered factory with ``(options, model, settings)`` where ``settings`` is the
    run's :class:`metaframe.config.Settings` (K, T, meta-batch, meta-iterations, ...).

    Under ``torchrun`` each process's :meth:`step` gets its share of the meta-batch. An algorithm whose
    update averages over the meta-batch averages its share, then calls :meth:`reduce_mean` (or wraps
    its optimizer steps in :meth:`averaged_gradients`) so every process applies the same update; the
    engine averages the returned logs. Both are identities in a single process.

    :attr requires: capabilities the model must declare; checked before step 0.
    """

    requires: ClassVar[frozenset[Capability]] = frozenset()

    @abstractmethod
    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        """Perform meta-iteration ``iteration`` (0-based) over ``tasks``; return scalars to log."""

    def describe(self) -> dict[str, Any]:
        """Facts about how this algorithm meta-learns that its options do not show (e.g. which parts of
        the inner loop it differentiates), JSON-serializable; recorded in ``run.json``. Default: none."""
        return {}

    def reduce_mean(self, tensors: dict[str, Tensor], count: int) -> dict[str, Tensor]:
        """The mean over the whole meta-batch of a per-task quantity (adapted weights, meta-gradients):
        ``tensors`` is this process's mean over its ``count`` tasks; the result, new tensors, is the same
        in every process. Every process must call it as often, with the same keys and shapes."""
        return distributed.mean(tensors, count)

    def averaged_gradients(
        self, optimizers: Iterable[torch.optim.Optimizer], count: int
    ) -> contextlib.AbstractContextManager[None]:
        """Inside ``with``, every ``step()`` of ``optimizers`` first replaces its parameters' gradients by
        their mean over the meta-batch (this process's hold the mean over its ``count`` tasks): data-parallel
        training, e.g. plain joint training."""
        return distributed.averaged_gradients(optimizers, count)

    def state_dict(self) -> dict[str, Any]:
        """State beyond the model's weights needed to resume (outer optimizer, ...)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - stateless by default
        """Restore what :meth:`state_dict` returned."""

    def personalize(self, model: TaskModel, support: Batch, steps: int, schedule: str) -> list[dict[str, float]]:
        """The algorithm's personalization hook: how a model it meta-trained is adapted to a new task
        (``eval``, ``compare``, the run's samples and plugins' commands call this). Default:
        :func:`metaframe.loop.adapt` with the model's personal optimizers. An algorithm that meta-learns the
        adaptation itself (only a head, learned step sizes) overrides it."""
        return adapt(model, support, steps, schedule, personal=True)

    def meta_tensors(self) -> dict[str, Tensor]:
        """Meta-learned tensors that are not the model's weights but are needed to personalize it (e.g.
        learned step sizes): saved in ``model.safetensors`` under ``algorithm.`` and given back to
        :meth:`load_meta_tensors` when a run is evaluated. Default: none."""
        return {}

    def load_meta_tensors(self, tensors: dict[str, Tensor]) -> None:  # noqa: B027 - none by default
        """Restore what :meth:`meta_tensors` returned (names without the ``algorithm.`` prefix)."""
