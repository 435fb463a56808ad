package dev.genaug.domain.tensor;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.genaug.api.common.v1.DType;
import dev.genaug.api.common.v1.Tensor;
import dev.genaug.domain.error.InvalidArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Validation and conversion of {@link Tensor} messages: row-major, little-endian, no padding.
 * Every check names the field it rejects, so callers can pass the message through unchanged.
 */
public final class Tensors {
    private Tensors() {}

    /** Bytes per element of a dtype. */
    public static int byteWidth(DType dtype) {
        return switch (dtype) {
            case DTYPE_FP32, DTYPE_INT32 -> 4;
            case DTYPE_FP16 -> 2;
            case DTYPE_UINT8 -> 1;
            case DTYPE_INT64 -> 8;
            case DTYPE_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("dtype has no width: " + dtype);
        };
    }

    /** Number of elements of a shape; an empty shape is a scalar. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Checks that a tensor is self-consistent: a dtype is set, every extent is >= 0, and the data
     * length equals elements times byte width.
     */
    public static void validate(Tensor tensor, String field) {
        if (tensor.getDtype() == DType.DTYPE_UNSPECIFIED || tensor.getDtype() == DType.UNRECOGNIZED) {
            throw new InvalidArgumentException(field + ".dtype", "must be set");
        }
        long elements = 1;
        for (int i = 0; i < tensor.getShapeCount(); i++) {
            long extent = tensor.getShape(i);
            if (extent < 0) {
                throw new InvalidArgumentException(field + ".shape[" + i + "]", "must be >= 0, got " + extent);
            }
            try {
                elements = Math.multiplyExact(elements, extent);
            } catch (ArithmeticException e) {
                throw new InvalidArgumentException(field + ".shape", "element count overflows");
            }
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, (long) byteWidth(tensor.getDtype()));
        } catch (ArithmeticException e) {
            throw new InvalidArgumentException(field + ".shape", "byte size overflows");
        }
        if (tensor.getData().size() != expected) {
            throw new InvalidArgumentException(
                    field + ".data",
                    "holds "
                            + tensor.getData().size()
                            + " bytes but shape "
                            + tensor.getShapeList()
                            + " of "
                            + tensor.getDtype()
                            + " needs "
                            + expected);
        }
    }

    /** An FP32 tensor of the given shape. */
    public static Tensor fp32(float[] values, long... shape) {
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException(
                    values.length + " values do not fill shape " + java.util.Arrays.toString(shape));
        }
        return Tensor.newBuilder()
                .setDtype(DType.DTYPE_FP32)
                .addAllShape(java.util.Arrays.stream(shape).boxed().toList())
                .setData(UnsafeByteOperations.unsafeWrap(littleEndian(values))) // a fresh array: no second copy
                .build();
    }

    /** A UINT8 tensor of the given shape. */
    public static Tensor uint8(byte[] values, long... shape) {
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException(
                    values.length + " values do not fill shape " + java.util.Arrays.toString(shape));
        }
        return Tensor.newBuilder()
                .setDtype(DType.DTYPE_UINT8)
                .addAllShape(java.util.Arrays.stream(shape).boxed().toList())
                .setData(ByteString.copyFrom(values))
                .build();
    }

    /**
     * The elements of a validated FP32 or FP16 tensor as floats.
     *
     * @throws InvalidArgumentException if the tensor is inconsistent or of another dtype
     */
    public static float[] toFloats(Tensor tensor, String field) {
        validate(tensor, field);
        ByteBuffer buffer = tensor.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return switch (tensor.getDtype()) {
            case DTYPE_FP32 -> {
                float[] out = new float[buffer.remaining() / 4];
                buffer.asFloatBuffer().get(out);
                yield out;
            }
            case DTYPE_FP16 -> {
                float[] out = new float[buffer.remaining() / 2];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(buffer.getShort());
                }
                yield out;
            }
            default ->
                throw new InvalidArgumentException(
                        field + ".dtype", "must be DTYPE_FP32 or DTYPE_FP16, got " + tensor.getDtype());
        };
    }

    /** Little-endian bytes of a float array. */
    public static byte[] littleEndian(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer.array();
    }

    /** Floats from little-endian bytes. */
    public static float[] floatsFromLittleEndian(byte[] bytes) {
        if (bytes.length % 4 != 0) {
            throw new IllegalArgumentException(bytes.length + " bytes are not a whole number of floats");
        }
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** Little-endian IEEE binary16 bytes of a float array (round to nearest even). */
    public static byte[] littleEndianHalf(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putShort(Float.floatToFloat16(v));
        }
        return buffer.array();
    }

    /** Floats from little-endian IEEE binary16 bytes. */
    public static float[] floatsFromLittleEndianHalf(byte[] bytes) {
        if (bytes.length % 2 != 0) {
            throw new IllegalArgumentException(bytes.length + " bytes are not a whole number of halves");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.float16ToFloat(buffer.getShort());
        }
        return out;
    }
}
