package dev.asmnetedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import org.junit.Test;

/** Hand-checkable cases; the exhaustive comparison with Python is {@link ParityTest}. */
public class GeometryTest {
    @Test
    public void cropOfAHalfWhiteImageMatchesThePythonDoctest() {
        // geometry.crop_image doctest: 50x80, right half white, whole image to 8x8
        byte[] rgb = new byte[50 * 80 * 3];
        for (int row = 0; row < 50; row++) {
            for (int col = 40; col < 80; col++) {
                for (int channel = 0; channel < 3; channel++) {
                    rgb[(row * 80 + col) * 3 + channel] = (byte) 255;
                }
            }
        }
        byte[] crop = Cropper.crop(PixelImage.ofRgb(rgb, 80, 50), new Box(0, 0, 80, 50), 8);
        assertEquals(8 * 8 * 3, crop.length);
        assertEquals(0, crop[0] & 0xFF);
        assertEquals(255, crop[7 * 3] & 0xFF);
    }

    @Test
    public void rotationTurnsTheFrameClockwise() {
        // 3 wide, 2 high; red channel = 10 * row + col
        byte[] rgb = new byte[3 * 2 * 3];
        for (int row = 0; row < 2; row++) {
            for (int col = 0; col < 3; col++) {
                rgb[(row * 3 + col) * 3] = (byte) (10 * row + col);
            }
        }
        PixelImage image = PixelImage.ofRgb(rgb, 3, 2);
        PixelImage quarter = image.rotated(90);
        assertEquals(2, quarter.width);
        assertEquals(3, quarter.height);
        assertEquals("bottom-left comes to the top-left", 10, quarter.channel(0, 0, 0));
        assertEquals("top-left goes to the top-right", 0, quarter.channel(1, 0, 0));
        assertEquals(12, image.rotated(180).channel(0, 0, 0));
        assertEquals("top-right comes to the top-left", 2, image.rotated(270).channel(0, 0, 0));
        assertEquals(image.channel(1, 1, 0), image.rotated(-360).channel(1, 1, 0));
    }

    @Test
    public void cropOutsideTheImageIsBlack() {
        byte[] white = new byte[10 * 10 * 3];
        java.util.Arrays.fill(white, (byte) 255);
        byte[] crop = Cropper.crop(PixelImage.ofRgb(white, 10, 10), new Box(-20, -20, -10, -10), 4);
        for (byte value : crop) {
            assertEquals(0, value);
        }
    }

    @Test
    public void quantisationOfTheExtremes() {
        InputTensor int8 = new InputTensor(1.0 / 255.0, new QuantParams(TensorType.INT8, 1.0 / 255.0, -128));
        assertEquals(-128, int8.quantise(0));
        assertEquals(127, int8.quantise(255));
        InputTensor uint8 = new InputTensor(1.0 / 255.0, new QuantParams(TensorType.UINT8, 1.0 / 255.0, 0));
        assertEquals(200, uint8.quantise(200));
        InputTensor coarse = new InputTensor(1.0 / 255.0, new QuantParams(TensorType.INT8, 1.0 / 510.0, -100));
        assertEquals(127, coarse.quantise(255)); // 510 - 100 saturates
        byte[] floats = new InputTensor(1.0 / 255.0, QuantParams.FLOAT32).toBytes(new byte[] {(byte) 255});
        assertEquals(1.0f, ByteBuffer.wrap(floats).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat(), 0.0f);
    }

    @Test
    public void landmarkBoxAndMarginAsInPython() {
        // geometry doctests: landmark_box and expand_box
        Box box = Box.ofLandmarks(new double[] {1.0, 5.0, 3.0, 2.0});
        assertArrayEquals(new double[] {1.0, 2.0, 3.0, 5.0}, box.toArray(), 0.0);
        Box grown = new Box(0, 0, 100, 50).expand(0.1);
        assertArrayEquals(new double[] {-10.0, -5.0, 110.0, 55.0}, grown.toArray(), 0.0);
    }

    @Test
    public void denormaliseThenCropToImageInvertsTheCropConvention() {
        // module doctest of geometry: normalised [0, 0] and [-0.5, -0.5] in a 224 crop of this box
        Box box = new Box(10.0, 20.0, 110.0, 220.0);
        double[] crop = OutputDecoder.denormalise(new double[] {0.0, 0.0, -0.5, -0.5}, 224, 1.0);
        assertArrayEquals(new double[] {60.0, 120.0, 10.0, 20.0}, OutputDecoder.cropToImage(crop, box, 224), 1e-9);
        double[] flipped = OutputDecoder.denormalise(new double[] {0.25}, 224, -1.0);
        assertEquals(112.0 - 56.0, flipped[0], 0.0);
    }

