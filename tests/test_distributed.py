"""Distributed runs under torchrun: two CPU processes (gloo) end where one process does.

Real ``torchrun`` launches (``python -m torch.distributed.run --standalone``) of real ``metaframe``
commands on the sine toy, compared with the same command in one process over the same tasks; the
collectives themselves are checked in two processes started by ``torch.multiprocessing``. A launch costs
a few seconds of start-up per process, so the launches that compare every algorithm or kill a process
are marked ``slow``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from metaframe import distributed
from metaframe.errors import UsageError
from metaframe.faults import RANK_VARIABLE, VARIABLE
from metaframe.testing import run_cli

SINE = ["--model", "mlp", "--task", "sine", "--k", "4", "--t", "2", "--set", "task.eval_tasks=3", "--device", "cpu"]
RUN = ["--meta-iterations", "6", "--meta-batch", "2", "--set", "checkpoint_every=2", "--quiet", *SINE]


def torchrun(
    args: list[str], cwd: Path, crash: str | None = None, rank: int | None = None
) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 -m metaframe ARGS`` (on a free port), optionally killing a process."""
    env = {k: v for k, v in os.environ.items() if k not in (VARIABLE, RANK_VARIABLE)}
    env.update({VARIABLE: crash} if crash else {})
    env.update({RANK_VARIABLE: str(rank)} if rank is not None else {})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.run(
        [*command, "-m", "metaframe", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def assert_same_weights(one: Path, two: Path) -> None:
    a, b = load_file(one / "model.safetensors"), load_file(two / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6, msg=f"{key} differs in {two}")


def logged(run: Path, key: str) -> list[float]:
    return [json.loads(line)[key] for line in (run / "metrics.jsonl").read_text().splitlines()]


# -- the collectives, in two processes ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def constant_layer(value: float) -> torch.nn.Module:
    layer = torch.nn.Linear(2, 2)
    for param in layer.parameters():
        torch.nn.init.constant_(param, value)
    return layer


def collectives(rank: int, port: int) -> None:
    """Runs in each of two processes: every collective against what it must give."""
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1")
    os.environ.update(MASTER_PORT=str(port))
    distributed.setup()
    try:
        assert (distributed.rank(), distributed.world_size(), distributed.is_writer()) == (rank, 2, rank == 0)
        assert distributed.share(list("abcde")) == (list("ace") if rank == 0 else list("bd"))
        # process 0 holds the mean of 2 tasks, process 1 of 1: the mean over 3 tasks is weighted
        own = {
            "w": torch.full((2, 2), [4.0, 1.0][rank]),
            "b": torch.tensor([2.0, 8.0][rank], dtype=torch.float64),
            "h": torch.tensor([4.0, 1.0][rank], dtype=torch.bfloat16),
        }
        mean = distributed.mean(own, [2, 1][rank])
        torch.testing.assert_close(mean["w"], torch.full((2, 2), 3.0))
        assert mean["b"].dtype == torch.float64 and mean["b"].item() == pytest.approx(4.0)
        assert mean["h"].dtype == torch.bfloat16 and mean["h"].item() == 3.0
        same = constant_layer(1.0)
        logs = {"loss": [1.0, 4.0][rank], **({"only0": 5.0} if rank == 0 else {})}
        assert distributed.merge_step(logs, [2, 1][rank], same, 0) == {"loss": pytest.approx(2.0), "only0": 5.0}
        assert distributed.gather([rank, rank]) == [0, 0, 1, 1]
        # a gradient only process 1 has is averaged with process 0's zero; one nobody has stays None
        params = [torch.nn.Parameter(torch.zeros(3)) for _ in range(2)]
        params[0].grad = torch.full((3,), 6.0) if rank == 1 else None
        distributed.average_gradients(params, 1)
        torch.testing.assert_close(params[0].grad, torch.full((3,), 3.0))
        assert params[1].grad is None
        # weights that differ between processes (an algorithm that ignored the others) are refused
        try:
            distributed.merge_step({}, 1, constant_layer(float(rank)), 4)
        except UsageError as error:
            assert str(error).startswith("after meta-iteration 4 the 2 processes hold different weights")
        else:
            raise AssertionError("different weights went unnoticed")
        # an error in one process stops the other with a line naming it, instead of a hang
        try:
            with distributed.together():
                if rank == 1:
                    raise UsageError("no such file")
        except distributed.PeerFailed as failed:
            assert rank == 0 and str(failed) == "process 1 of 2 stopped: no such file"
        except UsageError:
            assert rank == 1
        else:
            raise AssertionError("together() let a failure pass")
    finally:
        distributed.teardown()


def test_collectives_average_over_every_process_and_pass_on_errors():
    mp.spawn(collectives, args=(free_port(),), nprocs=2)


def test_single_process_collectives_are_identities():
    tensors = {"w": torch.ones(2)}
    assert distributed.mean(tensors, 3)["w"] is tensors["w"]
    assert distributed.merge_step({"loss": 1.5}, 3, torch.nn.Linear(1, 1), 0) == {"loss": 1.5}
    assert distributed.gather([1, 2]) == [1, 2] and distributed.share([1, 2]) == [1, 2]
    with distributed.together():
        pass


# -- real torchrun launches ---------------------------------------------------------------------------
def test_two_processes_meta_train_and_evaluate_like_one(plugins, tmp_path):
    """``compare reptile`` meta-trains (meta-batch 2: one task per process), then spreads the held-out
    tasks over the processes: the weights, the metrics and every task's score match one process."""
    args = ["compare", "reptile", *RUN, "--no-random"]
    one = run_cli([*args, "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.stderr
    two = torchrun([*args, "--out", "two"], tmp_path)
    assert two.returncode == 0, two.stderr
    assert_same_weights(tmp_path / "one" / "reptile", tmp_path / "two" / "reptile")
    losses = [logged(tmp_path / n / "reptile", "loss") for n in ("one", "two")]
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    record = json.loads((tmp_path / "two" / "reptile" / "run.json").read_text())
    assert record["world_size"] == 2 and record["status"] == "finished"
    rows = [json.loads((tmp_path / n / "compare.json").read_text())["rows"][0]["tasks"] for n in ("one", "two")]
    assert [row["task"] for row in rows[1]] == [row["task"] for row in rows[0]], "tasks out of order"
    assert [row["mse"] for row in rows[1]] == pytest.approx([row["mse"] for row in rows[0]], rel=1e-5)
    assert two.stderr.count("using preset sine") == 1 and two.stdout.count("personalization on") == 1, "both printed"


def test_more_processes_than_tasks_in_a_meta_batch_is_refused(tmp_path):
    refused = torchrun(["run", "reptile", *RUN, "--meta-batch", "1", "--out", "run"], tmp_path)
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: 2 processes share a meta-batch of 1 task(s), so some would have none: set --meta-batch 2 or "
        "more, or start at most 1 process(es)"
    ]
    assert not (tmp_path / "run").exists()


def test_resume_with_another_number_of_processes_is_refused(plugins, tmp_path):
    out = tmp_path / "run"
    assert run_cli(["run", "reptile", *RUN, "--meta-iterations", "2", "--out", str(out)]).exit_code == 0
    record = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**record, "world_size": 2}))
    before = (out / "model.safetensors").read_bytes()
    refused = run_cli(["run", "reptile", "--out", str(out), "--resume", "--meta-iterations", "4"])
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        f"error: {out} was trained by 2 process(es), not 1; a run is reproducible only with the number it "
        f"started with: resume it with 2 processes (torchrun --nproc_per_node …)"
    )
    assert (out / "model.safetensors").read_bytes() == before


