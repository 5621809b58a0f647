"""metaframe-momentum: the outer algorithm ``reptile-momentum`` (Reptile with a momentum meta-step)."""

__version__ = "0.1.0"
