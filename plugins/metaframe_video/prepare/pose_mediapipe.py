"""2D poses from MediaPipe's legacy Pose solution (BlazePose, ``model_complexity=1``), as COCO-17 keypoints.

MediaPipe is an optional dependency (the ``pose`` extra): ``mediapipe==0.10.21`` is the last release whose
wheel still ships the legacy Pose model, and it installs on Python ≤ 3.12 only. It finds at most one person
per image; :mod:`metaframe_video.prepare.track` turns that into following a chosen person among several.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from metaframe.api import UsageError
from metaframe_video.prepare.boxes import Person, box_of

# BlazePose's 33 landmarks, picked in COCO-17 order (nose, eyes, ears, shoulders, elbows, wrists, hips,
# knees, ankles). Its visibility becomes the keypoint score.
BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
INSTALL_HINT = "install the pose extra (pip install 'metaframe[pose]', Python ≤ 3.12) or give OpenPose keypoints"


def landmarks_to_person(landmarks: np.ndarray) -> Person:
    """A :class:`Person` from BlazePose's 33×3 (x, y, visibility) landmarks in pixels.

    The box spans all 33 landmarks (MediaPipe predicts occluded ones too), which keeps it steady
    when a limb is hidden for a frame.
    """
    keypoints = landmarks[list(BLAZEPOSE_TO_COCO17)].astype(np.float32)
    return Person(keypoints=keypoints, box=box_of(landmarks[:, :2]))


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what MediaPipe's C++ side prints on start-up (TFLite and absl log lines on file descriptor 2).

    Those lines bypass Python's logging, so only redirecting the descriptor keeps them away from the user.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _import_mediapipe() -> Any:
    """The ``mediapipe`` module, or a UsageError that says how to get it."""
    try:
        import mediapipe  # noqa: PLC0415 - optional dependency, imported only when poses are extracted
    except ImportError as error:
        raise UsageError(f"MediaPipe is not available ({error}); {INSTALL_HINT} with --keypoints") from None
    if not hasattr(getattr(mediapipe, "solutions", None), "pose"):
        raise UsageError(f"this MediaPipe ({mediapipe.__version__}) lacks the legacy Pose model; {INSTALL_HINT}")
    return mediapipe


def mediapipe_version() -> str:
    """The installed MediaPipe version (for the dataset's provenance)."""
    return str(_import_mediapipe().__version__)


class MediaPipePose:
    """One person's pose per image with MediaPipe Pose.

    :param video: False (single-image mode) runs the person detector on every call, which is what lets the
        caller aim it at a region. True (video mode) runs the detector once, then follows that person from
        frame to frame by their previous landmarks: steadier, faster, and it keeps a person whose face the
        detector loses (a back turned, arms over the head, a backflip). Give it a fixed or slowly moving view.
    """

    def __init__(self, video: bool = False, min_confidence: float = 0.5) -> None:
        mediapipe = _import_mediapipe()
        with _native_stderr_silenced():
            self._pose = mediapipe.solutions.pose.Pose(
                static_image_mode=not video, model_complexity=1, min_detection_confidence=min_confidence
            )
            self._pose.process(_BLANK)
        self._quiet = True  # its first landmarks come with one more log line

    def detect(self, image: np.ndarray) -> Person | None:
        """The most prominent person in an RGB uint8 image (coordinates in its pixels), or None."""
        if self._quiet:
            with _native_stderr_silenced():
                result = self._pose.process(np.ascontiguousarray(image))
            self._quiet = result.pose_landmarks is None
        else:
            result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return None
        height, width = image.shape[:2]
        landmarks = np.array(
            [(mark.x * width, mark.y * height, mark.visibility) for mark in result.pose_landmarks.landmark]
        )
        return landmarks_to_person(landmarks)

    def reset(self) -> None:
        """Forget the person followed in video mode: the next call looks for someone afresh."""
        self._pose.process(_BLANK)  # a frame without anyone ends MediaPipe's tracking

    def close(self) -> None:
        """Release MediaPipe's graph."""
        self._pose.close()

    def __enter__(self) -> MediaPipePose:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_BLANK = np.zeros((64, 64, 3), np.uint8)
