package dev.asmnetedge.demo

import android.content.Context
import dev.asmnetedge.core.Box
import dev.asmnetedge.core.FacePipeline
import dev.asmnetedge.core.ModelMetadata
import dev.asmnetedge.core.PixelImage
import dev.asmnetedge.core.QuantParams
import dev.asmnetedge.core.RefineStage
import dev.asmnetedge.core.TensorType
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.Tensor
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel
import java.security.MessageDigest

/**
 * One exported ASMNet on the LiteRT interpreter (CPU, XNNPACK, [threads] threads), and its refine
 * stage on a second interpreter when the assets hold one (docs/refine.md: ASMNet + refine).
 *
 * The interpreters only run the networks; cropping, quantisation, decoding and the refine stage's
 * warp and heatmap are the plain-Java core's [FacePipeline] and [RefineStage], the code that is tested
 * against the Python runtime. Quantisation parameters come from the interpreters' tensors, as in
 * Python's LiteModel, not from the sidecars.
 */
class LandmarkModel private constructor(
    private val interpreter: Interpreter,
    val metadata: ModelMetadata,
    val threads: Int,
    private val refiner: Refiner?,
) : AutoCloseable {
    private val signature: String = interpreter.signatureKeys.firstOrNull()
        ?: throw IllegalStateException("the model has no signature: export it with 'asmnet-edge export'")
    private val pipeline: FacePipeline
    private val input: ByteBuffer
    private val landmarks: ByteBuffer
    private val pose: ByteBuffer

    init {
        val inputTensor = interpreter.getInputTensorFromSignature(metadata.inputName, signature)
        val landmarksTensor = interpreter.getOutputTensorFromSignature(metadata.landmarksOutput, signature)
        val poseTensor = interpreter.getOutputTensorFromSignature(metadata.poseOutput, signature)
        pipeline = FacePipeline(metadata, quant(inputTensor), quant(landmarksTensor), quant(poseTensor))
        check(inputTensor.numBytes() == pipeline.inputByteCount()) {
            "the model's input has ${inputTensor.numBytes()} bytes, the metadata implies ${pipeline.inputByteCount()}"
        }
        check(landmarksTensor.numElements() == 2 * metadata.numLandmarks) {
            "the landmarks output has ${landmarksTensor.numElements()} values, expected ${2 * metadata.numLandmarks}"
        }
        // direct buffers in native order: the interpreter copies from/to them without conversion
        input = ByteBuffer.allocateDirect(inputTensor.numBytes()).order(ByteOrder.nativeOrder())
        landmarks = ByteBuffer.allocateDirect(landmarksTensor.numBytes()).order(ByteOrder.nativeOrder())
        pose = ByteBuffer.allocateDirect(poseTensor.numBytes()).order(ByteOrder.nativeOrder())
    }

    /** Crop [box] out of [frame], run the network, and decode landmarks (image pixels) and pose. */
    fun run(frame: PixelImage, box: Box): FacePipeline.Result {
        input.clear()
        pipeline.prepare(frame, box, input)
        input.rewind()
        landmarks.clear()
        pose.clear()
        interpreter.runSignature(
            mapOf<String, Any>(metadata.inputName to input),
            mapOf<String, Any>(metadata.landmarksOutput to landmarks, metadata.poseOutput to pose),
            signature,
        )
        landmarks.rewind()
        pose.rewind()
        val face = pipeline.decode(landmarks, pose, box)
        return refiner?.refine(pipeline, face) ?: face
    }

    /** True when a refine stage corrects every face. */
    val refined: Boolean get() = refiner != null

    override fun close() {
        interpreter.close()
        refiner?.close()
    }

    /** The refine stage on its own interpreter, checked to belong to the stage-1 model. */
    private class Refiner(private val interpreter: Interpreter, val metadata: ModelMetadata, stage1: ModelMetadata) :
        AutoCloseable {
        private val signature: String = interpreter.signatureKeys.firstOrNull()
            ?: throw IllegalStateException("the refine model has no signature: export it with 'asmnet-edge export'")
        private val stage: RefineStage
        private val input: ByteBuffer
        private val corrections: ByteBuffer

        init {
            val inputTensor = interpreter.getInputTensorFromSignature(metadata.inputName, signature)
            val outputTensor = interpreter.getOutputTensorFromSignature(metadata.landmarksOutput, signature)
            stage = RefineStage(metadata, quant(inputTensor), quant(outputTensor))
            stage.check(stage1) // StageMismatchException: a refine stage trained behind another stage 1
            check(inputTensor.numBytes() == stage.inputByteCount()) {
                "the refine model's input has ${inputTensor.numBytes()} bytes, the metadata implies ${stage.inputByteCount()}"
            }
            input = ByteBuffer.allocateDirect(inputTensor.numBytes()).order(ByteOrder.nativeOrder())
            corrections = ByteBuffer.allocateDirect(outputTensor.numBytes()).order(ByteOrder.nativeOrder())
        }

        /** [face] with its points corrected on the stage-1 crop the pipeline last made. */
        fun refine(pipeline: FacePipeline, face: FacePipeline.Result): FacePipeline.Result {
            val size = pipeline.meta.inputSize
            input.clear()
            val matrix = try {
                stage.prepare(PixelImage.ofRgb(pipeline.lastCrop(), size, size), face.cropLandmarks, input)
            } catch (collapsed: IllegalArgumentException) {
                return face // points with no spread: nothing to align, the tracker's guards judge stage 1's
            }
            input.rewind()
            corrections.clear()
            interpreter.runSignature(
                mapOf<String, Any>(metadata.inputName to input),
                mapOf<String, Any>(metadata.landmarksOutput to corrections),
                signature,
            )
            corrections.rewind()
            return pipeline.withCropLandmarks(face, stage.decode(corrections, face.cropLandmarks, matrix))
        }

        override fun close() = interpreter.close()
    }

    companion object {
        /** Asset names written by android_demo/sync_model.py. */
        const val MODEL_ASSET = "asmnet.tflite"
        const val SIDECAR_ASSET = "asmnet.json"
        /** The optional refine stage (android_demo/sync_model.py --refine). */
        const val REFINE_ASSET = "refine.tflite"
        const val REFINE_SIDECAR_ASSET = "refine.json"

        /** Load the model (and its refine stage, if synced) from the APK's assets; throws with a readable message. */
        fun load(context: Context, threads: Int): LandmarkModel {
            val (model, metadata) = mapChecked(context, MODEL_ASSET, SIDECAR_ASSET)
            val options = Interpreter.Options()
                .setNumThreads(threads)
                .setUseXNNPACK(true)
            val interpreter = Interpreter(model, options)
            val refiner = if (context.assets.list("")?.contains(REFINE_ASSET) == true) {
                try {
                    val (refineModel, refineMetadata) = mapChecked(context, REFINE_ASSET, REFINE_SIDECAR_ASSET)
                    val refineInterpreter = Interpreter(refineModel, options)
                    try {
                        Refiner(refineInterpreter, refineMetadata, metadata)
                    } catch (err: Exception) {
                        refineInterpreter.close() // e.g. a refine stage trained behind another stage 1
                        throw err
                    }
                } catch (err: Exception) {
                    interpreter.close()
                    throw err
                }
            } else {
                null
            }
            return LandmarkModel(interpreter, metadata, threads, refiner)
        }

        /** A model asset memory-mapped, and its sidecar parsed and checked against it. */
        private fun mapChecked(context: Context, modelAsset: String, sidecarAsset: String): Pair<MappedByteBuffer, ModelMetadata> {
            val sidecar = context.assets.open(sidecarAsset).bufferedReader().use { it.readText() }
            val metadata = ModelMetadata.fromJson(sidecar)
            val model = mapAsset(context, modelAsset)
            verifyHash(model, metadata, modelAsset, sidecarAsset)
            return model to metadata
        }

        /** Memory-map an uncompressed asset (see noCompress in app/build.gradle.kts). */
        private fun mapAsset(context: Context, name: String): MappedByteBuffer =
            context.assets.openFd(name).use { descriptor ->
                FileInputStream(descriptor.fileDescriptor).use { stream ->
                    stream.channel.map(FileChannel.MapMode.READ_ONLY, descriptor.startOffset, descriptor.declaredLength)
                }
            }

        /** A model swapped without its sidecar would be decoded with the wrong sign, size or scale. */
        private fun verifyHash(model: ByteBuffer, metadata: ModelMetadata, modelAsset: String, sidecarAsset: String) {
            val expected = metadata.fileSha256 ?: throw IllegalStateException(
                "$sidecarAsset has no file_sha256: copy the model with android_demo/sync_model.py",
            )
            val digest = MessageDigest.getInstance("SHA-256")
            digest.update(model.duplicate())
            val actual = digest.digest().joinToString("") { "%02x".format(it.toInt() and 0xFF) }
            check(actual == expected) {
                "$modelAsset does not match $sidecarAsset (sha256 $actual, sidecar says $expected): " +
                    "copy the model and its sidecar together with android_demo/sync_model.py"
            }
        }

        internal fun quant(tensor: Tensor): QuantParams {
            val type = when (tensor.dataType()) {
                DataType.FLOAT32 -> TensorType.FLOAT32
                DataType.INT8 -> TensorType.INT8
                DataType.UINT8 -> TensorType.UINT8
                else -> throw IllegalStateException(
                    "tensor ${tensor.name()} is ${tensor.dataType()}: the demo handles float32, int8 and uint8",
                )
            }
            val params = tensor.quantizationParams()
            // float -> double is exact, and is what Python's float(np.float32) gives
            return QuantParams(type, params.scale.toDouble(), params.zeroPoint)
        }
    }
}
