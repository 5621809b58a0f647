"""Plain progress lines for logs: every N steps or every so many seconds, with elapsed time and time left."""

from __future__ import annotations

from metaframe.progress import LogLines, ProgressStage, clock


def test_a_line_every_n_steps_and_at_the_end():
    lines: list[str] = []
    progress = LogLines("meta-iteration", 10, every=4, seconds=1e9, write=lines.append)
    for done in range(1, 11):
        progress.update(done, f"loss {done}")
    assert [line.split()[1] for line in lines] == ["4/10", "8/10", "10/10"]
    assert "elapsed" in lines[0] and "left" in lines[0] and lines[-1].endswith("loss 10")


def test_a_line_when_enough_time_passed_even_between_steps():
    lines: list[str] = []
    progress = LogLines("step", 100, every=1000, seconds=0.0, write=lines.append)
    progress.update(1)
    progress.update(2)
    assert len(lines) == 2


def test_clock_reads_as_minutes_or_hours():
    assert clock(75) == "1:15" and clock(3725) == "1:02:05"


def test_a_stage_writes_plain_lines_where_stderr_is_no_terminal(capsys):
    with ProgressStage("render", 4) as stage:
        for _ in range(4):
            stage.advance()
    with ProgressStage("quiet", 4, show=False) as stage:
        stage.advance(4)
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("render 4/4  elapsed") and not any("quiet" in line for line in lines)
    assert all(line.strip() for line in lines)  # no empty line left by a live bar