    @Test
    public void poseAxesFollowTheProjectConvention() {
        double[] yaw = PoseAxes.project(30, 0, 0, 1.0);
        assertTrue("yaw > 0 turns the face axis toward image right", yaw[4] > 0.4);
        double[] pitch = PoseAxes.project(0, 30, 0, 1.0);
        assertTrue("pitch > 0 turns the face axis up (negative image y)", pitch[5] < -0.4);
        double[] roll = PoseAxes.project(0, 0, 30, 1.0);
        assertTrue("roll > 0 turns the x axis clockwise (toward image down)", roll[1] > 0.4 && roll[0] > 0.8);
        double[] zero = PoseAxes.project(0, 0, 0, 2.0);
        assertArrayEquals(new double[] {2, 0, 0, -2, 0, 0}, zero, 1e-12);
    }

    @Test
    public void trackerFollowsLandmarkBoxesAndDropsImplausibleOnes() {
        BoxTracker tracker = new BoxTracker(640, 480, 3);
        assertTrue(tracker.needsDetection());
        tracker.detected(FaceBoxes.fromEyes(320, 200, 60, 0.05));
        Box first = tracker.box();
        assertNotNull(first);
        assertTrue("eyes sit in the upper part of the box", 200 - first.y0 < first.y1 - 200);
        Box still = new Box(first.x0 + 2, first.y0, first.x1 + 2, first.y1);
        assertNull(tracker.update(still, first, 0.9));
        assertEquals("a 2 px wobble keeps the crop (HOLD_IOU)", first.x0, tracker.box().x0, 0.0);
        Box next = new Box(first.x0 + 30, first.y0, first.x1 + 30, first.y1);
        assertNull(tracker.update(next, first, 0.9));
        assertTrue("a real move is followed", tracker.box().x0 > first.x0 + 20);
        Box fitted = tracker.box();
        tracker.detected(new Box(next.x0 + 1, next.y0, next.x1 + 1, next.y1)); // agrees: keep the fitted box
        assertEquals(fitted.x0, tracker.box().x0, 0.0);
        tracker.detected(null); // a missed periodic re-detection does not end a healthy track
        assertNotNull(tracker.box());
        Box crop = tracker.box();
        assertEquals("spread", tracker.update(new Box(0, 0, 600, 470), crop, 0.9)); // 4x in one frame
        assertTrue(tracker.needsDetection());
        tracker.detected(null); // and nothing confirms it: lost
        assertNull(tracker.box());
        tracker.detected(new Box(700, 10, 760, 80)); // centre outside the frame: not a usable start
        assertNull(tracker.box());
    }

    @Test
    public void trackerAsksForPeriodicRedetection() {
        BoxTracker tracker = new BoxTracker(640, 480, 2);
        tracker.detected(new Box(100, 100, 200, 220));
        assertNull(tracker.update(new Box(101, 100, 201, 220), tracker.box(), 0.9));
        assertTrue(!tracker.needsDetection());
        assertNull(tracker.update(new Box(102, 100, 202, 220), tracker.box(), 0.9));
        assertTrue(tracker.needsDetection());
        assertEquals(BoxTracker.DEFAULT_REDETECT_INTERVAL, 30);
    }

    @Test
    public void aModelThatShrinksFacesDoesNotCollapseTheTrack() {
        // a biased model: each frame's landmark box is 12 % smaller than the crop it saw
        Box truth = new Box(200, 120, 330, 270);
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        tracker.detected(truth);
        int detections = 1;
        for (int frame = 0; frame < 100; frame++) {
            Box crop = tracker.box();
            assertTrue("frame " + frame + " IoU " + crop.iou(truth), crop.iou(truth) >= 0.5);
            double cx = crop.centerX();
            double cy = crop.centerY();
            double halfW = 0.44 * crop.width();
            double halfH = 0.44 * crop.height();
            String reason = tracker.update(new Box(cx - halfW, cy - halfH, cx + halfW, cy + halfH), crop, 0.9);
            if (reason != null) {
                assertEquals("drift", reason);
                tracker.detected(truth);
                detections++;
            }
        }
        assertTrue("re-anchored every few frames", detections > 10 && detections < 60);
    }

    @Test
    public void implausibleShapeEndsTheTrackWhenTheDetectorMisses() {
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        tracker.detected(new Box(100, 100, 200, 220));
        assertEquals("score", tracker.update(new Box(101, 100, 201, 220), tracker.box(), 0.05));
        tracker.detected(null);
        assertNull(tracker.box());
    }

    @Test
    public void aFastFaceIsReAlignedOnItsOwnCropOnlyWhenBothResultsLookRight() {
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        Box crop = new Box(100, 100, 240, 260);
        tracker.detected(crop);
        Box ahead = new Box(140, 100, 280, 260); // 40 px on: IoU 0.56 with the crop it was found in
        assertTrue(BoxTracker.needsRecrop(ahead, crop));
        assertNull("no re-crop for a face that fails the guards", tracker.recropBox(ahead, crop, 0.05));
        assertNull("nor for a still face", tracker.recropBox(new Box(102, 100, 242, 260), crop, 0.9));
        Box far = new Box(160, 100, 300, 260); // 60 px on: IoU 0.4, the network saw part of the face
        assertTrue(BoxTracker.moved(far, crop) && !BoxTracker.moved(ahead, crop));
        assertNull("nor for a face that left its crop: the detector's job", tracker.recropBox(far, crop, 0.9));
        assertSame(ahead, tracker.recropBox(ahead, crop, 0.9));
        assertTrue(!tracker.acceptRecrop(new Box(200, 150, 210, 160), ahead, 0.9)); // too small: keep the first
        assertSame(crop, tracker.box());
        assertTrue(tracker.acceptRecrop(new Box(142, 100, 282, 260), ahead, 0.9));
        assertSame("the re-crop is the track's crop for this frame", ahead, tracker.box());
    }

