"""metaframe-learn2learn: learn2learn's Meta-SGD and MAML as metaframe algorithms (``l2l-metasgd``, ``l2l-maml``)."""

__version__ = "0.1.0"
