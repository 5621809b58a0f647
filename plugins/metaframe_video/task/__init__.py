"""The ``video-shot`` task: few-shot tasks drawn from the shots of a video dataset, with pose images."""
