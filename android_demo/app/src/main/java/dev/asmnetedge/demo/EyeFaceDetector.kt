package dev.asmnetedge.demo

import android.graphics.Bitmap
import android.graphics.PointF
import android.media.FaceDetector
import dev.asmnetedge.core.Box
import dev.asmnetedge.core.FaceBoxes
import dev.asmnetedge.core.PixelImage
import kotlin.math.max
import kotlin.math.roundToInt

/**
 * The first face box, from Android's built-in `android.media.FaceDetector`: no extra model, no
 * Play services. It finds upright frontal faces in a small RGB_565 bitmap and reports the eyes'
 * mid-point and distance, which [FaceBoxes.fromEyes] turns into a crop box. After that the
 * landmarks themselves track the face (core `BoxTracker`), so it runs only now and then.
 */
class EyeFaceDetector(private val maxSide: Int = 320) {
    /** The largest face in [frame] as a crop box grown by [margin], or null when none is found. */
    fun detect(frame: PixelImage, margin: Double): Box? {
        val scale = maxSide.toDouble() / max(frame.width, frame.height)
        // FaceDetector requires an even bitmap width
        val width = ((frame.width * scale).roundToInt() / 2 * 2).coerceAtLeast(2)
        val height = (frame.height * scale).roundToInt().coerceAtLeast(1)
        val small = Bitmap.createBitmap(downscale(frame, width, height), width, height, Bitmap.Config.ARGB_8888)
        val rgb565 = small.copy(Bitmap.Config.RGB_565, false)
        small.recycle()
        val faces = arrayOfNulls<FaceDetector.Face>(MAX_FACES)
        val found = FaceDetector(width, height, MAX_FACES).findFaces(rgb565, faces)
        rgb565.recycle()
        val face = faces.take(found).filterNotNull()
            .filter { it.confidence() >= FaceDetector.Face.CONFIDENCE_THRESHOLD }
            .maxByOrNull { it.eyesDistance() } ?: return null
        val mid = PointF()
        face.getMidPoint(mid)
        val toFrame = 1.0 / scale
        return FaceBoxes.fromEyes(mid.x * toFrame, mid.y * toFrame, face.eyesDistance() * toFrame, margin)
    }

    /** Nearest-neighbour downscale to ARGB ints; detection does not need a smooth resample. */
    private fun downscale(frame: PixelImage, width: Int, height: Int): IntArray {
        val pixels = IntArray(width * height)
        for (row in 0 until height) {
            val sourceRow = minOf(frame.height - 1, row * frame.height / height)
            for (col in 0 until width) {
                val sourceCol = minOf(frame.width - 1, col * frame.width / width)
                pixels[row * width + col] = (0xFF shl 24) or
                    (frame.channel(sourceCol, sourceRow, 0) shl 16) or
                    (frame.channel(sourceCol, sourceRow, 1) shl 8) or
                    frame.channel(sourceCol, sourceRow, 2)
            }
        }
        return pixels
    }

    private companion object {
        const val MAX_FACES = 3
    }
}
