"""The sine-regression toy of the MAML and Reptile papers: task ``sine`` and model ``mlp``."""
