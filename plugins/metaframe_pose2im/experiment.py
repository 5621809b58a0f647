"""The ``metapix`` experiment: the paper's whole evaluation as stages for ``metaframe reproduce metapix``.

Pretrain → MetaPix (K, T as in Table 1) → evaluations: Table 1 (with the references that learn nothing,
Pretrain at equal compute and the K = ∞ upper bound), Figure 2 (K sweep), Figure 5 (T sweep), the ε and
generator-only ablations, and Figure 3 (temporal coherence). The report is written by
:mod:`metaframe_pose2im.experiment_report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from metaframe.api import Given, HeldOut, Render, Request, Results, Score, Train, UsageError
from metaframe_pose2im import experiment_report
from metaframe_pose2im.weights import PRETRAINED_DIR

MODEL, TASK = "pose2im", "video-shot"
REFERENCES = ("warp", "copy-nearest", "mean-support")
RANDOM = "random"


@dataclass(frozen=True)
class Budget:
    """What one scale spends.

    :param world: model and task ``--set`` assignments of every stage (architecture, frame size, dancers).
    :param pretrain: meta-iterations of the pretraining stage; ``None``: the pretrained weights that ship
        with the plugin (made by ``tools/make_pretrained.py``, docs/reference/pretrained.md).
    :param meta_iterations: MetaPix's meta-iterations at Table 1's K and T (and Pretrain at equal compute's).
    :param k: Table 1's K.
    :param t: Table 1's T.
    :param upper_epochs: epochs over all support frames for the K = ∞ upper bound (the paper: 10).
    :param ks: default K list of Figure 2.
    :param ts: default T list of Figure 5.
    :param summary: one line for the docs and the report.
    """

    world: tuple[str, ...]
    pretrain: int | None
    meta_iterations: int
    k: int
    t: int
    upper_epochs: int
    ks: tuple[int, ...]
    ts: tuple[int, ...]
    summary: str


TINY_WORLD = ("task.identities=4", "task.eval_identities=2", "task.frames=24", "task.query=3", "task.eval_query=3")
BUDGETS = {
    "small": Budget(
        ("model.scale=small", "task.size=128"),
        None,
        20,
        5,
        20,
        5,
        (1, 5, 10, 20),
        (5, 10, 20, 40),
        "CPU: the shipped pretrained small Pose2Im (128 px), 20 MetaPix meta-iterations per seed, 8 held-out dancers",
    ),
    "tiny": Budget(
        ("model.scale=tiny", "task.size=32", *TINY_WORLD),
        4,
        2,
        2,
        2,
        1,
        (1, 2),
        (1, 2),
        "seconds: a 32 px model on 4 tiny dancers, for tests of the stages and the report (not of quality)",
    ),
    "paper": Budget(
        ("model.scale=paper", "task.size=512"),
        3000,
        300,
        5,
        20,
        10,
        (1, 5, 10, 20),
        (10, 20, 50, 100),
        "GPU: pix2pixHD's global generator at 512 px, 3000 pretraining and 300 MetaPix meta-iterations",
    ),
}
BATCH = 8  # frames per inner iteration (the model's batch_size): an epoch over N frames is N / 8 of them


def settings(k: int, t: int, seed: int) -> tuple[str, ...]:
    return (f"k={k}", f"t={t}", f"seed={seed}")


class MetaPixExperiment:
    """MetaPix (Lee, Ramanan and Girdhar, 2019): Table 1, Figures 2, 3 and 5 and the ablations."""

    scales = tuple(BUDGETS)

    def sweeps(self, scale: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return BUDGETS[scale].ks, BUDGETS[scale].ts

    def plan(self, request: Request, held_out: HeldOut) -> list[Given | Train | Score | Render]:
        budget = BUDGETS[request.scale]
        world, first = budget.world, request.seeds[0]
        tasks = held_out(MODEL, TASK, (*world, "k=1"))
        k_all = min(task.meta["split"] for task in tasks)  # every frame before the 85 % split
        held_frames = min(task.meta["frames"] - task.meta["split"] for task in tasks)
        too_big = [k for k in request.ks if k > k_all]
        if too_big:
            shortest = min(tasks, key=lambda task: task.meta["split"])
            raise UsageError(
                f"--ks {too_big[0]}: held-out shot {shortest.name} has only {k_all} frames before its 85 % split; "
                f"give K values up to {k_all}"
            )

        stages: dict[str, Given | Train | Score | Render] = {}

        def add(stage: Given | Train | Score | Render) -> Given | Train | Score | Render:
            return stages.setdefault(stage.name, stage)

        if budget.pretrain is None:
            pretrain = add(
                Given("pretrain", PRETRAINED_DIR / "small.safetensors", "Pretrain: the shipped small Pose2Im")
            )
        else:
            pretrain = add(
                Train(
                    "pretrain",
                    "pretrain",
                    MODEL,
                    TASK,
                    (
                        *world,
                        "model.init=none",
                        "sample_every=0",
                        f"meta_iterations={budget.pretrain}",
                        *settings(budget.k, budget.t, first),
                    ),
                    about="Pretrain: plain joint training on the training dancers, from fresh weights",
                )
            )

        def meta_train(
            name: str,
            about: str,
            algorithm: str = "reptile",
            k: int = budget.k,
            t: int = budget.t,
            seed: int = first,
            iterations: int = budget.meta_iterations,
            extra: tuple[str, ...] = (),
        ) -> Train:
            assignments = (
                *world,
                "model.init=none",
                "sample_every=0",
                f"meta_iterations={iterations}",
                *settings(k, t, seed),
                *extra,
            )
            return add(Train(name, algorithm, MODEL, TASK, assignments, pretrain, about))

        def score(init: Given | Train | str, k: int = budget.k, t: int = budget.t, seed: int = first) -> Score:
            label = init if isinstance(init, str) else init.name
            about = f"eval {label} at K={k}, T={t}, seed {seed}"
            name = experiment_report.score_name(label, k, t, seed)
            return add(Score(name, init, MODEL, TASK, (*world, *settings(k, t, seed)), about))

        # Ordered so that a partial report (--report) is useful early: Table 1 for the first seed, Figure 3,
        # the K = ∞ bound and the ablations, Table 1 for the other seeds, then the sweeps.
        def table1(seed: int) -> tuple[Train, Train]:
            metapix = meta_train(f"metapix-s{seed}", f"MetaPix, seed {seed}", seed=seed)
            equal = meta_train(
                f"pretrain-equal-s{seed}", f"Pretrain at equal compute, seed {seed}", "pretrain", seed=seed
            )
            for init in (*REFERENCES, RANDOM, pretrain, equal, metapix):
                score(init, seed=seed)
            return metapix, equal

        metapix, _ = table1(first)
        add(
            Render(
                "temporal",
                (pretrain, metapix),
                ("Pretrain", "MetaPix"),
                MODEL,
                TASK,
                (*world, *settings(budget.k, budget.t, first), f"task.eval_query={held_frames}"),
                about="Figure 3: every held-out frame of one dancer, Pretrain and MetaPix personalized",
            )
        )
        upper_t = max(1, math.ceil(budget.upper_epochs * k_all / BATCH))
        for init in (RANDOM, pretrain):
            score(init, k=k_all, t=upper_t)
        score(meta_train("metapix-epsilon-0.1", "MetaPix, ε = 0.1", extra=("algorithm.epsilon=0.1",)))
        score(meta_train("metapix-generator-only", "MetaPix, generator only", extra=("algorithm.networks=generator",)))
        for seed in request.seeds[1:]:
            table1(seed)
        for k in request.ks:
            trained = metapix if k == budget.k else meta_train(f"metapix-k{k}", f"MetaPix trained at K={k}", k=k)
            for init in (*REFERENCES, RANDOM, pretrain, metapix, trained):
                score(init, k=k)
        for t in request.ts:
            steps = max(1, round(budget.meta_iterations * budget.t / t))  # the same inner steps as at Table 1's T
            trained = (
                metapix
                if t == budget.t
                else meta_train(f"metapix-t{t}", f"MetaPix trained at T={t}", t=t, iterations=steps)
            )
            for init in (RANDOM, pretrain, metapix, trained):
                score(init, t=t)
        self.layout = experiment_report.Layout(
            budget.k, budget.t, k_all, upper_t, request.seeds, request.ks, request.ts, budget.summary
        )
        return list(stages.values())

    def report(self, request: Request, results: Results) -> str:
        return experiment_report.write(self.layout, results)
