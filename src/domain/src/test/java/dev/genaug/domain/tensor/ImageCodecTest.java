package dev.genaug.domain.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.domain.error.InvalidArgumentException;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageCodecTest {

    @Test
    void shouldRoundTripRgbPixelsExactlyThroughPng() {
        int c = 3;
        int h = 5;
        int w = 7;
        byte[] chw = new byte[c * h * w];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (byte) (i * 37);
        }
        byte[] png = ImageCodec.encodePng(chw, c, h, w);
        ChwImage back = ImageCodec.decodePng(png, 0f, 255f, "img");
        assertThat(back.channels()).isEqualTo(3);
        assertThat(back.height()).isEqualTo(h);
        assertThat(back.width()).isEqualTo(w);
        assertThat(ImageCodec.toUint8(back.pixels(), 0f, 255f)).containsExactly(chw);
        // Channel order is R, G, B: the first plane is channel 0 of the input.
        assertThat(back.at(0, 0, 1)).isEqualTo(37f);
    }

    @Test
    void shouldMapValueRangeOntoBytesWhenEncodingFloats() {
        ChwImage image = new ChwImage(1, 1, 3, new float[] {-1f, 0f, 1f});
        byte[] png = ImageCodec.encodePng(image, -1f, 1f);
        ChwImage back = ImageCodec.decodePng(png, -1f, 1f, "img");
        assertThat(back.pixels()[0]).isEqualTo(-1f);
        assertThat(back.pixels()[1]).isCloseTo(0f, within(1.001f / 255)); // half of one 2/255 step
        assertThat(back.pixels()[2]).isEqualTo(1f);
    }

    @Test
    void shouldClampOutOfRangeValues() {
        assertThat(ImageCodec.toUint8(new float[] {-3f, 2f}, -1f, 1f)).containsExactly((byte) 0, (byte) 255);
    }

    @Test
    void shouldReadAPalettePngAsItsIndicesWhichIsHowLabelMapsAreOftenSaved() throws Exception {
        // PASCAL VOC's masks and many annotation tools: 8-bit palette PNGs whose indices are class ids.
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] b = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) (i * 37);
            g[i] = (byte) (i * 91);
            b[i] = (byte) (255 - i);
        }
        BufferedImage image =
                new BufferedImage(4, 2, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, r, g, b));
        for (int p = 0; p < 8; p++) {
            image.getRaster().setSample(p % 4, p / 4, 0, p + 3);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);

        ChwImage ids = ImageCodec.decodePng(png.toByteArray(), 0f, 255f, "label_png");

        assertThat(ids.channels()).isEqualTo(1);
        assertThat(ids.pixels()).containsExactly(3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f);
    }

    @Test
    void shouldNameTheFieldWhenBytesAreNotAPng() {
        assertThatThrownBy(() -> ImageCodec.decodePng(new byte[] {1, 2, 3}, 0f, 1f, "images[2].png"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("images[2].png");
    }
}
