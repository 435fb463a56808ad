package dev.genaug.domain.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.DType;
import dev.genaug.api.common.v1.Tensor;
import dev.genaug.domain.error.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class TensorsTest {

    @Test
    void shouldWriteLittleEndianFloatsWhenBuildingFp32Tensor() {
        Tensor t = Tensors.fp32(new float[] {1.0f, -2.5f}, 1, 2);
        // 1.0f = 0x3F800000, little-endian bytes 00 00 80 3F.
        assertThat(t.getData().toByteArray()).startsWith((byte) 0x00, (byte) 0x00, (byte) 0x80, (byte) 0x3F);
        assertThat(Tensors.toFloats(t, "t")).containsExactly(1.0f, -2.5f);
    }

    @Test
    void shouldRoundTripHalfPrecisionWithinItsResolution() {
        float[] values = {0f, 1f, -2f, 0.333f, 65504f};
        float[] back = Tensors.floatsFromLittleEndianHalf(Tensors.littleEndianHalf(values));
        assertThat(back[0]).isEqualTo(0f);
        assertThat(back[1]).isEqualTo(1f);
        assertThat(back[2]).isEqualTo(-2f);
        assertThat(back[3]).isCloseTo(0.333f, org.assertj.core.api.Assertions.within(2e-4f));
        assertThat(back[4]).isEqualTo(65504f);
        Tensor half = Tensor.newBuilder()
                .setDtype(DType.DTYPE_FP16)
                .addShape(5)
                .setData(ByteString.copyFrom(Tensors.littleEndianHalf(values)))
                .build();
        assertThat(Tensors.toFloats(half, "h")).containsExactly(back);
    }

    @Test
    void shouldNameTheFieldWhenDataLengthDoesNotMatchShape() {
        Tensor bad = Tensor.newBuilder()
                .setDtype(DType.DTYPE_FP32)
                .addShape(2)
                .addShape(3)
                .setData(ByteString.copyFrom(new byte[20]))
                .build();
        assertThatThrownBy(() -> Tensors.validate(bad, "latents"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("latents.data")
                .hasMessageContaining("needs 24");
    }

    @Test
    void shouldRejectNegativeExtentAndMissingDtype() {
        Tensor negative =
                Tensor.newBuilder().setDtype(DType.DTYPE_UINT8).addShape(-1).build();
        assertThatThrownBy(() -> Tensors.validate(negative, "x")).hasMessageContaining("x.shape[0]");
        Tensor untyped = Tensor.newBuilder().addShape(1).build();
        assertThatThrownBy(() -> Tensors.validate(untyped, "y")).hasMessageContaining("y.dtype");
    }

    @Test
    void shouldRejectIntegerTensorWhenFloatsAreExpected() {
        Tensor ints = Tensors.uint8(new byte[] {1, 2}, 2);
        assertThatThrownBy(() -> Tensors.toFloats(ints, "latents")).hasMessageContaining("latents.dtype");
    }
}
