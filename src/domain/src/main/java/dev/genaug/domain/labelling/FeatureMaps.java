package dev.genaug.domain.labelling;

import java.util.List;

/**
 * The generator outputs a labeller reads, for a batch of images, each at its native resolution.
 * A pixel's feature vector (every level bilinearly upsampled to image size, concatenated) is
 * computed on demand by {@link #pixel}: the per-pixel tensor DatasetGAN caches (26 times the size
 * of the reference generator's native maps) is never built.
 *
 * <p>Upsampling uses half-pixel centres with edge clamping (ONNX Resize "linear", "half_pixel";
 * PyTorch's align_corners=False), the exact operator of the exported labeller.
 */
public final class FeatureMaps {
    /**
     * One generator output.
     *
     * @param data [images, channels, height / stride, width / stride], row-major
     */
    public record Level(String name, int channels, int stride, float[] data) {}

    private final int images;
    private final int height;
    private final int width;
    private final List<Level> levels;
    private final int dimension;
    // Per level: for each output row/column the two source indices and the weight of the second.
    private final int[][] y0;
    private final int[][] y1;
    private final float[][] wy;
    private final int[][] x0;
    private final int[][] x1;
    private final float[][] wx;

    public FeatureMaps(int images, int height, int width, List<Level> levels) {
        this.images = images;
        this.height = height;
        this.width = width;
        this.levels = List.copyOf(levels);
        int d = 0;
        int count = levels.size();
        y0 = new int[count][];
        y1 = new int[count][];
        wy = new float[count][];
        x0 = new int[count][];
        x1 = new int[count][];
        wx = new float[count][];
        for (int l = 0; l < count; l++) {
            Level level = levels.get(l);
            int h = height / level.stride();
            int w = width / level.stride();
            long expected = (long) images * level.channels() * h * w;
            if (level.data().length != expected) {
                throw new IllegalArgumentException("feature map " + level.name() + " holds " + level.data().length
                        + " values, expected " + expected);
            }
            d += level.channels();
            y0[l] = new int[height];
            y1[l] = new int[height];
            wy[l] = new float[height];
            taps(level.stride(), h, y0[l], y1[l], wy[l]);
            x0[l] = new int[width];
            x1[l] = new int[width];
            wx[l] = new float[width];
            taps(level.stride(), w, x0[l], x1[l], wx[l]);
        }
        this.dimension = d;
    }

    private static void taps(int stride, int size, int[] first, int[] second, float[] weight) {
        for (int o = 0; o < first.length; o++) {
            float src = Math.max(0f, (o + 0.5f) / stride - 0.5f);
            int i0 = Math.min((int) src, size - 1);
            int i1 = Math.min(i0 + 1, size - 1);
            first[o] = i0;
            second[o] = i1;
            weight[o] = src - i0;
        }
    }

    public int images() {
        return images;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public List<Level> levels() {
        return levels;
    }

    /** The level of that name. */
    public Level level(String name) {
        return levels.stream()
                .filter(l -> l.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no feature map named " + name));
    }

    /** Features per pixel: the channels of every level. */
    public int dimension() {
        return dimension;
    }

    /** Writes the feature vector of pixel (y, x) of an image into out[offset, offset + dimension). */
    public void pixel(int image, int y, int x, float[] out, int offset) {
        int o = offset;
        for (int l = 0; l < levels.size(); l++) {
            Level level = levels.get(l);
            int h = height / level.stride();
            int w = width / level.stride();
            int plane = h * w;
            float[] data = level.data();
            float fy = wy[l][y];
            float fx = wx[l][x];
            float w00 = (1 - fy) * (1 - fx);
            float w01 = (1 - fy) * fx;
            float w10 = fy * (1 - fx);
            float w11 = fy * fx;
            int a = y0[l][y] * w + x0[l][x];
            int b = y0[l][y] * w + x1[l][x];
            int c = y1[l][y] * w + x0[l][x];
            int e = y1[l][y] * w + x1[l][x];
            int base = image * level.channels() * plane;
            for (int ch = 0; ch < level.channels(); ch++) {
                int p = base + ch * plane;
                out[o++] = w00 * data[p + a] + w01 * data[p + b] + w10 * data[p + c] + w11 * data[p + e];
            }
        }
    }

    /** The maps as batch-first tensors by name, the exported labeller's inputs. */
    public java.util.Map<String, dev.genaug.domain.inference.FloatTensor> tensors() {
        java.util.Map<String, dev.genaug.domain.inference.FloatTensor> out = new java.util.LinkedHashMap<>();
        for (Level level : levels) {
            out.put(
                    level.name(),
                    new dev.genaug.domain.inference.FloatTensor(
                            new long[] {images, level.channels(), height / level.stride(), width / level.stride()},
                            level.data()));
        }
        return out;
    }

    /** Per-feature mean and standard deviation over the native maps (the labeller's input scaling). */
    public float[][] moments() {
        float[] mean = new float[dimension];
        float[] std = new float[dimension];
        int f = 0;
        for (Level level : levels) {
            int plane = (height / level.stride()) * (width / level.stride());
            for (int ch = 0; ch < level.channels(); ch++, f++) {
                double s = 0;
                double s2 = 0;
                for (int i = 0; i < images; i++) {
                    int base = (i * level.channels() + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        double v = level.data()[base + p];
                        s += v;
                        s2 += v * v;
                    }
                }
                double n = (double) images * plane;
                double m = s / n;
                mean[f] = (float) m;
                std[f] = (float) Math.max(Math.sqrt(Math.max(s2 / n - m * m, 0)), 1e-3);
            }
        }
        return new float[][] {mean, std};
    }
}
