"""One request of the demo page, without the page: what was uploaded is checked and laid out as footage
``retarget`` reads, then :func:`metaframe_video.retarget.retarget` (the command's own code) personalizes
and renders, in a folder of the request's own.

Every mistake is a :class:`~metaframe.api.UsageError` whose line the page shows. A request that fails
leaves nothing behind: its folder (the uploads laid out, the footage prepared from them, any output) is
removed, and so are the files uploaded for it (:meth:`Workspace.forget`; the page clears their fields).
A finished one keeps its folder while the page may still serve its files; the oldest go as new ones
finish (:data:`KEPT`), and the whole root when the server stops.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from metaframe.api import UsageError
from metaframe_video.prepare.sources import IMAGE_SUFFIXES, Selection, VideoSource
from metaframe_video.retarget.footage import SYNTHETIC, preparing_in
from metaframe_video.retarget.retargeting import Retargeted, retarget

KEPT = 4  # finished requests whose files the page may still serve
UPLOAD_KINDS = "a photo (.png, .jpg, .jpeg, .bmp) or a video (.mp4, .mov, .webm, …)"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Limits:
    """What the server accepts: the model's run folder, at most ``max_frames`` frames of video, where to compute."""

    init: Path
    max_frames: int
    device: str | None = None


@dataclass(frozen=True)
class Request:
    """What the page sends: the target's files, the source (an uploaded video or a built-in dance), K and T,
    and the reference to draw beside the result (None: none)."""

    target: Sequence[Path]
    source: Path | None
    dance: str | None
    k: int
    t: int
    beside: str | None = None


@dataclass(frozen=True)
class Upload:
    """One uploaded file: a photo, or a video of ``frames`` frames."""

    path: Path
    frames: int

    @property
    def is_photo(self) -> bool:
        return self.path.suffix.lower() in IMAGE_SUFFIXES


def examine(path: Path) -> Upload:
    """``path`` as a photo or a video; UsageError for anything else (a text file named ``.png`` included)."""
    name = path.name
    if path.suffix.lower() in IMAGE_SUFFIXES:
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError):
            raise UsageError(f"{name} is not an image that can be read; give {UPLOAD_KINDS}") from None
        return Upload(path, 1)
    try:
        video = VideoSource(path, Selection())
    except UsageError:
        raise UsageError(f"{name} is not an image or a video; give {UPLOAD_KINDS}") from None
    return Upload(path, video.count if video.count is not None else sum(1 for _ in video.frames()))


def check_length(upload: Upload, role: str, limits: Limits) -> None:
    """Refuse a video longer than the server's ``--max-frames``."""
    if upload.frames > limits.max_frames:
        raise UsageError(
            f"the {role} video {upload.path.name} has {upload.frames} frames; this demo takes at most "
            f"{limits.max_frames} (its --max-frames): give a shorter clip"
        )


def lay_out_target(files: Sequence[Path], folder: Path, limits: Limits) -> tuple[str, int]:
    """The target as footage ``retarget`` reads (one photo or one clip as given, several photos as a
    folder of frames), and how many frames it has."""
    if not files:
        raise UsageError("no target given: upload one photo, several photos or a short clip of the person")
    uploads = [examine(Path(file)) for file in files]
    photos = [upload for upload in uploads if upload.is_photo]
    if len(photos) < len(uploads) and len(uploads) > 1:
        raise UsageError("give the target as photos or as one clip, not several clips or clips and photos together")
    if len(uploads) == 1:
        check_length(uploads[0], "target", limits)
        return str(uploads[0].path), uploads[0].frames
    frames = folder / "target-photos"
    frames.mkdir()
    for i, photo in enumerate(photos):
        shutil.copyfile(photo.path, frames / f"photo_{i:03d}{photo.path.suffix.lower()}")
    return str(frames), len(photos)


def lay_out_source(video: Path | None, dance: str | None, limits: Limits) -> str:
    """The source as footage ``retarget`` reads: the uploaded video, else the chosen built-in dance."""
    if video is not None:
        upload = examine(Path(video))
        if upload.is_photo:
            raise UsageError(f"the source {upload.path.name} is a photo; give a video of the motion to perform")
        check_length(upload, "source", limits)
        return str(upload.path)
    if dance:
        return SYNTHETIC + dance
    raise UsageError("no source given: upload a video of the motion, or choose a built-in dance")


class Workspace:
    """The folders of a server's requests, under one root removed when the server stops."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.finished: list[Path] = []

    @contextmanager
    def request(self) -> Iterator[Path]:
        """A new folder for one request: removed if the request fails, kept (the latest :data:`KEPT`) if not."""
        folder = Path(tempfile.mkdtemp(prefix="request-", dir=self.root))
        try:
            yield folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.finished.append(folder)
        while len(self.finished) > KEPT:
            shutil.rmtree(self.finished.pop(0), ignore_errors=True)

    def forget(self, uploads: Sequence[Path]) -> None:
        """Remove the files uploaded for a request that failed (each in its own folder under the root)."""
        for upload in uploads:
            folder = Path(upload).resolve().parent
            if folder.is_relative_to(self.root.resolve()) and folder != self.root.resolve():
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Remove every request's folder and the root."""
        shutil.rmtree(self.root, ignore_errors=True)


def run_request(request: Request, limits: Limits, folder: Path, on_progress: Progress | None = None) -> Retargeted:
    """Check and lay out ``request``'s footage in ``folder``, then retarget it: the MP4 (the result, and what
    is beside it), its
    contact sheet (source | pose | result) and the target's sheet (its frames with the skeletons found).
    K is at most the target's frame count: one photo personalizes on K = 1."""
    target, frames = lay_out_target(request.target, folder, limits)
    source = lay_out_source(request.source, request.dance, limits)
    with preparing_in(folder / "prepared"):  # footage seen once: prepared here, removed with the request
        return retarget(
            limits.init,
            target=target,
            source=source,
            out=folder / "retargeted.mp4",
            k=min(request.k, frames),
            t=request.t,
            max_frames=limits.max_frames,
            device=limits.device,
            on_progress=on_progress,
            beside=request.beside,
        )


def without_folders(message: str, root: Path) -> str:
    """``message`` with the server's folders cut from the paths in it: the page names what was uploaded."""
    return re.sub(re.escape(str(root)) + r"/\S*/", "", message)
