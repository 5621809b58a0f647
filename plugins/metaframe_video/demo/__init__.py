"""``metaframe demo``: a page in the browser that retargets a dance onto a person given by photos or a clip.

- :mod:`.cli` is the command (registered by :mod:`metaframe_video.plugin`): the model's run folder, the
  server's folder, then the page;
- :mod:`.page` is the page (Gradio, the ``demo`` extra) and the server;
- :mod:`.jobs` checks and lays out one request's uploads and calls
  :func:`metaframe_video.retarget.retarget`, the same code as ``metaframe retarget``.
"""
