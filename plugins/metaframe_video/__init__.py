"""The ``video-shot`` task: few-shot frames of one person's video with their 2D poses.

Four parts, each its own subpackage, over a few shared modules:

* :mod:`.task` — the ``video-shot`` task: options and sampler (``video_shot``), the train/eval and
  85:15 splits (``splits``), pose images (``pose``);
* :mod:`.synthetic` — the synthetic dancers, the default dataset: motion capture (``motion``),
  people (``identity``), the pybullet renderer (``dancer``), the cached world (``world``);
* :mod:`.prepare` — ``metaframe prepare``, real videos → a dataset; needs the ``pose`` extra (OpenCV,
  MediaPipe), imported only there;
* :mod:`.retarget` — ``metaframe retarget`` (the command, rendering and writing the video) and the task's
  ``footage`` capability: its contract, targets, the source's motion, pose normalization and smoothing,
  preparing footage on the fly with :mod:`.prepare`;
* shared: the keypoint layout (:mod:`.keypoints`), the dataset format (:mod:`.dataset`), the contact-sheet
  drawer (:mod:`.contact_sheet`), the MP4 writer (:mod:`.videofile`), the held-out frames an experiment
  shows (:mod:`.framesheet`, the task's ``show``); :mod:`.preview` draws a dataset's contact sheet;
  :mod:`.plugin` registers it all.
"""
