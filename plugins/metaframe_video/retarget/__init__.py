"""``metaframe retarget`` and the video-shot task's side of it (its ``footage`` capability).

- :mod:`.cli` is the command (registered by :mod:`metaframe_video.plugin`); :mod:`.render` personalizes
  the run's model, renders the source's motion and writes the MP4, its contact sheet and summary;
- :mod:`.contract` is what the command asks of any task: :data:`~.contract.FOOTAGE`, ``Footage``, ``Motion``;
- :mod:`.footage` reads a person: a video, a folder of frames, one photo (prepared on the fly by
  ``metaframe prepare``'s own code), a prepared dataset, or a synthetic dancer;
- :mod:`.normalize` carries the source's skeleton into the target's frame (height and ankles);
- :mod:`.smooth` filters the per-frame jitter of estimated keypoints;
- :mod:`.motion` turns the source into the model's inputs, one per frame.

The model is reached only through the engine's ``render`` capability: :mod:`.render` draws what
:mod:`.motion` gives, whichever model declares it.
"""
