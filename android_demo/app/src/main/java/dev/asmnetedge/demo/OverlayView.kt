package dev.asmnetedge.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import dev.asmnetedge.core.PoseAxes
import java.util.Locale
import kotlin.math.max

/**
 * Draws the latest [FrameResult] over the camera preview: the landmarks, the face box, the head
 * pose as three axes from the nose tip, and the time per frame.
 *
 * Points are in upright analysis-image pixels; they are mapped onto the view the way PreviewView's
 * default FILL_CENTER scale type maps the preview (scale to cover, centre, crop the overflow), and
 * mirrored for the front camera because PreviewView mirrors it. Preview and analysis use the same
 * aspect ratio (MainActivity), so the two line up.
 */
class OverlayView @JvmOverloads constructor(
    context: Context,
    attrs: AttributeSet? = null,
) : View(context, attrs) {
    private var result: FrameResult? = null

    private val pointPaint = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = Color.GREEN; style = Paint.Style.FILL }
    private val boxPaint = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.argb(160, 255, 255, 255)
        style = Paint.Style.STROKE
        strokeWidth = 2f
    }
    private val axisPaints = listOf(Color.RED, Color.GREEN, Color.BLUE).map { axisColor ->
        Paint(Paint.ANTI_ALIAS_FLAG).apply { color = axisColor; strokeWidth = 6f; strokeCap = Paint.Cap.ROUND }
    }
    private val textPaint = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.WHITE
        textSize = 40f
        setShadowLayer(4f, 0f, 0f, Color.BLACK)
    }

    /** Show a new result; safe to call from any thread. */
    fun show(frame: FrameResult) {
        post {
            result = frame
            invalidate()
        }
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        val frame = result ?: return
        val scale = max(width.toFloat() / frame.imageWidth, height.toFloat() / frame.imageHeight)
        val offsetX = (width - frame.imageWidth * scale) / 2f
        val offsetY = (height - frame.imageHeight * scale) / 2f
        fun viewX(x: Double): Float {
            val onView = offsetX + x.toFloat() * scale
            return if (frame.mirrored) width - onView else onView
        }
        fun viewY(y: Double): Float = offsetY + y.toFloat() * scale

        frame.box?.let { box ->
            canvas.drawRect(
                minOf(viewX(box.x0), viewX(box.x1)), viewY(box.y0),
                maxOf(viewX(box.x0), viewX(box.x1)), viewY(box.y1), boxPaint,
            )
        }
        val points = frame.landmarks
        if (points != null) {
            val radius = max(2f, 1.5f * scale)
            for (index in points.indices step 2) {
                canvas.drawCircle(viewX(points[index]), viewY(points[index + 1]), radius, pointPaint)
            }
            frame.poseDeg?.let { drawAxes(canvas, points, it, frame, ::viewX, ::viewY) }
        }
        drawStats(canvas, frame)
    }

    private fun drawAxes(
        canvas: Canvas,
        points: DoubleArray,
        pose: DoubleArray,
        frame: FrameResult,
        viewX: (Double) -> Float,
        viewY: (Double) -> Float,
    ) {
        // the nose tip (iBUG point 30) for 68-point models, else the centroid
        val (originX, originY) = if (points.size == 136) {
            points[60] to points[61]
        } else {
            points.filterIndexed { index, _ -> index % 2 == 0 }.average() to
                points.filterIndexed { index, _ -> index % 2 == 1 }.average()
        }
        val length = 0.5 * (frame.box?.width() ?: 100.0)
        val axes = PoseAxes.project(pose[0], pose[1], pose[2], length)
        for (axis in 0 until 3) {
            canvas.drawLine(
                viewX(originX), viewY(originY),
                viewX(originX + axes[2 * axis]), viewY(originY + axes[2 * axis + 1]),
                axisPaints[axis],
            )
        }
    }

    private fun drawStats(canvas: Canvas, frame: FrameResult) {
        val lines = mutableListOf(
            String.format(Locale.US, "%.1f ms/frame (model %.1f ms)", frame.frameMs, frame.modelMs),
            "${frame.precision}, ${frame.threads} threads, XNNPACK" + if (frame.detectorRan) ", detector" else "",
        )
        frame.poseDeg?.let {
            lines += String.format(Locale.US, "yaw %+.0f  pitch %+.0f  roll %+.0f", it[0], it[1], it[2])
        }
        if (frame.landmarks == null) lines += "looking for a face..."
        var y = 64f
        for (line in lines) {
            canvas.drawText(line, 24f, y, textPaint)
            y += textPaint.textSize * 1.2f
        }
    }
}
