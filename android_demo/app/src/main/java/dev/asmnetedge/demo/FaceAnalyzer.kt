package dev.asmnetedge.demo

import android.content.Context
import android.os.SystemClock
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import dev.asmnetedge.core.Box
import dev.asmnetedge.core.BoxTracker
import dev.asmnetedge.core.FacePipeline
import dev.asmnetedge.core.FaceSmoother
import dev.asmnetedge.core.PixelImage

/** What one analysed frame produced, in upright analysis-image pixels. */
class FrameResult(
    val imageWidth: Int,
    val imageHeight: Int,
    /** Flat [x0, y0, x1, y1, ...] landmarks (smoothed), or null when no face is tracked. */
    val landmarks: DoubleArray?,
    /** [yaw, pitch, roll] in degrees (project convention, smoothed), or null. */
    val poseDeg: DoubleArray?,
    val box: Box?,
    /** True for the front camera, whose preview is mirrored. */
    val mirrored: Boolean,
    /** Whole frame: copy, detection (if any), crop, inference, decoding. */
    val frameMs: Double,
    /** Crop + interpreter + decoding only. */
    val modelMs: Double,
    val detectorRan: Boolean,
    val threads: Int,
    val precision: String,
)

/**
 * The CameraX analyzer: RGBA frame -> upright view -> face box (tracker, or the built-in detector
 * to start) -> LiteRT -> landmarks and pose -> One-Euro smoothing (a fresh [FaceSmoother] per track;
 * the tracker follows the unsmoothed landmarks, as in Python). Runs on one background thread; settings
 * changed from the UI thread ([threads], [mirrored], [resetTracking]) are picked up at the next frame.
 */
