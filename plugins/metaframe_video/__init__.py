"""The ``video-shot`` task: few-shot frames of one person's video with their 2D poses."""