@pytest.mark.slow
def test_every_algorithm_in_two_processes_ends_where_one_process_does(plugins, tmp_path):
    """compare trains reptile, fomaml, maml and pretrain, then evaluates them: in one launch each."""
    args = ["compare", "reptile", "fomaml", "maml", "pretrain", "--meta-iterations", "3", "--meta-batch", "2"]
    args += ["--quiet", "--no-random", *SINE]
    one = run_cli([*args, "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.stderr
    two = torchrun([*args, "--out", "two"], tmp_path)
    assert two.returncode == 0, two.stderr
    for algorithm in ("reptile", "fomaml", "maml", "pretrain"):
        assert_same_weights(tmp_path / "one" / algorithm, tmp_path / "two" / algorithm)
    scores = [json.loads((tmp_path / n / "compare.json").read_text())["rows"] for n in ("one", "two")]
    assert [row["metrics"]["mse"] for row in scores[1]] == pytest.approx([row["metrics"]["mse"] for row in scores[0]])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("whole")
    done = torchrun(["run", "fomaml", *RUN, "--out", "run"], folder)
    assert done.returncode == 0, done.stderr
    return folder / "run"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("crash", "rank"),
    [("meta-step:3", 1), ("wrote:resume.pt:2", 0)],
    ids=["process-1-dies-mid-step", "process-0-dies-between-checkpoint-files"],
)
def test_a_killed_process_stops_the_run_and_resume_ends_where_an_uninterrupted_run_does(
    uninterrupted, tmp_path, crash, rank
):
    killed = torchrun(["run", "fomaml", *RUN, "--out", "run"], tmp_path, crash, rank)
    assert killed.returncode != 0
    if rank == 1:  # process 0 stops in one line, marks the run and keeps its checkpoint
        # its collective fails at once; or torchrun, seeing process 1 dead, stops it first (SIGTERM)
        lost = "error: process 0 of 2 lost contact with another process of this run" in killed.stderr
        assert lost or "error: interrupted (SIGTERM)" in killed.stderr, killed.stderr
        assert "the checkpoint after meta-iteration 2 is kept" in killed.stderr, killed.stderr
        status = json.loads((tmp_path / "run" / "run.json").read_text())["status"]
        assert status == ("failed" if lost else "interrupted")
    resumed = torchrun(["run", "fomaml", "--out", "run", "--resume", "--quiet"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run at meta-iteration" in resumed.stderr
    assert_same_weights(uninterrupted, tmp_path / "run")
    assert logged(tmp_path / "run", "iteration") == list(range(6))
