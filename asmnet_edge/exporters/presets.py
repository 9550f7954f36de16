"""Export recipes shipped inside the package, by name (``--recipe raspberry_pi_int8``).

Stored as plain dicts (no package-data needed), loaded through the same strict loader as a JSON file;
the project copies in ``export/*.json`` must stay identical (a test checks it).

>>> sorted(PRESETS)[0]
'android_fp16'
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "android_fp16": {
        "description": "Android, GPU delegate or CPU: float16 weights, float32 input/output",
        "precisions": ["fp16"],
        "io": "float32",
    },
    "android_int8_uint8io": {
        "description": "Android NNAPI/NPU or camera pipelines that hand over uint8 RGB: "
        "int8 with uint8 input and output",
        "precisions": ["int8"],
        "io": "uint8",
        "calib_count": 300,
    },
    "default_assets": {
        "description": "The models embedded in asmnet_edge/assets/default: fp16 and int8 (float32 io)",
        "precisions": ["fp16", "int8"],
        "io": "float32",
        "calib_count": 300,
        "eval_count": 100,
    },
    "edge_tpu_int8io": {
        "description": "Coral Edge TPU and other integer-only accelerators: int8 with int8 input and "
        "output (run edgetpu_compiler on the result)",
        "precisions": ["int8"],
        "io": "int8",
        "calib_count": 300,
    },
    "raspberry_pi_int8": {
        "description": "Raspberry Pi 4/5 (aarch64, XNNPACK): full-integer int8 with float32 "
        "input/output, the easiest drop-in",
        "precisions": ["int8"],
        "io": "float32",
        "calib_count": 300,
    },
}
