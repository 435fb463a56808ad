package dev.genaug.domain.tensor;

/**
 * One image as planar float pixels, channel-major: {@code pixels[(c * height + y) * width + x]}.
 * The value range is the model's (see the manifest's image section), not necessarily 0..1.
 */
public record ChwImage(int channels, int height, int width, float[] pixels) {
    public ChwImage {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image extents must be >= 1: " + channels + "x" + height + "x" + width);
        }
        if ((long) channels * height * width != pixels.length) {
            throw new IllegalArgumentException(
                    pixels.length + " pixels do not fill " + channels + "x" + height + "x" + width);
        }
    }

    /** Value of channel c at (y, x). */
    public float at(int c, int y, int x) {
        return pixels[(c * height + y) * width + x];
    }
}
