package dev.asmnetedge.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.util.Size
import android.view.View
import android.widget.Button
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Live landmarks and head pose on the camera preview: CameraX Preview + ImageAnalysis (latest
 * frame only, RGBA_8888), analysed by [FaceAnalyzer] on one background thread.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var previewView: PreviewView
    private lateinit var overlay: OverlayView
    private lateinit var status: TextView
    private lateinit var threadsButton: Button
    private lateinit var analysisExecutor: ExecutorService
    private lateinit var analyzer: FaceAnalyzer
    private var lensFacing = CameraSelector.LENS_FACING_FRONT
    private var threadChoice = 1 // index into THREAD_CHOICES: 2 threads by default

    private val permissionRequest = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startCamera() else showStatus(getString(R.string.permission_denied))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        previewView = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        status = findViewById(R.id.status)
        threadsButton = findViewById(R.id.threads)

        analysisExecutor = Executors.newSingleThreadExecutor()
        analyzer = FaceAnalyzer(
            applicationContext,
            onResult = overlay::show,
            onError = { message -> runOnUiThread { showStatus(getString(R.string.model_failed, message)) } },
        )
        applyThreads()
        threadsButton.setOnClickListener {
            threadChoice = (threadChoice + 1) % THREAD_CHOICES.size
            applyThreads()
        }
        findViewById<Button>(R.id.switch_camera).setOnClickListener {
            lensFacing = if (lensFacing == CameraSelector.LENS_FACING_FRONT) {
                CameraSelector.LENS_FACING_BACK
            } else {
                CameraSelector.LENS_FACING_FRONT
            }
            startCamera()
        }

        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            permissionRequest.launch(Manifest.permission.CAMERA)
        }
    }

    /** The interpreter is rebuilt on the analysis thread at the next frame (FaceAnalyzer.currentModel). */
    private fun applyThreads() {
        val threads = THREAD_CHOICES[threadChoice]
        analyzer.threads = threads
        threadsButton.text = getString(R.string.threads, threads)
    }

    private fun startCamera() {
        val providerFuture = ProcessCameraProvider.getInstance(this)
        providerFuture.addListener({ bindCamera(providerFuture.get()) }, ContextCompat.getMainExecutor(this))
    }

    private fun bindCamera(provider: ProcessCameraProvider) {
        // one aspect ratio for preview and analysis, so overlay coordinates map with one scale
        val aspect = AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY
        val preview = Preview.Builder()
            .setResolutionSelector(ResolutionSelector.Builder().setAspectRatioStrategy(aspect).build())
            .build()
        preview.setSurfaceProvider(previewView.surfaceProvider)

        // 640x480 is plenty for a face crop of 224 px and keeps the frame copy cheap
        val analysisResolution = ResolutionSelector.Builder()
            .setAspectRatioStrategy(aspect)
            .setResolutionStrategy(
                ResolutionStrategy(Size(640, 480), ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER),
            )
            .build()
        val analysis = ImageAnalysis.Builder()
            .setResolutionSelector(analysisResolution)
            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
            .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
            .build()
        analysis.setAnalyzer(analysisExecutor, analyzer)

        analyzer.mirrored = lensFacing == CameraSelector.LENS_FACING_FRONT
        analyzer.resetTracking()
        val selector = CameraSelector.Builder().requireLensFacing(lensFacing).build()
        try {
            provider.unbindAll()
            provider.bindToLifecycle(this, selector, preview, analysis)
            status.visibility = View.GONE
        } catch (err: IllegalArgumentException) {
            // e.g. a device without a front camera
            showStatus(err.message ?: err.toString())
        }
    }

    private fun showStatus(message: String) {
        status.text = message
        status.visibility = View.VISIBLE
    }

    override fun onDestroy() {
        super.onDestroy()
        // close the interpreter on the thread that uses it, after the last queued frame
        analysisExecutor.execute { analyzer.close() }
        analysisExecutor.shutdown()
    }

    private companion object {
        val THREAD_CHOICES = intArrayOf(1, 2, 4)
    }
}
