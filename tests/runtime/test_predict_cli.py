"""``asmnet-edge predict`` on real photos and a video, headless; errors are one line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asmnet_edge.cli import main

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def photo(tmp_path_factory, astronaut) -> Path:
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    cv2.imwrite(str(path), astronaut[..., ::-1])
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut) -> Path:
    from asmnet_edge.runtime.media import synthetic_motion_frames

    path = tmp_path_factory.mktemp("videos") / "moving.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for frame in synthetic_motion_frames(astronaut, 24, (320, 240)):
        writer.write(frame[..., ::-1])
    writer.release()
    return path


def test_images_json_and_annotated_files(photo, micro_int8, tmp_path):
    blank = tmp_path / "blank.jpg"
    cv2.imwrite(str(blank), np.zeros((120, 160, 3), np.uint8))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["predict", str(photo), str(blank), "--model", str(micro_int8), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["backend"] == "ai_edge_litert"
    first, second = data["images"]
    assert len(first["faces"]) == 1 and second["faces"] == []
    face = first["faces"][0]
    assert len(face["landmarks"]) == 68 and set(face["pose_deg"]) == {"yaw", "pitch", "roll"}
    drawn = cv2.imread(first["output"])
    assert Path(first["output"]) == out / "astronaut_asmnet.png" and drawn.shape == (512, 512, 3)
    assert not np.array_equal(drawn, cv2.imread(str(photo)))  # something was drawn
    assert Path(second["output"]).suffix == ".jpg"
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temp files


def test_human_output(photo, micro_int8, tmp_path):
    result = CliRunner().invoke(
        main, ["predict", str(photo), "--model", str(micro_int8), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "astronaut.png face 0: yaw +" in result.stdout


def test_video_with_tracking_and_saved_video(clip, micro_int8, tmp_path):
    saved = tmp_path / "annotated.avi"
    result = CliRunner().invoke(
        main,
        ["predict", "--video", str(clip), "--model", str(micro_int8), "--save-video", str(saved), "--json"],
    )
    assert result.exit_code == 0, result.output
    video = json.loads(result.stdout)["video"]
    assert video["frames"] == 24 and video["frames_with_face"] == 24
    tracker = video[
        "tracker"
    ]  # one detection, plus re-detections when a guard fires (the micro model drifts)
    guards = sum(tracker["reasons"].values())
    assert 1 <= tracker["detections"] <= 1 + guards and tracker["detections"] <= 6 and video["fps"] > 0
    capture = cv2.VideoCapture(str(saved))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 24


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "exactly one of them"),
        (["x.png", "--camera", "0"], 2, "exactly one of them"),
        (["--video", "/nonexistent.mp4"], 1, "cannot open video file"),
        (["/nonexistent.png"], 1, "cannot read image /nonexistent.png: no such file"),
    ],
)
def test_user_errors(micro_int8, args, code, message):
    result = CliRunner().invoke(main, ["predict", *args, "--model", str(micro_int8)])
    assert result.exit_code == code
    assert message in result.output


def test_not_an_image_as_json(micro_int8, tmp_path):
    bogus = tmp_path / "bogus.jpg"
    bogus.write_bytes(b"GIF89a not really")
    result = CliRunner().invoke(main, ["predict", str(bogus), "--model", str(micro_int8), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["error_type"] == "InputImageError"
    assert "not a decodable image" in error["error"]


def test_show_on_a_headless_opencv_is_a_clear_error(clip, micro_int8, monkeypatch):
    def no_gui(*args, **kwargs):
        raise cv2.error("The function is not implemented. Rebuild the library with GTK+")

    monkeypatch.setattr(cv2, "imshow", no_gui)
    result = CliRunner().invoke(main, ["predict", "--video", str(clip), "--model", str(micro_int8), "--show"])
    assert result.exit_code == 1
    assert "--show needs an OpenCV build with GUI support" in result.output


class _FlakyCamera:
    """Stands in for cv2.VideoCapture (no camera here): odd frames, a resolution change, then it is gone."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = list(frames)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return 25.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.frames:
            return False, None  # the camera disappeared mid-stream
        return True, self.frames.pop(0)

    def release(self) -> None:
        pass


def test_bad_frames_are_skipped_and_reported_and_the_video_is_kept(
    micro_int8, astronaut, tmp_path, monkeypatch
):
    from asmnet_edge.runtime.aligner import FaceAligner
    from asmnet_edge.runtime.media import run_video

    bgr = np.ascontiguousarray(astronaut[:, :, ::-1])
    frames = [
        bgr,
        np.zeros((0, 0, 3), np.uint8),  # an empty frame
        cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY),  # grey
        cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA),  # 4 channels
        cv2.resize(bgr, (320, 240)),  # the stream changes resolution
        bgr,
    ]
    monkeypatch.setattr(cv2, "VideoCapture", lambda source: _FlakyCamera(frames))
    saved = tmp_path / "out.avi"
    aligner = FaceAligner.from_file(micro_int8, detector=None)
    result = run_video(aligner, 0, save_path=saved)
    assert result.frames == 5 and len(result.skipped) == 1, (result.frames, result.skipped)
    assert "empty" in result.skipped[0]["reason"]
    monkeypatch.undo()  # the real VideoCapture reads the saved file back
    capture = cv2.VideoCapture(str(saved))
    written = 0
    while capture.read()[0]:
        written += 1
    assert written == 5 and not result.interrupted
