"""The outer loop (:func:`meta_train`) and personalization (:func:`adapt`).

Nothing here is specific to any model, task or algorithm; read it top to bottom.
"""

from __future__ import annotations

from torch.optim.lr_scheduler import LambdaLR

from metaframe.protocols import Batch, TaskModel


def inner_lr_factor(iteration: int, total: int, schedule: str = "paper") -> float:
    """Multiplier of the inner learning rate at ``iteration`` (0-based) of ``total``.

    ``paper``: constant for the first half, then linear decay towards 0 (pix2pixHD's schedule, used by
    MetaPix): with T = 4 the factors are 1, 1, 1, 0.5. ``linear``: decay from the first step.
    ``constant``: always 1.
    """
    if schedule == "constant":
        return 1.0
    hold = total // 2 if schedule == "paper" else 0
    return min(1.0, (total - iteration) / (total - hold))


def adapt(model: TaskModel, support: Batch, steps: int, schedule: str = "paper") -> list[dict[str, float]]:
    """Personalize ``model`` in place: ``steps`` inner iterations on ``support`` with fresh optimizers.

    This is the one personalization routine: eval, compare, retarget and every outer algorithm call it.
    Returns the losses of each iteration.
    """
    model.train()
    optimizers = model.inner_optimizers()
    schedulers = [LambdaLR(opt, lambda i: inner_lr_factor(i, steps, schedule)) for opt in optimizers.values()]
    history = []
    for _ in range(steps):
        history.append(model.inner_step(support, optimizers))
        for scheduler in schedulers:
            scheduler.step()
    return history
