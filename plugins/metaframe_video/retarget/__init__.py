"""``metaframe retarget``, its Python equal :func:`retarget`, and the video-shot task's side of it (its
``footage`` capability).

- :func:`retarget` (:mod:`.retargeting`) does what the command does and returns a :class:`Retargeted`;
  :mod:`.cli` is the command (registered by :mod:`metaframe_video.plugin`): parse, call it, print;
- :mod:`.render` personalizes the run's model, renders the source's motion and writes the MP4, its
  contact sheet and summary;
- :mod:`.contract` is what the command asks of any task: :data:`~.contract.FOOTAGE`, ``Footage``, ``Motion``;
- :mod:`.footage` reads a person: a video, a folder of frames, one photo (prepared on the fly by
  ``metaframe prepare``'s own code), a prepared dataset, or a synthetic dancer;
- :mod:`.normalize` carries the source's skeleton into the target's frame (height and ankles);
- :mod:`.smooth` filters the per-frame jitter of estimated keypoints;
- :mod:`.motion` turns the source into the model's inputs, one per frame.

The model is reached only through the engine's ``render`` capability: :mod:`.render` draws what
:mod:`.motion` gives, whichever model declares it.
"""

from __future__ import annotations

from typing import Any

LAZY = ("Retargeted", "retarget")  # imported on first use: loading the plugin (the task) needs no PyAV


def __getattr__(name: str) -> Any:
    if name in LAZY:
        from metaframe_video.retarget import retargeting  # noqa: PLC0415 - see LAZY

        return getattr(retargeting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
