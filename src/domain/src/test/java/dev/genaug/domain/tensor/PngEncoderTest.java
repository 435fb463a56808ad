package dev.genaug.domain.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.domain.dataset.ShapesParts;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PngEncoderTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4})
    void shouldDecodeToTheSamePixelsWithTheJdkReader(int channels) {
        byte[] chw = new byte[channels * 13 * 7];
        new Random(channels).nextBytes(chw);
        byte[] png = PngEncoder.encode(chw, channels, 13, 7);
        ChwImage back = ImageCodec.decodePng(png, 0f, 255f, "image"); // the JDK's ImageIO reader
        assertThat(back.channels()).isEqualTo(channels);
        assertThat(back.height()).isEqualTo(13);
        assertThat(back.width()).isEqualTo(7);
        assertThat(ImageCodec.toUint8(back.pixels(), 0f, 255f)).containsExactly(chw);
    }

    @Test
    void shouldGiveTheSameBytesForTheSamePixels() {
        byte[] rgb = ShapesParts.render(5, 9).rgb();
        assertThat(PngEncoder.encode(rgb, 3, 64, 64)).isEqualTo(PngEncoder.encode(rgb.clone(), 3, 64, 64));
    }

    @Test
    void shouldRoundToUint8ExactlyAsMathRoundDoes() {
        Random random = new Random(2);
        float[] values = new float[100_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (random.nextFloat() * 2.4f - 1.2f);
        }
        values[0] = Float.NaN;
        values[1] = 0.5f / 127.5f - 1f; // exactly half way
        byte[] fast = ImageCodec.toUint8(values, -1f, 1f);
        float scale = 255f / 2f;
        for (int i = 0; i < values.length; i++) {
            int expected = Math.max(0, Math.min(255, Math.round((values[i] + 1f) * scale)));
            assertThat(fast[i] & 0xFF).as("value %s", values[i]).isEqualTo(expected);
        }
    }
}
