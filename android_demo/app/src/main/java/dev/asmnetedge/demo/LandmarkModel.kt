package dev.asmnetedge.demo

import android.content.Context
import dev.asmnetedge.core.Box
import dev.asmnetedge.core.FacePipeline
import dev.asmnetedge.core.ModelMetadata
import dev.asmnetedge.core.PixelImage
import dev.asmnetedge.core.QuantParams
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
 * One exported ASMNet on the LiteRT interpreter (CPU, XNNPACK, [threads] threads).
 *
 * The interpreter only runs the network; cropping, quantisation and decoding are the plain-Java
 * core's [FacePipeline], the code that is tested against the Python runtime. Quantisation
 * parameters come from the interpreter's tensors, as in Python's LiteModel, not from the sidecar.
 */
class LandmarkModel private constructor(
    private val interpreter: Interpreter,
    val metadata: ModelMetadata,
    val threads: Int,
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
        return pipeline.decode(landmarks, pose, box)
    }

    override fun close() = interpreter.close()

    companion object {
        /** Asset names written by android_demo/sync_model.py. */
        const val MODEL_ASSET = "asmnet.tflite"
        const val SIDECAR_ASSET = "asmnet.json"

        /** Load the model and its sidecar from the APK's assets; throws with a readable message. */
        fun load(context: Context, threads: Int): LandmarkModel {
            val sidecar = context.assets.open(SIDECAR_ASSET).bufferedReader().use { it.readText() }
            val metadata = ModelMetadata.fromJson(sidecar)
            val model = mapAsset(context, MODEL_ASSET)
            verifyHash(model, metadata)
            val options = Interpreter.Options()
                .setNumThreads(threads)
                .setUseXNNPACK(true)
            return LandmarkModel(Interpreter(model, options), metadata, threads)
        }

        /** Memory-map an uncompressed asset (see noCompress in app/build.gradle.kts). */
        private fun mapAsset(context: Context, name: String): MappedByteBuffer =
            context.assets.openFd(name).use { descriptor ->
                FileInputStream(descriptor.fileDescriptor).use { stream ->
                    stream.channel.map(FileChannel.MapMode.READ_ONLY, descriptor.startOffset, descriptor.declaredLength)
                }
            }

        /** A model swapped without its sidecar would be decoded with the wrong sign, size or scale. */
        private fun verifyHash(model: ByteBuffer, metadata: ModelMetadata) {
            val expected = metadata.fileSha256 ?: throw IllegalStateException(
                "$SIDECAR_ASSET has no file_sha256: copy the model with android_demo/sync_model.py",
            )
            val digest = MessageDigest.getInstance("SHA-256")
            digest.update(model.duplicate())
            val actual = digest.digest().joinToString("") { "%02x".format(it.toInt() and 0xFF) }
            check(actual == expected) {
                "$MODEL_ASSET does not match $SIDECAR_ASSET (sha256 $actual, sidecar says $expected): " +
                    "copy the model and its sidecar together with android_demo/sync_model.py"
            }
        }

        private fun quant(tensor: Tensor): QuantParams {
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