class FaceAnalyzer(
    private val context: Context,
    private val onResult: (FrameResult) -> Unit,
    private val onError: (String) -> Unit,
) : ImageAnalysis.Analyzer, AutoCloseable {
    @Volatile var threads: Int = 2
    @Volatile var mirrored: Boolean = false
    @Volatile private var resetRequested = false

    private val detector = EyeFaceDetector()
    private var model: LandmarkModel? = null
    private var loadFailed = false
    private var tracker: BoxTracker? = null
    private var smoother: FaceSmoother? = null
    private var smoothedTrack = 0 // the BoxTracker.trackId() the smoother belongs to
    private var lastTimestampNs = 0L
    private var frameBytes = ByteArray(0)

    /** Forget the tracked face (e.g. after switching cameras). */
    fun resetTracking() {
        resetRequested = true
    }

    override fun analyze(image: ImageProxy) {
        // closing the ImageProxy releases the buffer to CameraX; with KEEP_ONLY_LATEST the next
        // frame is the newest one, so a slow frame drops frames instead of adding latency
        image.use { process(it) }
    }

    private fun process(image: ImageProxy) {
        val start = SystemClock.elapsedRealtimeNanos()
        val model = currentModel() ?: return
        val frame = upright(image)
        val tracker = currentTracker(frame.width, frame.height)
        val interval = frameInterval(image.imageInfo.timestamp)

        var detectorRan = false
        var detection: Box? = null
        if (tracker.needsDetection()) {
            detection = detector.detect(frame, model.metadata.cropMargin)
            tracker.detected(detection)
            detectorRan = true
        }
        var box = tracker.box()
        var landmarks: DoubleArray? = null
        var pose: DoubleArray? = null
        var modelNs = 0L
        if (box != null) {
            val before = SystemClock.elapsedRealtimeNanos()
            var face = alignRecrop(model, frame, box, tracker)
            // a guard fired (moved out of its crop, drift from the detector's anchor, implausible
            // shape, ...): the detector runs on this same frame and the model again on the box it
            // confirms (or, for a face it misses that only moved or drifted, on the same box); a
            // detector run earlier in this frame is reused, as in Python
            if (tracker.update(face.nextBox, face.box, face.score) != null) {
                if (!detectorRan) detection = detector.detect(frame, model.metadata.cropMargin)
                tracker.detected(detection)
                detectorRan = true
                box = tracker.box()
                if (box != null) {
                    face = model.run(frame, box)
                    // a reason now means the re-run failed too: the track ended on this frame
                    if (tracker.update(face.nextBox, face.box, face.score) != null) box = null
                }
            }
            modelNs = SystemClock.elapsedRealtimeNanos() - before
            if (box != null) {
                box = face.box // the re-crop's, when the face was re-aligned on it
                val shown = smootherFor(tracker).smooth(face.landmarks, face.poseDeg, interval)
                landmarks = shown.landmarks
                pose = shown.poseDeg
            }
        }
        val frameNs = SystemClock.elapsedRealtimeNanos() - start
        onResult(
            FrameResult(
                frame.width, frame.height, landmarks, pose, box, mirrored,
                frameNs / 1e6, modelNs / 1e6, detectorRan, model.threads, model.metadata.precision,
            ),
        )
    }

    /**
     * One model run on [box], and a second on the landmarks' own crop when a fast face left the crop
     * it was found in ([BoxTracker.recropBox]); the second is kept when it passes the guards too.
     */
    private fun alignRecrop(model: LandmarkModel, frame: PixelImage, box: Box, tracker: BoxTracker): FacePipeline.Result {
        val face = model.run(frame, box)
        val recrop = tracker.recropBox(face.nextBox, face.box, face.score) ?: return face
        val again = model.run(frame, recrop)
        return if (tracker.acceptRecrop(again.nextBox, again.box, again.score)) again else face
    }

    /** The smoother of the tracker's current track: a new one whenever a new track started. */
    private fun smootherFor(tracker: BoxTracker): FaceSmoother {
        val existing = smoother
        if (existing != null && smoothedTrack == tracker.trackId()) return existing
        smoothedTrack = tracker.trackId()
        return FaceSmoother().also { smoother = it }
    }

    /** Seconds since the last analysed frame (camera timestamps), or 1/30 s when unknown. */
    private fun frameInterval(timestampNs: Long): Double {
        val last = lastTimestampNs
        lastTimestampNs = timestampNs
        return if (last > 0 && timestampNs > last) (timestampNs - last) / 1e9 else FaceSmoother.DEFAULT_INTERVAL
    }

    /** The loaded model, reloaded when the thread count changed; null after a load failure. */
    private fun currentModel(): LandmarkModel? {
        val wanted = threads
        model?.let { if (it.threads == wanted) return it }
        if (loadFailed) return null
        model?.close()
        model = null
        return try {
            LandmarkModel.load(context, wanted).also { model = it }
        } catch (err: Exception) {
            // a missing asset, a corrupt model or a sidecar mismatch: say so once, stop trying
            loadFailed = true
            onError(err.message ?: err.toString())
            null
        }
    }

    private fun currentTracker(width: Int, height: Int): BoxTracker {
        val existing = tracker
        if (existing != null && !resetRequested && existing.imageWidth == width && existing.imageHeight == height) {
            return existing
        }
        resetRequested = false
        smoother = null // track ids start again with the new tracker
        return BoxTracker(width, height).also { tracker = it }
    }

    /**
     * The RGBA_8888 plane as an upright [PixelImage], copied once into a reused array (the plane's
     * buffer is only valid until the ImageProxy closes) and rotated as a view, not a second copy.
     */
    private fun upright(image: ImageProxy): PixelImage {
        val plane = image.planes[0]
        val buffer = plane.buffer
        buffer.rewind()
        if (frameBytes.size != buffer.remaining()) {
            frameBytes = ByteArray(buffer.remaining())
        }
        buffer.get(frameBytes)
        return PixelImage.ofRgba(frameBytes, image.width, image.height, plane.rowStride)
            .rotated(image.imageInfo.rotationDegrees)
    }

    override fun close() {
        model?.close()
        model = null
    }
}
