package dev.genaug.domain.tensor;

import dev.genaug.domain.error.InvalidArgumentException;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * PNG to planar floats and back. A value range [min, max] maps linearly onto 0..255: decoding
 * maps byte v to min + v * (max - min) / 255, encoding rounds to the nearest byte and clamps.
 */
public final class ImageCodec {
    private ImageCodec() {}

    /**
     * Decodes an 8-bit PNG (grey, RGB or RGBA) to planar floats in [min, max].
     *
     * @param field the request field the bytes came from, named in errors
     */
    public static ChwImage decodePng(byte[] png, float min, float max, String field) {
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException | RuntimeException e) {
            throw new InvalidArgumentException(field, "is not a readable PNG: " + e.getMessage());
        }
        if (image == null) {
            throw new InvalidArgumentException(field, "is not a PNG (no image reader accepts it)");
        }
        Raster raster = image.getRaster();
        if (raster.getSampleModel().getSampleSize(0) != 8) {
            throw new InvalidArgumentException(
                    field,
                    "must have 8 bits per channel, has "
                            + raster.getSampleModel().getSampleSize(0));
        }
        int channels = raster.getNumBands();
        int height = raster.getHeight();
        int width = raster.getWidth();
        float scale = (max - min) / 255f;
        float[] pixels = new float[channels * height * width];
        int[] row = new int[width];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                raster.getSamples(0, y, width, 1, c, row);
                int base = (c * height + y) * width;
                for (int x = 0; x < width; x++) {
                    pixels[base + x] = min + row[x] * scale;
                }
            }
        }
        return new ChwImage(channels, height, width, pixels);
    }

    /** Encodes planar floats in [min, max] as an 8-bit PNG (1, 3 or 4 channels). */
    public static byte[] encodePng(ChwImage image, float min, float max) {
        return encodePng(toUint8(image.pixels(), min, max), image.channels(), image.height(), image.width());
    }

    /** Encodes planar 8-bit pixels as a PNG (1, 3 or 4 channels). */
    public static byte[] encodePng(byte[] chw, int channels, int height, int width) {
        return PngEncoder.encode(chw, channels, height, width);
    }

    /** Maps floats in [min, max] to bytes 0..255, rounding to nearest and clamping. */
    public static byte[] toUint8(float[] values, float min, float max) {
        byte[] out = new byte[values.length];
        float scale = 255f / (max - min);
        for (int i = 0; i < values.length; i++) {
            // Clamp first, then round half up by truncation, in double so that v + 0.5 is exact:
            // the same bytes as Math.round, several times faster on the generator's hot path.
            // NaN maps to 0.
            float v = Math.min(255f, Math.max(0f, (values[i] - min) * scale));
            out[i] = (byte) (int) ((double) v + 0.5);
        }
        return out;
    }

    /** Maps bytes 0..255 to floats in [min, max]. */
    public static float[] fromUint8(byte[] values, float min, float max) {
        float[] out = new float[values.length];
        float scale = (max - min) / 255f;
        for (int i = 0; i < values.length; i++) {
            out[i] = min + (values[i] & 0xFF) * scale;
        }
        return out;
    }
}
