"""``metaframe prepare``: real videos → a video dataset (needs the ``pose`` extra: OpenCV, MediaPipe)."""
