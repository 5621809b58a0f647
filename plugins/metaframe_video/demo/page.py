"""The demo's page, built with Gradio: the target and source on the left, the result on the right.

Only this module imports Gradio (the ``demo`` extra). Nothing leaves the machine: Gradio's analytics are
off, the page's fonts are the browser's own (no font service), no share link, no server-side rendering
process. Requests run one at a time; others wait in the queue, the page showing their place.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before Gradio is imported: it reads this once

import gradio as gr  # noqa: E402 - after the line above

from metaframe.api import UsageError  # noqa: E402
from metaframe_video.demo.jobs import Limits, Request, Workspace, run_request, without_folders  # noqa: E402

QUEUE = 8  # requests waiting at most; one more is refused with Gradio's "queue is full"
ABOUT = """# metaframe: retarget a dance
Give the **target** person (one photo, several photos or a short clip) and the **source** motion (a video,
or one of the built-in synthetic dances). The model is personalized to the person from K of their frames
for T steps, then draws every frame of the source's motion as them. Everything runs on this machine.
Model: {model}."""
STAGES = {"personalize": ("personalizing to the target", "steps"), "render": ("rendering", "frames")}
FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # the browser's own: no request for a web font
MONO = ["ui-monospace", "monospace"]
CACHE_CLEANING = (600, 3600)  # seconds: every 10 minutes, Gradio removes the files it holds over an hour old


def build_page(
    limits: Limits, workspace: Workspace, model: str, dances: list[str], k: int, t: int, beside: str | None
) -> gr.Blocks:
    """The page: inputs, the Retarget button, and the outputs it fills (or a message saying what to fix);
    ``model`` says which model, in words; ``beside``, the reference a box offers to draw beside the result."""
    with gr.Blocks(title="metaframe demo", analytics_enabled=False, delete_cache=CACHE_CLEANING) as page:
        gr.Markdown(ABOUT.format(model=model))
        with gr.Row():
            with gr.Column():
                target = gr.File(
                    label=f"Target person: one photo, several, or a short clip (at most {limits.max_frames} frames)",
                    file_count="multiple",
                    file_types=["image", "video"],
                    elem_id="target",
                )
                source = gr.File(
                    label=f"Source motion: a video (at most {limits.max_frames} frames)",
                    file_types=["video"],
                    elem_id="source",
                )
                dance = gr.Dropdown(
                    choices=dances,
                    value=dances[0] if dances else None,
                    label="…or a built-in dance (used when no source video is given)",
                    elem_id="dance",
                )
                k_slider = gr.Slider(
                    1, max(20, k), value=k, step=1, label="K: target frames to personalize on (at most those given)"
                )
                t_slider = gr.Slider(1, max(100, t), value=t, step=1, label="T: personalization steps")
                compare = gr.Checkbox(
                    value=beside is not None,
                    visible=beside is not None,
                    label=f"Draw the {beside} beside the result: it learns nothing (the target's own frames moved "
                    "part by part onto each pose), so you see what the model adds",
                    elem_id="beside",
                )
                go = gr.Button("Retarget", variant="primary", elem_id="go")
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                video = gr.Video(label="Result", elem_id="result", interactive=False)
                download = gr.File(label="Download the MP4", elem_id="download", interactive=False)
                sheet = gr.Image(label="source | pose | result", elem_id="sheet", interactive=False, height=420)
                skeletons = gr.Image(
                    label="The target frames used, with the skeletons found in them",
                    elem_id="skeletons",
                    interactive=False,
                    height=160,
                )

        def answer(files: list[str] | None, clip: str | None, chosen: str | None, k: float, t: float, ticked: bool,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # fmt: skip
            given = Path(clip) if clip else None
            request = Request([Path(f) for f in files or []], given, chosen, int(k), int(t), beside if ticked else None)

            def tell(stage: str, done: int, total: int) -> None:
                what, unit = STAGES.get(stage, (stage, "steps"))
                progress((done, total), desc=what, unit=unit)

            progress(0, desc="finding the person (pose estimation)")
            try:
                with workspace.request() as folder:
                    made = run_request(request, limits, folder, tell)
            except UsageError as error:
                workspace.forget([*request.target, *([request.source] if request.source else [])])
                said = f"**Could not retarget:** {without_folders(str(error), workspace.root)}"
                return said, None, None, None, None, None, None  # the uploads are gone: give them again
            said = (
                f"**Done:** {made.frames} frames at {made.fps:g} fps; personalized on K = {made.summary['k']} "
                f"in {made.personalization_seconds:.1f} s, rendered at {made.rendering_fps:.1f} frames/s."
            )
            also = "" if request.beside is None else f" | {request.beside}"
            played = gr.update(value=str(made.video), label=f"Result{also} (learns nothing)" if also else "Result")
            drawn = gr.update(value=str(made.contact_sheet), label=f"source | pose | result{also}")
            results = (played, str(made.video), drawn, optional(made.target_sheet))
            return said, *results, gr.update(), gr.update()  # the uploads stay, for another try

        go.click(
            answer,
            inputs=[target, source, dance, k_slider, t_slider, compare],
            outputs=[status, video, download, sheet, skeletons, target, source],
            show_progress_on=[video],
            concurrency_limit=1,
        )
    page.queue(max_size=QUEUE, default_concurrency_limit=1)
    return page


def optional(path: Path | None) -> str | None:
    """A path as the page takes it (None: nothing to show)."""
    return None if path is None else str(path)


@contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM (``kill``, a service manager) stops the server as Ctrl-C does, so its folder is removed."""

    def interrupt(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def listen(page: gr.Blocks, **options: Any) -> tuple[Any, str, str]:
    """``page.launch(**options)``; a port in use or an address this machine does not have is one line."""
    try:
        return page.launch(**options)
    except OSError:
        where = f"{options['server_name']}:{options['server_port']}"
        raise UsageError(f"cannot listen on {where}: the port is in use or the address is not this machine's; "
                         "give another --port or --host") from None  # fmt: skip


def serve(page: gr.Blocks, host: str, port: int, files: Path, on_start: Callable[[str], None]) -> None:
    """Serve ``page`` until interrupted (Ctrl-C), telling ``on_start`` its address once it listens; the
    files it may send are those under ``files`` (the requests' folder)."""
    theme = gr.themes.Default(font=FONTS, font_mono=MONO)
    try:
        _, url, _ = listen(
            page,
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            enable_monitoring=False,
            footer_links=[],
            allowed_paths=[str(files)],
            theme=theme,
            quiet=True,
            prevent_thread_lock=True,
        )
        on_start(url)
        with terminated_as_interrupted():
            page.block_thread()
    finally:
        page.close()