    @Test
    public void aFaceThatLeftItsCropAsksForTheDetectorWhichMayForgiveOneMiss() {
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        Box crop = new Box(100, 100, 200, 200);
        tracker.detected(crop);
        Box far = new Box(160, 100, 260, 200); // overlaps the crop by a quarter
        assertEquals("moved", BoxTracker.guardReason(far, crop, crop, 0.9, 640, 480));
        assertNull("no anchor: the re-crop's check", BoxTracker.guardReason(far, crop, null, 0.9, 640, 480));
        assertEquals("moved", tracker.update(far, crop, 0.9));
        tracker.detected(null); // the detector misses it: forgiven once, re-run on the same crop
        assertSame(crop, tracker.box());
        assertEquals(1, tracker.misses());
        assertNull("the re-run only has to score well", tracker.update(far, crop, 0.9));
        assertSame("a moved face keeps its anchor", crop, tracker.anchor());
        assertEquals(far.x0, tracker.box().x0, 0.0);
        Box next = tracker.box();
        assertEquals("drift", tracker.update(new Box(190, 100, 290, 200), next, 0.9)); // 90 px off the anchor
        tracker.detected(null); // a second miss in a row: the track ends
        assertNull(tracker.box());
    }

    @Test
    public void aForgivenDriftMovesTheAnchorAndAJumpForgetsTheMotion() {
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        tracker.detected(new Box(100, 100, 200, 200));
        int first = tracker.trackId();
        Box crop = tracker.box();
        assertEquals("drift", tracker.update(new Box(114, 114, 186, 186), crop, 0.9)); // 0.72x the anchor
        tracker.detected(null);
        assertSame("the anchor becomes the crop", crop, tracker.anchor());
        assertEquals("a low score ends the forgiven track", "score", tracker.update(crop, crop, 0.1));
        assertNull(tracker.box());
        tracker.detected(new Box(100, 100, 200, 200));
        assertTrue("a new track", tracker.trackId() != first);
        int second = tracker.trackId();
        assertNull(tracker.update(new Box(100, 100, 200, 200), tracker.box(), 0.9));
        assertNull(tracker.update(new Box(110, 100, 210, 200), tracker.box(), 0.9));
        assertEquals("score", tracker.update(new Box(117, 100, 217, 200), tracker.box(), 0.1));
        tracker.detected(new Box(400, 200, 500, 300)); // after a guard, a detection anywhere is the face
        assertEquals(second, tracker.trackId());
        assertEquals(400.0, tracker.box().x0, 0.0);
        assertNull(tracker.update(new Box(400, 200, 500, 300), tracker.box(), 0.9));
        assertEquals("the jump forgot the motion", 400.0, tracker.box().x0, 0.0);
    }

    @Test
    public void theNextCropCarriesTheLastMotionOnThroughAConfirmingDetection() {
        BoxTracker tracker = new BoxTracker(640, 480, 0);
        tracker.detected(new Box(100, 100, 200, 220));
        assertNull(tracker.update(new Box(100, 100, 200, 220), tracker.box(), 0.9));
        assertEquals("no motion yet", 100.0, tracker.box().x0, 1e-12);
        assertNull(tracker.update(new Box(110, 100, 210, 220), tracker.box(), 0.9));
        assertEquals("0.7 of the last 10 px shift", 117.0, tracker.box().x0, 1e-9);
        assertEquals(100.0, tracker.box().width(), 1e-9);
        Box grown = BoxTracker.predict(new Box(0, 0, 200, 200), new Box(0, 0, 100, 100), 1.0);
        assertEquals("area growth clipped to 1.25", 200 * Math.sqrt(1.25), grown.width(), 1e-9);
        tracker.detected(new Box(300, 100, 400, 220)); // elsewhere, no guard fired: the track stays (a miss)
        assertEquals(117.0, tracker.box().x0, 1e-9);
        assertEquals(1, tracker.misses());
        tracker.detected(new Box(160, 100, 260, 220)); // overlaps (IoU 0.4) but disagrees: replaces the crop
        assertEquals(160.0, tracker.box().x0, 1e-12);
        assertEquals(0, tracker.misses());
        assertNull(tracker.update(new Box(165, 100, 265, 220), tracker.box(), 0.9));
        assertEquals("the motion goes on: 165 + 0.7 * (165 - 110)", 203.5, tracker.box().x0, 1e-9);
    }
}
