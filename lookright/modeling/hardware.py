"""What the CPU can do fast, asked of torch (not guessed from the CPU's name).

bf16 pays on a CPU only where matrix products run natively in bf16 (AVX512-BF16 or AMX tiles):
there oneDNN multiplies bf16 several times faster than fp32; elsewhere bf16 is converted in software
and is no faster than fp32. `precision="auto"` uses this to pick bf16 on CPUs that have it.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch

_BF16_PROBES = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # torch.cpu, x86


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when torch reports AVX512-BF16 or AMX on this CPU (torch.cpu's capability probes)."""
    for name in _BF16_PROBES:
        probe = getattr(torch.cpu, name, None)
        if probe is not None and probe():
            return True
    return False


def cpu_features() -> dict[str, bool]:
    """The capabilities torch reports for this CPU (for model cards and benchmark records)."""
    names = ("_is_avx2_supported", "_is_avx512_supported", "_is_avx512_bf16_supported", "_is_amx_tile_supported",
             "_is_vnni_supported")
    out = {}
    for name in names:
        probe = getattr(torch.cpu, name, None)
        if probe is not None:
            out[name.removeprefix("_is_").removesuffix("_supported")] = bool(probe())
    return out


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo), so a benchmark record says which chip ran it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
