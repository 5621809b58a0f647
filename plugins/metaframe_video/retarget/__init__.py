"""The video-shot task's side of ``metaframe retarget`` (its ``footage`` capability).

- :mod:`.footage` reads a person: a video, a folder of frames, one photo (prepared on the fly by
  ``metaframe prepare``'s own code), a prepared dataset, or a synthetic dancer;
- :mod:`.normalize` carries the source's skeleton into the target's frame (height and ankles);
- :mod:`.smooth` filters the per-frame jitter of estimated keypoints;
- :mod:`.motion` turns the source into the model's inputs, one per frame.

The model is never seen here: ``metaframe.retarget`` renders what :mod:`.motion` gives.
"""
