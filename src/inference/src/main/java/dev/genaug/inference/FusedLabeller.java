package dev.genaug.inference;

import dev.genaug.api.onnx.ModelProto;
import dev.genaug.api.onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float labeller exported by genaug, evaluated by one fused pass per image row instead of
 * operator by operator: each level's first layer at its own resolution (the exact shortcut), then,
 * for each row of output pixels and each member, the upsampled sum, layer 2, layer 3 and the
 * member's softmax, all in the core's cache. ONNX Runtime writes the first layer's full-resolution
 * output (members x hidden values per pixel, 21 MB per 64x64 picture for DatasetGAN's ensemble) to
 * memory and reads it back, which is what bounded the graph (docs/labelling.md); here only the
 * levels' products at their own resolutions (7 MB) go through memory.
 *
 * <p>Same arithmetic as the exported graph (the weights are read from it), in another order, so the
 * outputs agree to float rounding: the same labels but for near ties, confidences and uncertainties
 * within about 1e-6. Built only for the shapes its kernels take ({@link #of}); anything else runs in
 * ONNX Runtime.
 */
final class FusedLabeller {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final FloatVector MINUS_INFINITY = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    private static final FloatVector ZERO = FloatVector.zero(S);
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUNDER = 12582912f; // 1.5 x 2^23
    private static final float LN2_HIGH = 0.693359375f; // ln 2 = LN2_HIGH + LN2_LOW, the first exact in few bits
    private static final float LN2_LOW = -2.12194440e-4f;
    // Shuffles that swap lanes i and i ^ h: the sum of lanes in a fixed order (pairs of halves).
    private static final VectorShuffle<Float> SWAP_8 = VectorShuffle.fromOp(S, i -> i ^ 8 % L);
    private static final VectorShuffle<Float> SWAP_4 = VectorShuffle.fromOp(S, i -> i ^ 4 % L);
    private static final VectorShuffle<Float> SWAP_2 = VectorShuffle.fromOp(S, i -> i ^ 2 % L);
    private static final VectorShuffle<Float> SWAP_1 = VectorShuffle.fromOp(S, i -> i ^ 1 % L);

    /** A generator output the labeller reads, with its first layer for every member: [channels][c]. */
    private record Level(String name, int channels, int stride, int h, int w, float[] weight) {}

    /** Bilinear taps of an upsampling along one axis: source indices and their weights per output index. */
    private record Taps(int[] i0, int[] i1, float[] w0, float[] w1) {
        static Taps of(int stride, int size, int out) {
            int[] i0 = new int[out];
            int[] i1 = new int[out];
            float[] w0 = new float[out];
            float[] w1 = new float[out];
            for (int o = 0; o < out; o++) {
                // Half-pixel centres, edge clamped: the export's interpolation matrices.
                float src = Math.max(0f, (o + 0.5f) / stride - 0.5f);
                i0[o] = Math.min((int) src, size - 1);
                i1[o] = Math.min(i0[o] + 1, size - 1);
                w1[o] = src - i0[o];
                w0[o] = 1 - w1[o];
            }
            return new Taps(i0, i1, w0, w1);
        }
    }

    private final int members;
    private final int hidden;
    private final int hidden2;
    private final int classes;
    private final int height;
    private final int width;
    private final int top;
    private final Level image; // stride 1
    private final Level[] coarse; // stride > 1, first layer at their own resolution
    private final Taps[] tapsY;
    private final Taps[] tapsX;
    private final float[] bias1; // [members * hidden]
    private final float[][] w2; // per member [hidden][hidden2]
    private final float[][] b2; // per member [hidden2]
    private final float[][] w3; // per member [hidden2][L], classes padded with zeros
    private final float[][] b3; // per member [L]
    private final VectorMask<Float> classMask;
    // The levels' first-layer products of one call (7 MB for the reference labeller), reused by the
    // next call: as many sets as calls have run at once, not one per thread that ever labelled.
    private final java.util.Queue<float[][]> products = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final ThreadLocal<Scratch> scratch;

    private FusedLabeller(
            int members,
            int hidden,
            int hidden2,
            int classes,
            int height,
            int width,
            int top,
            Level image,
            Level[] coarse,
            float[] bias1,
            float[][] w2,
            float[][] b2,
            float[][] w3,
            float[][] b3) {
        this.members = members;
        this.hidden = hidden;
        this.hidden2 = hidden2;
        this.classes = classes;
        this.height = height;
        this.width = width;
        this.top = top;
        this.image = image;
        this.coarse = coarse;
        this.bias1 = bias1;
        this.w2 = w2;
        this.b2 = b2;
        this.w3 = w3;
        this.b3 = b3;
        this.tapsY = new Taps[coarse.length];
        this.tapsX = new Taps[coarse.length];
        for (int l = 0; l < coarse.length; l++) {
            tapsY[l] = Taps.of(coarse[l].stride(), coarse[l].h(), height);
            tapsX[l] = Taps.of(coarse[l].stride(), coarse[l].w(), width);
        }
        this.classMask = S.indexInRange(0, classes);
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(width, hidden, hidden2, coarse));
    }

    /** Per-thread buffers of one row. */
    private static final class Scratch {
        final float[] layer1;
        final float[] layer2;
        final float[] logits;
        final float[] sumP;
        final float[] sumPLogP;
        final float[][] rows; // per coarse level: its product interpolated to this row, [w][hidden]

        Scratch(int width, int hidden, int hidden2, Level[] coarse) {
            rows = new float[coarse.length][];
            for (int l = 0; l < coarse.length; l++) {
                rows[l] = new float[coarse[l].w() * hidden];
            }
            layer1 = new float[(width + 7) * hidden];
            layer2 = new float[(width + 7) * hidden2];
            logits = new float[(width + 7) * L];
            sumP = new float[(width + 7) * L];
            sumPLogP = new float[(width + 7) * L];
        }
    }

    /** One of the generator's outputs as the labeller's manifest lists it. */
    record Feature(String name, int channels, int stride) {}

    /**
     * The fused form of a float labeller graph written by genaug's exporter, or null when the graph
     * is not one (the int8 export, another exporter's model) or has shapes the kernels do not take.
     *
     * @param topCount pixels of a picture whose divergences make its uncertainty
     */
    static FusedLabeller of(ModelProto model, List<Feature> features, int height, int width, int topCount) {
        Map<String, TensorProto> init = new HashMap<>();
        for (TensorProto t : model.getGraph().getInitializerList()) {
            init.put(t.getName(), t);
        }
        if (!init.containsKey("w2_g0") || !init.containsKey("w3_g0") || init.containsKey("w4_g0")) {
            return null; // not genaug's float export with two hidden layers
        }
        List<Integer> groupSizes = new ArrayList<>();
        while (init.containsKey("w2_g" + groupSizes.size())) {
            groupSizes.add((int) init.get("w2_g" + groupSizes.size()).getDims(0));
        }
        TensorProto w2g0 = init.get("w2_g0");
        TensorProto w3g0 = init.get("w3_g0");
        int hidden2 = (int) w2g0.getDims(1);
        int hidden = (int) w2g0.getDims(2);
        int classes = (int) w3g0.getDims(1);
        int members = groupSizes.stream().mapToInt(Integer::intValue).sum();
        int c = members * hidden;
        if (L != 16 || hidden % (4 * L) != 0 || hidden2 != 2 * L || classes > L || (int) w3g0.getDims(2) != hidden2) {
            return null;
        }
        // The levels the graph upsamples before layer 1 share one full-resolution product per group
        // (fine_w1), its columns in the manifest's order; the others have their own 1x1 convolution.
        List<Feature> fine = new ArrayList<>();
        int fineChannels = 0;
        for (Feature f : features) {
            if (!init.containsKey(f.name() + "_g0_w1")) {
                fine.add(f);
                fineChannels += f.channels();
            }
        }
        Map<String, float[]> weights = new HashMap<>(); // [channels][c] per level
        for (Feature f : features) {
            weights.put(f.name(), new float[f.channels() * c]);
        }
        float[] bias1 = new float[c];
        float[][] w2 = new float[members][];
        float[][] b2 = new float[members][];
        float[][] w3 = new float[members][];
        float[][] b3 = new float[members][];
        int m0 = 0;
        for (int g = 0; g < groupSizes.size(); g++) {
            int e = groupSizes.get(g);
            int cg = e * hidden;
            String suffix = "_g" + g;
            float[] b = floats(init.get("b1" + suffix));
            if (b == null || b.length != cg) {
                return null;
            }
            System.arraycopy(b, 0, bias1, m0 * hidden, cg);
            for (Feature f : features) {
                float[] into = weights.get(f.name());
                TensorProto own = init.get(f.name() + suffix + "_w1");
                if (own != null) { // [cg, channels, 1, 1]
                    float[] w = floats(own);
                    if (w == null || w.length != cg * f.channels()) {
                        return null;
                    }
                    for (int o = 0; o < cg; o++) {
                        for (int k = 0; k < f.channels(); k++) {
                            into[k * c + m0 * hidden + o] = w[o * f.channels() + k];
                        }
                    }
                }
            }
            if (!fine.isEmpty()) { // [cg, fineChannels]
                float[] w = floats(init.get("fine_w1" + suffix));
                if (w == null || w.length != cg * fineChannels) {
                    return null;
                }
                int at = 0;
                for (Feature f : fine) {
                    float[] into = weights.get(f.name());
                    for (int o = 0; o < cg; o++) {
                        for (int k = 0; k < f.channels(); k++) {
                            into[k * c + m0 * hidden + o] = w[o * fineChannels + at + k];
                        }
                    }
                    at += f.channels();
                }
            }
            float[] gw2 = floats(init.get("w2" + suffix)); // [e, hidden2, hidden]
            float[] gb2 = floats(init.get("b2" + suffix)); // [e, hidden2, 1]
            float[] gw3 = floats(init.get("w3" + suffix)); // [e, classes, hidden2]
            float[] gb3 = floats(init.get("b3" + suffix)); // [e, classes, 1]
            if (gw2 == null
                    || gb2 == null
                    || gw3 == null
                    || gb3 == null
                    || gw2.length != e * hidden2 * hidden
                    || gw3.length != e * classes * hidden2) {
                return null;
            }
            for (int m = 0; m < e; m++) {
                float[] a = new float[hidden * hidden2];
                for (int j = 0; j < hidden2; j++) {
                    for (int k = 0; k < hidden; k++) {
                        a[k * hidden2 + j] = gw2[(m * hidden2 + j) * hidden + k];
                    }
                }
                float[] d = new float[hidden2 * L];
                for (int j = 0; j < classes; j++) {
                    for (int k = 0; k < hidden2; k++) {
                        d[k * L + j] = gw3[(m * classes + j) * hidden2 + k];
                    }
                }
                w2[m0 + m] = a;
                b2[m0 + m] = Arrays.copyOfRange(gb2, m * hidden2, (m + 1) * hidden2);
                w3[m0 + m] = d;
                b3[m0 + m] = Arrays.copyOf(Arrays.copyOfRange(gb3, m * classes, (m + 1) * classes), L);
            }
            m0 += e;
        }
        Level image = null;
        List<Level> coarse = new ArrayList<>();
        for (Feature f : features) {
            if (height % f.stride() != 0 || width % f.stride() != 0) {
                return null;
            }
            Level level = new Level(
                    f.name(), f.channels(), f.stride(), height / f.stride(), width / f.stride(), weights.get(f.name()));
            if (f.stride() == 1) {
                if (image != null) {
                    return null;
                }
                image = level;
            } else {
                coarse.add(level);
            }
        }
        if (image == null) {
            return null;
        }
        return new FusedLabeller(
                members,
                hidden,
                hidden2,
                classes,
                height,
                width,
                topCount,
                image,
                coarse.toArray(Level[]::new),
                bias1,
                w2,
                b2,
                w3,
                b3);
    }

    /** A float initializer's values (genaug's exporter writes them as raw little-endian data); null when not one. */
    private static float[] floats(TensorProto t) {
        if (t == null
                || t.getDataType() != TensorProto.DataType.FLOAT_VALUE
                || t.getRawData().isEmpty()) {
            return null;
        }
        float[] out = new float[t.getRawData().size() / 4];
        ByteBuffer.wrap(t.getRawData().toByteArray())
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(out);
        return out;
    }

    /** Input names and their shapes per picture, [channels, h, w]. */
    Map<String, long[]> inputShapes() {
        Map<String, long[]> shapes = new HashMap<>();
        shapes.put(image.name(), new long[] {image.channels(), height, width});
        for (Level l : coarse) {
            shapes.put(l.name(), new long[] {l.channels(), l.h(), l.w()});
        }
        return shapes;
    }

    /** Labels, confidences [N, H, W] and uncertainties [N] of the N pictures of {@code inputs}. */
    Outputs label(Map<String, float[]> inputs, int pictures, ForkJoinPool pool) {
        int plane = height * width;
        float[] labels = new float[pictures * plane];
        float[] confidence = new float[pictures * plane];
        float[] uncertainty = new float[pictures];
        float[][] levelProducts = products.poll();
        if (levelProducts == null) {
            levelProducts = new float[coarse.length][];
            for (int l = 0; l < coarse.length; l++) {
                levelProducts[l] = new float[coarse[l].h() * coarse[l].w() * members * hidden];
            }
        }
        try {
            labelInto(inputs, pictures, pool, levelProducts, labels, confidence, uncertainty);
        } finally {
            products.offer(levelProducts);
        }
        return new Outputs(labels, confidence, uncertainty);
    }

    private void labelInto(
            Map<String, float[]> inputs,
            int pictures,
            ForkJoinPool pool,
            float[][] levelProducts,
            float[] labels,
            float[] confidence,
            float[] uncertainty) {
        int plane = height * width;
        float[] js = new float[plane];
        for (int n = 0; n < pictures; n++) {
            int picture = n;
            run(pool, coarse.length * members, task -> {
                int l = task / members;
                int m = task % members;
                Level level = coarse[l];
                int pixels = level.h() * level.w();
                project(
                        inputs.get(level.name()),
                        picture * level.channels() * pixels,
                        pixels,
                        level.channels(),
                        level.weight(),
                        members * hidden,
                        m * hidden,
                        hidden,
                        levelProducts[l],
                        m * pixels * hidden);
            });
            float[] img = inputs.get(image.name());
            int imageOffset = picture * image.channels() * plane;
            run(pool, height, y -> row(y, img, imageOffset, levelProducts, labels, confidence, js, picture * plane));
            uncertainty[n] = topMean(js, top);
        }
    }

    record Outputs(float[] labels, float[] confidence, float[] uncertainty) {}

    private static void run(ForkJoinPool pool, int tasks, java.util.function.IntConsumer body) {
        try {
            pool.submit(() -> IntStream.range(0, tasks).parallel().forEach(body))
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("labelling interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("labelling failed", e.getCause());
        }
    }

    /**
     * out[outOffset + p * cols ..][0 .. cols) = sum_k in[k][p] w[k][col0 .. col0 + cols): a level's
     * first layer for one member (columns col0 ..) at the level's resolution, member-major;
     * {@code in} is channel-major, as the generator writes it.
     */
    private static void project(
            float[] in,
            int inOffset,
            int pixels,
            int channels,
            float[] w,
            int ldw,
            int col0,
            int cols,
            float[] out,
            int outOffset) {
        int p = 0;
        for (; p + 4 <= pixels; p += 4) {
            for (int j = col0; j < col0 + cols; j += 4 * L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0;
                FloatVector d0 = a0, d1 = a0, d2 = a0, d3 = a0;
                FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0;
                for (int k = 0; k < channels; k++) {
                    int wk = k * ldw + j;
                    FloatVector v0 = FloatVector.fromArray(S, w, wk);
                    FloatVector v1 = FloatVector.fromArray(S, w, wk + L);
                    FloatVector v2 = FloatVector.fromArray(S, w, wk + 2 * L);
                    FloatVector v3 = FloatVector.fromArray(S, w, wk + 3 * L);
                    int ik = inOffset + k * pixels + p;
                    FloatVector x = FloatVector.broadcast(S, in[ik]);
                    a0 = v0.fma(x, a0);
                    a1 = v1.fma(x, a1);
                    a2 = v2.fma(x, a2);
                    a3 = v3.fma(x, a3);
                    x = FloatVector.broadcast(S, in[ik + 1]);
                    c0 = v0.fma(x, c0);
                    c1 = v1.fma(x, c1);
                    c2 = v2.fma(x, c2);
                    c3 = v3.fma(x, c3);
                    x = FloatVector.broadcast(S, in[ik + 2]);
                    d0 = v0.fma(x, d0);
                    d1 = v1.fma(x, d1);
                    d2 = v2.fma(x, d2);
                    d3 = v3.fma(x, d3);
                    x = FloatVector.broadcast(S, in[ik + 3]);
                    e0 = v0.fma(x, e0);
                    e1 = v1.fma(x, e1);
                    e2 = v2.fma(x, e2);
                    e3 = v3.fma(x, e3);
                }
                int o = outOffset + p * cols + j - col0;
                a0.intoArray(out, o);
                a1.intoArray(out, o + L);
                a2.intoArray(out, o + 2 * L);
                a3.intoArray(out, o + 3 * L);
                o += cols;
                c0.intoArray(out, o);
                c1.intoArray(out, o + L);
                c2.intoArray(out, o + 2 * L);
                c3.intoArray(out, o + 3 * L);
                o += cols;
                d0.intoArray(out, o);
                d1.intoArray(out, o + L);
                d2.intoArray(out, o + 2 * L);
                d3.intoArray(out, o + 3 * L);
                o += cols;
                e0.intoArray(out, o);
                e1.intoArray(out, o + L);
                e2.intoArray(out, o + 2 * L);
                e3.intoArray(out, o + 3 * L);
            }
        }
        for (; p < pixels; p++) {
            for (int j = col0; j < col0 + cols; j += L) {
                FloatVector a = FloatVector.zero(S);
                for (int k = 0; k < channels; k++) {
                    a = FloatVector.fromArray(S, w, k * ldw + j)
                            .fma(FloatVector.broadcast(S, in[inOffset + k * pixels + p]), a);
                }
                a.intoArray(out, outOffset + p * cols + j - col0);
            }
        }
    }

    /** Row y of one picture: every member from layer 1 to its softmax, then the ensemble's outputs. */
    private void row(
            int y,
            float[] img,
            int imageOffset,
            float[][] levelProducts,
            float[] labels,
            float[] confidence,
            float[] js,
            int planeOffset) {
        Scratch s = scratch.get();
        Arrays.fill(s.sumP, 0f);
        Arrays.fill(s.sumPLogP, 0f);
        for (int m = 0; m < members; m++) {
            // Layer 1, separably: each level's product interpolated along y into one row at the
            // level's width (two taps), then per pixel along x (two taps), summed with the bias and
            // the image's product; ReLU.
            for (int l = 0; l < coarse.length; l++) {
                int lw = coarse[l].w();
                int member = m * coarse[l].h() * lw; // the products are member-major: [m][y][x][hidden]
                alongY(
                        levelProducts[l],
                        (member + tapsY[l].i0()[y] * lw) * hidden,
                        (member + tapsY[l].i1()[y] * lw) * hidden,
                        tapsY[l].w0()[y],
                        tapsY[l].w1()[y],
                        lw * hidden,
                        s.rows[l]);
            }
            for (int v = 0; v < hidden; v += 4 * L) {
                layer1(img, imageOffset + y * width, m * hidden + v, v, s);
            }
            layer2(s.layer1, w2[m], b2[m], s.layer2);
            layer3(s.layer2, w3[m], b3[m], s.logits);
            accumulate(s);
        }
        ensembleOutputs(s, y, labels, confidence, js, planeOffset);
    }

    /** out[0 .. n) = w0 p[a ..] + w1 p[b ..]: two source rows of a level's product mixed into one. */
    private static void alongY(float[] p, int a, int b, float w0, float w1, int n, float[] out) {
        FloatVector f0 = FloatVector.broadcast(S, w0);
        FloatVector f1 = FloatVector.broadcast(S, w1);
        for (int v = 0; v < n; v += L) {
            FloatVector.fromArray(S, p, b + v)
                    .mul(f1)
                    .add(FloatVector.fromArray(S, p, a + v).mul(f0))
                    .intoArray(out, v);
        }
    }

    /**
     * Layer 1 of one member for the row, four vectors of its hidden units at a time (columns
     * {@code col ..} of the ensemble, {@code v ..} of the member): bias, the image's product and
     * every level's row interpolated along x, summed in registers; ReLU.
     */
    private void layer1(float[] img, int pixel0, int col, int v, Scratch s) {
        float[] wi = image.weight();
        int c = members * hidden;
        int plane = height * width;
        int channels = image.channels();
        float[] t = s.layer1;
        FloatVector b0 = FloatVector.fromArray(S, bias1, col);
        FloatVector b1 = FloatVector.fromArray(S, bias1, col + L);
        FloatVector b2 = FloatVector.fromArray(S, bias1, col + 2 * L);
        FloatVector b3 = FloatVector.fromArray(S, bias1, col + 3 * L);
        for (int x = 0; x < width; x++) {
            FloatVector a0 = b0, a1 = b1, a2 = b2, a3 = b3;
            for (int k = 0; k < channels; k++) {
                FloatVector f = FloatVector.broadcast(S, img[pixel0 + k * plane + x]);
                int wk = k * c + col;
                a0 = FloatVector.fromArray(S, wi, wk).fma(f, a0);
                a1 = FloatVector.fromArray(S, wi, wk + L).fma(f, a1);
                a2 = FloatVector.fromArray(S, wi, wk + 2 * L).fma(f, a2);
                a3 = FloatVector.fromArray(S, wi, wk + 3 * L).fma(f, a3);
            }
            for (int l = 0; l < coarse.length; l++) {
                float[] r = s.rows[l];
                Taps taps = tapsX[l];
                int at0 = taps.i0()[x] * hidden + v;
                int at1 = taps.i1()[x] * hidden + v;
                FloatVector f0 = FloatVector.broadcast(S, taps.w0()[x]);
                FloatVector f1 = FloatVector.broadcast(S, taps.w1()[x]);
                a0 = FloatVector.fromArray(S, r, at0).fma(f0, a0);
                a1 = FloatVector.fromArray(S, r, at0 + L).fma(f0, a1);
                a2 = FloatVector.fromArray(S, r, at0 + 2 * L).fma(f0, a2);
                a3 = FloatVector.fromArray(S, r, at0 + 3 * L).fma(f0, a3);
                a0 = FloatVector.fromArray(S, r, at1).fma(f1, a0);
                a1 = FloatVector.fromArray(S, r, at1 + L).fma(f1, a1);
                a2 = FloatVector.fromArray(S, r, at1 + 2 * L).fma(f1, a2);
                a3 = FloatVector.fromArray(S, r, at1 + 3 * L).fma(f1, a3);
            }
            int o = x * hidden + v;
            a0.max(0f).intoArray(t, o);
            a1.max(0f).intoArray(t, o + L);
            a2.max(0f).intoArray(t, o + 2 * L);
            a3.max(0f).intoArray(t, o + 3 * L);
        }
    }

    /** Per pixel of the row: the members' mean probabilities, its label and confidence, and its divergence. */
    private void ensembleOutputs(Scratch s, int y, float[] labels, float[] confidence, float[] js, int planeOffset) {
        float inverse = 1f / members;
        for (int x = 0; x < width; x++) {
            FloatVector mean = FloatVector.fromArray(S, s.sumP, x * L).div(members);
            mean.intoArray(s.logits, x * L);
            float best = -1f;
            int label = 0;
            float entropyOfMean = 0f;
            for (int j = 0; j < classes; j++) {
                float q = s.logits[x * L + j];
                if (q > best) {
                    best = q;
                    label = j;
                }
                entropyOfMean += q * (float) Math.log(Math.max(q, 1e-12f));
            }
            float meanPLogP = sum(FloatVector.fromArray(S, s.sumPLogP, x * L)) * inverse;
            int at = y * width + x;
            labels[planeOffset + at] = label;
            confidence[planeOffset + at] = best;
            js[at] = Math.max(0f, meanPLogP - entropyOfMean);
        }
    }

    /** out[x][0 .. 2L) = relu(b + in[x][0 .. hidden) w), eight pixels at a time. */
    private void layer2(float[] in, float[] w, float[] b, float[] out) {
        FloatVector bias0 = FloatVector.fromArray(S, b, 0);
        FloatVector bias1v = FloatVector.fromArray(S, b, L);
        for (int x = 0; x < width; x += 8) { // scratch rows are padded to a multiple of 8
            FloatVector p0 = bias0, q0 = bias1v, p1 = bias0, q1 = bias1v, p2 = bias0, q2 = bias1v;
            FloatVector p3 = bias0, q3 = bias1v, p4 = bias0, q4 = bias1v, p5 = bias0, q5 = bias1v;
            FloatVector p6 = bias0, q6 = bias1v, p7 = bias0, q7 = bias1v;
            int r = x * hidden;
            for (int k = 0; k < hidden; k++) {
                FloatVector u = FloatVector.fromArray(S, w, k * 2 * L);
                FloatVector v = FloatVector.fromArray(S, w, k * 2 * L + L);
                FloatVector f = FloatVector.broadcast(S, in[r + k]);
                p0 = u.fma(f, p0);
                q0 = v.fma(f, q0);
                f = FloatVector.broadcast(S, in[r + hidden + k]);
                p1 = u.fma(f, p1);
                q1 = v.fma(f, q1);
                f = FloatVector.broadcast(S, in[r + 2 * hidden + k]);
                p2 = u.fma(f, p2);
                q2 = v.fma(f, q2);
                f = FloatVector.broadcast(S, in[r + 3 * hidden + k]);
                p3 = u.fma(f, p3);
                q3 = v.fma(f, q3);
                f = FloatVector.broadcast(S, in[r + 4 * hidden + k]);
                p4 = u.fma(f, p4);
                q4 = v.fma(f, q4);
                f = FloatVector.broadcast(S, in[r + 5 * hidden + k]);
                p5 = u.fma(f, p5);
                q5 = v.fma(f, q5);
                f = FloatVector.broadcast(S, in[r + 6 * hidden + k]);
                p6 = u.fma(f, p6);
                q6 = v.fma(f, q6);
                f = FloatVector.broadcast(S, in[r + 7 * hidden + k]);
                p7 = u.fma(f, p7);
                q7 = v.fma(f, q7);
            }
            int o = x * 2 * L;
            p0.max(0f).intoArray(out, o);
            q0.max(0f).intoArray(out, o + L);
            p1.max(0f).intoArray(out, o + 2 * L);
            q1.max(0f).intoArray(out, o + 3 * L);
            p2.max(0f).intoArray(out, o + 4 * L);
            q2.max(0f).intoArray(out, o + 5 * L);
            p3.max(0f).intoArray(out, o + 6 * L);
            q3.max(0f).intoArray(out, o + 7 * L);
            p4.max(0f).intoArray(out, o + 8 * L);
            q4.max(0f).intoArray(out, o + 9 * L);
            p5.max(0f).intoArray(out, o + 10 * L);
            q5.max(0f).intoArray(out, o + 11 * L);
            p6.max(0f).intoArray(out, o + 12 * L);
            q6.max(0f).intoArray(out, o + 13 * L);
            p7.max(0f).intoArray(out, o + 14 * L);
            q7.max(0f).intoArray(out, o + 15 * L);
        }
    }

    /**
     * logits[x][0 .. L) = b + in[x][0 .. 2L) w (classes beyond the last are zero), four pixels at a
     * time so that their chains of products overlap.
     */
    private void layer3(float[] in, float[] w, float[] b, float[] logits) {
        FloatVector bias = FloatVector.fromArray(S, b, 0);
        for (int x = 0; x < width; x += 4) { // scratch rows are padded to a multiple of 8
            FloatVector a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            int r = x * hidden2;
            for (int k = 0; k < hidden2; k++) {
                FloatVector u = FloatVector.fromArray(S, w, k * L);
                a0 = u.fma(FloatVector.broadcast(S, in[r + k]), a0);
                a1 = u.fma(FloatVector.broadcast(S, in[r + hidden2 + k]), a1);
                a2 = u.fma(FloatVector.broadcast(S, in[r + 2 * hidden2 + k]), a2);
                a3 = u.fma(FloatVector.broadcast(S, in[r + 3 * hidden2 + k]), a3);
            }
            a0.intoArray(logits, x * L);
            a1.intoArray(logits, (x + 1) * L);
            a2.intoArray(logits, (x + 2) * L);
            a3.intoArray(logits, (x + 3) * L);
        }
    }

    /** Each pixel's softmax of this member, added to the sums of p and of p ln p; four pixels at a time. */
    private void accumulate(Scratch s) {
        float[] z = s.logits;
        for (int x = 0; x < width; x += 4) { // scratch rows are padded to a multiple of 8
            FloatVector m0 = MINUS_INFINITY.blend(FloatVector.fromArray(S, z, x * L), classMask);
            FloatVector m1 = MINUS_INFINITY.blend(FloatVector.fromArray(S, z, (x + 1) * L), classMask);
            FloatVector m2 = MINUS_INFINITY.blend(FloatVector.fromArray(S, z, (x + 2) * L), classMask);
            FloatVector m3 = MINUS_INFINITY.blend(FloatVector.fromArray(S, z, (x + 3) * L), classMask);
            FloatVector h0 = m0.sub(m0.reduceLanes(VectorOperators.MAX));
            FloatVector h1 = m1.sub(m1.reduceLanes(VectorOperators.MAX));
            FloatVector h2 = m2.sub(m2.reduceLanes(VectorOperators.MAX));
            FloatVector h3 = m3.sub(m3.reduceLanes(VectorOperators.MAX));
            FloatVector e0 = ZERO.blend(exp(h0), classMask);
            FloatVector e1 = ZERO.blend(exp(h1), classMask);
            FloatVector e2 = ZERO.blend(exp(h2), classMask);
            FloatVector e3 = ZERO.blend(exp(h3), classMask);
            float sum0 = sum(e0);
            float sum1 = sum(e1);
            float sum2 = sum(e2);
            float sum3 = sum(e3);
            add(s, x * L, e0.div(sum0), h0.sub((float) Math.log(sum0)));
            add(s, (x + 1) * L, e1.div(sum1), h1.sub((float) Math.log(sum1)));
            add(s, (x + 2) * L, e2.div(sum2), h2.sub((float) Math.log(sum2)));
            add(s, (x + 3) * L, e3.div(sum3), h3.sub((float) Math.log(sum3)));
        }
    }

    /** Adds one pixel's probabilities p and p ln p (classes beyond the last count zero) to its sums. */
    private void add(Scratch s, int at, FloatVector p, FloatVector logP) {
        FloatVector.fromArray(S, s.sumP, at).add(p).intoArray(s.sumP, at);
        FloatVector.fromArray(S, s.sumPLogP, at)
                .add(p.mul(ZERO.blend(logP, classMask)))
                .intoArray(s.sumPLogP, at);
    }

    // Only IEEE-exact lane operations below: the vector API's EXP and ADD reduction may round
    // otherwise once the JIT compiles them than before, so that a picture's labels would depend on
    // when in the process's life it was labelled, and a job's shards on its batching.

    /** The sum of the lanes, in a fixed order (pairs of halves); the kernel runs only where L is 16. */
    private static float sum(FloatVector v) {
        v = v.add(v.rearrange(SWAP_8));
        v = v.add(v.rearrange(SWAP_4));
        v = v.add(v.rearrange(SWAP_2));
        v = v.add(v.rearrange(SWAP_1));
        return v.lane(0);
    }

    /**
     * e^x per lane, Cephes' single-precision method: x = n ln 2 + r with |r| <= ln 2 / 2, e^r by a
     * polynomial of degree 6 (about 1 ulp), 2^n put into the exponent bits. Below -87 (e^-87 is
     * near the smallest normal float) it returns e^-87; -infinity included.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        // Round to nearest by adding and subtracting 1.5 x 2^23: exact float steps.
        FloatVector n = x.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HIGH), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LOW), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector er = p.mul(r).fma(r, r).add(1f);
        IntVector bits =
                ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return er.mul(bits.reinterpretAsFloats());
    }

    private static float topMean(float[] values, int k) {
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        float sum = 0f;
        for (int i = sorted.length - k; i < sorted.length; i++) {
            sum += sorted[i];
        }
        return sum / k;
    }
}
