"""The devices a device-parametrized test runs on: the CPU always, CUDA when this machine has it.

``benchmarks/cuda_check.py`` runs these tests on a GPU machine; on a CPU-only machine the CUDA cases are
skipped, saying why, so they are written, collected and kept from rotting everywhere.
"""

from __future__ import annotations

import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")),
]
