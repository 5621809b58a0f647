"""``metaframe demo``: a local web page that retargets an uploaded dance (:mod:`.page`, :mod:`.jobs`).

Without ``--init`` it uses the pretrained Pose2Im that ships with metaframe, written at each start into
the server's folder as a run folder by ``metaframe run pretrain ... --meta-iterations 0`` (which trains
nothing). The page's work goes to that one temporary folder (Gradio's uploads included), removed when the
server stops.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import typer

from metaframe.api import UsageError, reference, run, say, trained_setup
from metaframe_video.dataset import read_index
from metaframe_video.retarget.cli import DeviceOption
from metaframe_video.retarget.render import check_capabilities
from metaframe_video.synthetic.world import dataset_folder

HOST_HELP = "The address to listen on: 127.0.0.1 (this machine only) unless you mean to share the page."
INIT_HELP = "The run folder of the model to use (default: the pretrained Pose2Im shipped with metaframe)."
MAX_FRAMES_HELP = "The longest video (target or source) a request may give, in frames; longer ones are refused."
WARP = "warp"  # the predictor that learns nothing the page offers to draw beside the result
SHIPPED = {"model": "pose2im", "task": "video-shot", "overrides": ["model.init=pretrained"]}


def demo_command(
    init: Path = typer.Option(None, "--init", help=INIT_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help=HOST_HELP),
    port: int = typer.Option(7860, "--port", min=1, max=65535, help="The port to listen on."),
    max_frames: int = typer.Option(300, "--max-frames", min=1, help=MAX_FRAMES_HELP),
    device: DeviceOption = None,
) -> None:
    """Serve a page in the browser where a person gives one photo (or several, or a clip) of the target
    and a video of the motion, presses Retarget, follows the progress and gets the retargeted video to
    play and download, with the source | pose | result sheet and the target's skeletons as found. It
    runs `metaframe retarget`'s code on this machine; nothing is sent anywhere. Ctrl-C stops it."""
    if importlib.util.find_spec("gradio") is None:
        raise UsageError('metaframe demo needs the demo extra: pip install "metaframe[demo]" (or -e ".[demo]")')
    from metaframe_video.demo.jobs import Limits, Workspace  # noqa: PLC0415 - PyAV only for this command

    workspace = Workspace(Path(tempfile.mkdtemp(prefix="metaframe-demo-")))
    try:
        folder = init if init is not None else shipped_model_run(workspace.root / "shipped-pose2im")
        setup = trained_setup(folder, {"device": device})  # refuses a folder that holds no run, in one line
        config = setup.config
        check_capabilities(config.model, setup.model, config.task, setup.sampler)  # before serving
        dances = built_in_dances(setup.sampler)
        os.environ["GRADIO_TEMP_DIR"] = str(workspace.root / "uploads")  # before Gradio is imported: uploads too
        from metaframe_video.demo import page  # noqa: PLC0415 - Gradio only for this command

        settings = config.settings
        model = f"the run `{init}`" if init is not None else "the pretrained Pose2Im shipped with metaframe"
        limits = Limits(folder, max_frames, device)
        built = page.build_page(limits, workspace, model, dances, settings.k, settings.t, installed(WARP))
        started = lambda url: say(f"metaframe demo: open {url} (Ctrl-C stops it)")  # noqa: E731
        page.serve(built, host, port, workspace.root, on_start=started)
    finally:
        workspace.close()


def shipped_model_run(folder: Path) -> Path:
    """The shipped pretrained Pose2Im as a run folder at ``folder``: a run of 0 meta-iterations (it trains
    nothing; about 10 s, for its closing sample). Made at each start, so it is always the installed weights."""
    say("metaframe demo: writing the shipped pretrained model as a run folder (a run of 0 meta-iterations)")
    run("pretrain", **SHIPPED, meta_iterations=0, out=folder, show_progress=True)
    return folder


def installed(name: str) -> str | None:
    """``name`` if a plugin registers that reference (pose2im registers ``warp``), else None."""
    try:
        reference(name)
    except UsageError:
        return None
    return name


def built_in_dances(sampler: object) -> list[str]:
    """The synthetic dancers of the run's task (held-out ones first), for the page's list; none for a task
    without a synthetic world."""
    options = getattr(sampler, "options", None)
    if options is None or not hasattr(options, "synthetic"):
        return []
    ids = [video["id"] for video in read_index(dataset_folder(options.synthetic()))["videos"]]
    return sorted(ids, key=lambda name: (not name.startswith("eval"), name))
