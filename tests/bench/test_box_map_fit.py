"""The box-map fitter (a bench tool): it recovers a known map, and too few detections are a DataError."""

from __future__ import annotations

import numpy as np
import pytest

from asmnet_edge.bench.box_map_fit import fit_box_map, labelled_pairs
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.detect import DetectedBox
from asmnet_edge.runtime.geometry import Box, expand_box, landmark_box


def test_fit_recovers_a_known_map():
    class Oracle:
        """A detector whose box is the true crop shrunk by a known map."""

        name, max_side, box_map = "oracle", 10000, None

        def __init__(self) -> None:
            self.truth: list[Box] = []

        def detect(self, rgb):  # type: ignore[no-untyped-def]
            box = self.truth.pop(0)
            width, height = box.width / 1.25, box.height / 1.5
            centre_x, centre_y = (box.x0 + box.x1) / 2 - 0.1 * width, (box.y0 + box.y1) / 2 - 0.2 * height
            return [
                DetectedBox(
                    centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2
                )
            ]

    rng = np.random.default_rng(0)
    oracle = Oracle()
    pairs = []
    for _ in range(20):
        points = rng.uniform(20, 80, (68, 2)) * rng.uniform(0.5, 2.0)
        oracle.truth.append(expand_box(landmark_box(points), 0.05))
        pairs.append((np.zeros((200, 200, 3), np.uint8), points))
    fitted = fit_box_map(oracle, pairs, crop_margin=0.05)  # type: ignore[arg-type]
    assert fitted.offset_x == pytest.approx(0.1) and fitted.offset_y == pytest.approx(0.2)
    assert fitted.scale_x == pytest.approx(1.25) and fitted.scale_y == pytest.approx(1.5)
    assert fitted.fit["iou_mapped_mean"] == pytest.approx(1.0)


class _Blind:
    """A detector that finds nothing."""

    name, max_side, box_map = "blind", 10000, None

    def detect(self, rgb):  # type: ignore[no-untyped-def]
        return []


def test_too_few_detections_is_a_data_error(face_folder) -> None:
    pairs, sources = labelled_pairs([str(face_folder)], limit=0)
    assert len(pairs) == 6 and sources == [f"{face_folder.name} (6 of 6)"]
    with pytest.raises(DataError, match="only 0 of 6 labelled faces were detected: too few"):
        fit_box_map(_Blind(), pairs)  # type: ignore[arg-type]
