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
 * member's softmax, all in the core's cache. Each thread takes a band of rows and runs them member
 * by member, so that a member's products and weights stay in its core's caches through the band.
 * ONNX Runtime writes the first layer's full-resolution output (members x hidden values per pixel,
 * 21 MB per 64x64 picture for DatasetGAN's ensemble) to memory and reads it back, which is what
 * bounded the graph (docs/labelling.md); here only the levels' products at their own resolutions
 * (7 MB) go through memory.
 *
 * <p>Vector lanes are pixels throughout (a row's values are [unit][x]): weights are broadcast, the
 * interpolation along x is a lane permutation of the level's row, and the softmax, its sums and the
 * ensemble's outputs run on a vector of pixels at once (16 with AVX-512, 8 with AVX2) with no
 * reductions across lanes.
 *
 * <p>Same arithmetic as the exported graph (the weights are read from it), in another order, so the
 * outputs agree to float rounding: the same labels but for near ties, confidences and uncertainties
 * within about 1e-6. Built only for the shapes its kernels take ({@link #of}); anything else runs in
 * ONNX Runtime.
 */
final class FusedLabeller {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Units (hidden units, classes) per register block, eight in layer 1; hidden sizes are multiples of them. */
    private static final int BLOCK = 4;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUNDER = 12582912f; // 1.5 x 2^23
    private static final float LN2_HIGH = 0.693359375f; // ln 2 = LN2_HIGH + LN2_LOW, the first exact in few bits
    private static final float LN2_LOW = -2.12194440e-4f;
    private static final float SQRT_HALF = 0.707106781186547524f;

    /** A generator output the labeller reads, with its first layer for every member: [channels][c]. */
    private record Level(String name, int channels, int stride, int h, int w, float[] weight) {
        int plane() {
            return h * w;
        }
    }

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

    /**
     * The interpolation along x of one level for one vector of output pixels, as lane permutations:
     * the output's sources lie within one vector of the level's row from {@code base} (strides of 2
     * or more need at most L / 2 + 2 of them); per lane the two source lanes and their weights.
     */
    private record Window(int base, VectorShuffle<Float> i0, VectorShuffle<Float> i1, float[] weights) {
        static Window of(Taps taps, int x0) {
            int base = taps.i0()[x0];
            int[] i0 = new int[L];
            int[] i1 = new int[L];
            float[] weights = new float[2 * L]; // [w0][w1]
            for (int lane = 0; lane < L; lane++) {
                i0[lane] = taps.i0()[x0 + lane] - base;
                i1[lane] = taps.i1()[x0 + lane] - base;
                weights[lane] = taps.w0()[x0 + lane];
                weights[L + lane] = taps.w1()[x0 + lane];
                if (i1[lane] >= L) {
                    throw new IllegalStateException("an interpolation window wider than one vector");
                }
            }
            return new Window(base, VectorShuffle.fromArray(S, i0, 0), VectorShuffle.fromArray(S, i1, 0), weights);
        }
    }

    private final int members;
    private final int hidden;
    private final int hidden2;
    private final int classes;
    private final int classesPadded;
    private final int height;
    private final int width;
    private final int top;
    private final Level image; // stride 1
    private final Level[] coarse; // stride > 1, first layer at their own resolution
    private final Taps[] tapsY;
    private final Window[][] windows; // per coarse level and vector of a row's pixels
    private final float[] bias1; // [members * hidden]
    private final float[][] w2; // per member [hidden][hidden2]
    private final float[][] b2; // per member [hidden2]
    private final float[][] w3; // per member [hidden2][classesPadded], classes beyond the last zero
    private final float[][] b3; // per member [classesPadded]
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
        this.classesPadded = b3[0].length;
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
        this.windows = new Window[coarse.length][width / L];
        for (int l = 0; l < coarse.length; l++) {
            tapsY[l] = Taps.of(coarse[l].stride(), coarse[l].h(), height);
            Taps tapsX = Taps.of(coarse[l].stride(), coarse[l].w(), width);
            for (int v = 0; v < width / L; v++) {
                windows[l][v] = Window.of(tapsX, v * L);
            }
        }
        this.scratch = ThreadLocal.withInitial(Scratch::new);
    }

    /** Per-thread buffers: one row's layers, [unit][x], and the members' sums for every row of a picture. */
    private final class Scratch {
        // Per coarse level: its product interpolated to this row, [unit][x] at the level's width,
        // and a vector of slack for the permutations' loads.
        final float[][] rows = new float[coarse.length][];
        final float[] layer1 = new float[hidden * width];
        final float[] layer2 = new float[hidden2 * width];
        final float[] logits = new float[classesPadded * width];
        final float[] exps = new float[classes * width];
        final float[] sums = new float[width];
        final float[] logSums = new float[width];
        final float[] sumP = new float[height * classes * width]; // [row][class][x], a band's rows in use
        final float[] sumPLogP = new float[height * width];

        Scratch() {
            for (int l = 0; l < coarse.length; l++) {
                rows[l] = new float[hidden * coarse[l].w() + L];
            }
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
        int classesPadded = (classes + BLOCK - 1) / BLOCK * BLOCK;
        if (L < 8
                || width % L != 0
                || hidden % (2 * BLOCK) != 0
                || hidden2 % BLOCK != 0
                || (int) w3g0.getDims(2) != hidden2) {
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
                float[] d = new float[hidden2 * classesPadded];
                for (int j = 0; j < classes; j++) {
                    for (int k = 0; k < hidden2; k++) {
                        d[k * classesPadded + j] = gw3[(m * classes + j) * hidden2 + k];
                    }
                }
                w2[m0 + m] = a;
                b2[m0 + m] = Arrays.copyOfRange(gb2, m * hidden2, (m + 1) * hidden2);
                w3[m0 + m] = d;
                b3[m0 + m] = Arrays.copyOf(Arrays.copyOfRange(gb3, m * classes, (m + 1) * classes), classesPadded);
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
            if (f.stride() > 1 && level.w() % L != 0 && (L % level.w() != 0 || level.plane() % L != 0)) {
                return null; // the projection stores whole vectors, within a row or spanning whole rows
            }
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
                // A vector of slack: rows narrower than a vector are read in whole vectors.
                levelProducts[l] = new float[members * hidden * coarse[l].plane() + L];
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
                project(
                        inputs.get(level.name()),
                        picture * level.channels() * level.plane(),
                        level.plane(),
                        level.w(),
                        level.channels(),
                        level.weight(),
                        members * hidden,
                        m * hidden,
                        hidden,
                        levelProducts[l],
                        m * hidden * level.plane());
            });
            float[] img = inputs.get(image.name());
            int imageOffset = picture * image.channels() * plane;
            int bands = Math.min(height, pool.getParallelism()); // a band of rows per thread
            run(
                    pool,
                    bands,
                    b -> band(
                            b * height / bands,
                            (b + 1) * height / bands,
                            img,
                            imageOffset,
                            levelProducts,
                            labels,
                            confidence,
                            js,
                            picture * plane));
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
     * A level's first layer for one member (columns col0 .. col0 + units of w) at the level's
     * resolution: out[outOffset + (y * units + u) * lw + x] = sum_k in[k][y][x] w[k][col0 + u], so
     * that each row of the level is one contiguous block, [unit][x]. {@code in} is channel-major, as
     * the generator writes it. Four units by four vectors of pixels at a time.
     */
    private static void project(
            float[] in,
            int inOffset,
            int pixels,
            int lw,
            int channels,
            float[] w,
            int ldw,
            int col0,
            int units,
            float[] out,
            int outOffset) {
        float[] block = lw < L ? new float[4 * 4 * L] : null; // vectors spanning rows, placed row by row
        for (int u = 0; u < units; u += BLOCK) {
            int p = 0;
            for (; p + 4 * L <= pixels; p += 4 * L) {
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
                FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
                FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
                for (int k = 0; k < channels; k++) {
                    int ik = inOffset + k * pixels + p;
                    FloatVector x0 = FloatVector.fromArray(S, in, ik);
                    FloatVector x1 = FloatVector.fromArray(S, in, ik + L);
                    FloatVector x2 = FloatVector.fromArray(S, in, ik + 2 * L);
                    FloatVector x3 = FloatVector.fromArray(S, in, ik + 3 * L);
                    int wk = k * ldw + col0 + u;
                    FloatVector f = FloatVector.broadcast(S, w[wk]);
                    a00 = x0.fma(f, a00);
                    a01 = x1.fma(f, a01);
                    a02 = x2.fma(f, a02);
                    a03 = x3.fma(f, a03);
                    f = FloatVector.broadcast(S, w[wk + 1]);
                    a10 = x0.fma(f, a10);
                    a11 = x1.fma(f, a11);
                    a12 = x2.fma(f, a12);
                    a13 = x3.fma(f, a13);
                    f = FloatVector.broadcast(S, w[wk + 2]);
                    a20 = x0.fma(f, a20);
                    a21 = x1.fma(f, a21);
                    a22 = x2.fma(f, a22);
                    a23 = x3.fma(f, a23);
                    f = FloatVector.broadcast(S, w[wk + 3]);
                    a30 = x0.fma(f, a30);
                    a31 = x1.fma(f, a31);
                    a32 = x2.fma(f, a32);
                    a33 = x3.fma(f, a33);
                }
                if (block == null) { // each vector within one row: unit u + i is i * lw further on
                    int at0 = at(outOffset, p, u, units, lw);
                    int at1 = at(outOffset, p + L, u, units, lw);
                    int at2 = at(outOffset, p + 2 * L, u, units, lw);
                    int at3 = at(outOffset, p + 3 * L, u, units, lw);
                    a00.intoArray(out, at0);
                    a01.intoArray(out, at1);
                    a02.intoArray(out, at2);
                    a03.intoArray(out, at3);
                    a10.intoArray(out, at0 + lw);
                    a11.intoArray(out, at1 + lw);
                    a12.intoArray(out, at2 + lw);
                    a13.intoArray(out, at3 + lw);
                    a20.intoArray(out, at0 + 2 * lw);
                    a21.intoArray(out, at1 + 2 * lw);
                    a22.intoArray(out, at2 + 2 * lw);
                    a23.intoArray(out, at3 + 2 * lw);
                    a30.intoArray(out, at0 + 3 * lw);
                    a31.intoArray(out, at1 + 3 * lw);
                    a32.intoArray(out, at2 + 3 * lw);
                    a33.intoArray(out, at3 + 3 * lw);
                } else {
                    a00.intoArray(block, 0);
                    a01.intoArray(block, L);
                    a02.intoArray(block, 2 * L);
                    a03.intoArray(block, 3 * L);
                    a10.intoArray(block, 4 * L);
                    a11.intoArray(block, 5 * L);
                    a12.intoArray(block, 6 * L);
                    a13.intoArray(block, 7 * L);
                    a20.intoArray(block, 8 * L);
                    a21.intoArray(block, 9 * L);
                    a22.intoArray(block, 10 * L);
                    a23.intoArray(block, 11 * L);
                    a30.intoArray(block, 12 * L);
                    a31.intoArray(block, 13 * L);
                    a32.intoArray(block, 14 * L);
                    a33.intoArray(block, 15 * L);
                    place(block, 4, p, u, units, lw, out, outOffset);
                }
            }
            for (; p < pixels; p += L) { // whole vectors: the level's plane is a multiple of L (of)
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < channels; k++) {
                    FloatVector x = FloatVector.fromArray(S, in, inOffset + k * pixels + p);
                    int wk = k * ldw + col0 + u;
                    a0 = x.fma(FloatVector.broadcast(S, w[wk]), a0);
                    a1 = x.fma(FloatVector.broadcast(S, w[wk + 1]), a1);
                    a2 = x.fma(FloatVector.broadcast(S, w[wk + 2]), a2);
                    a3 = x.fma(FloatVector.broadcast(S, w[wk + 3]), a3);
                }
                if (block == null) {
                    int at = at(outOffset, p, u, units, lw);
                    a0.intoArray(out, at);
                    a1.intoArray(out, at + lw);
                    a2.intoArray(out, at + 2 * lw);
                    a3.intoArray(out, at + 3 * lw);
                } else {
                    a0.intoArray(block, 0);
                    a1.intoArray(block, 4 * L);
                    a2.intoArray(block, 8 * L);
                    a3.intoArray(block, 12 * L);
                    place(block, 1, p, u, units, lw, out, outOffset);
                }
            }
        }
    }

    /** Where pixel p of unit u goes in a level's product: [row][unit][x]. */
    private static int at(int outOffset, int p, int u, int units, int lw) {
        return outOffset + (p / lw * units + u) * lw + p % lw;
    }

    /**
     * Copies a block of vectors [unit i < 4][vector v < count] of pixels from p, each spanning
     * L / lw rows of the level, to their rows in the product.
     */
    private static void place(float[] block, int count, int p, int u, int units, int lw, float[] out, int outOffset) {
        for (int i = 0; i < BLOCK; i++) {
            for (int v = 0; v < count; v++) {
                for (int x = 0; x < L; x += lw) {
                    int pixel = p + v * L + x;
                    System.arraycopy(block, (4 * i + v) * L + x, out, at(outOffset, pixel, u + i, units, lw), lw);
                }
            }
        }
    }

    /**
     * Rows y0 .. y1 of one picture: member by member (its products and weights stay in the core's
     * caches through the rows), each row from layer 1 to the member's softmax; then the ensemble's
     * outputs per row. Each pixel's sums over the members run in member order, as for one row.
     */
    private void band(
            int y0,
            int y1,
            float[] img,
            int imageOffset,
            float[][] levelProducts,
            float[] labels,
            float[] confidence,
            float[] js,
            int planeOffset) {
        Scratch s = scratch.get();
        Arrays.fill(s.sumP, y0 * classes * width, y1 * classes * width, 0f);
        Arrays.fill(s.sumPLogP, y0 * width, y1 * width, 0f);
        for (int m = 0; m < members; m++) {
            for (int y = y0; y < y1; y++) {
                // Layer 1, separably: each level's product interpolated along y into one row at the
                // level's width (two taps), then along x by lane permutations (two taps), summed with
                // the bias and the image's product; ReLU.
                for (int l = 0; l < coarse.length; l++) {
                    int rowSize = hidden * coarse[l].w(); // a row of the product, [unit][x]
                    int member = m * coarse[l].h() * rowSize;
                    alongY(
                            levelProducts[l],
                            member + tapsY[l].i0()[y] * rowSize,
                            member + tapsY[l].i1()[y] * rowSize,
                            tapsY[l].w0()[y],
                            tapsY[l].w1()[y],
                            rowSize,
                            s.rows[l]);
                }
                layer1(img, imageOffset + y * width, m, s);
                dense(s.layer1, hidden, w2[m], b2[m], hidden2, true, s.layer2);
                dense(s.layer2, hidden2, w3[m], b3[m], classesPadded, false, s.logits);
                accumulate(s, y);
            }
        }
        for (int y = y0; y < y1; y++) {
            ensembleOutputs(s, y, labels, confidence, js, planeOffset);
        }
    }

    /**
     * out[0 .. n) = w0 p[a ..] + w1 p[b ..]: two rows of a level's product mixed into one. In whole
     * vectors: the products and rows have a vector of slack at their ends.
     */
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
     * Layer 1 of member m for the row (its first pixel at {@code pixel0} of the image), eight units
     * by one vector of pixels at a time: bias, the image's product and every level's row
     * interpolated along x, summed in registers; ReLU.
     */
    private void layer1(float[] img, int pixel0, int m, Scratch s) {
        float[] wi = image.weight();
        int c = members * hidden;
        int plane = height * width;
        int channels = image.channels();
        float[] t = s.layer1;
        for (int u = 0; u < hidden; u += 2 * BLOCK) {
            for (int v = 0; v < width / L; v++) {
                int x0 = v * L;
                int col = m * hidden + u;
                FloatVector a0 = FloatVector.broadcast(S, bias1[col + 0]);
                FloatVector a1 = FloatVector.broadcast(S, bias1[col + 1]);
                FloatVector a2 = FloatVector.broadcast(S, bias1[col + 2]);
                FloatVector a3 = FloatVector.broadcast(S, bias1[col + 3]);
                FloatVector a4 = FloatVector.broadcast(S, bias1[col + 4]);
                FloatVector a5 = FloatVector.broadcast(S, bias1[col + 5]);
                FloatVector a6 = FloatVector.broadcast(S, bias1[col + 6]);
                FloatVector a7 = FloatVector.broadcast(S, bias1[col + 7]);
                for (int k = 0; k < channels; k++) {
                    FloatVector f = FloatVector.fromArray(S, img, pixel0 + k * plane + x0);
                    int wk = k * c + col;
                    a0 = f.fma(FloatVector.broadcast(S, wi[wk + 0]), a0);
                    a1 = f.fma(FloatVector.broadcast(S, wi[wk + 1]), a1);
                    a2 = f.fma(FloatVector.broadcast(S, wi[wk + 2]), a2);
                    a3 = f.fma(FloatVector.broadcast(S, wi[wk + 3]), a3);
                    a4 = f.fma(FloatVector.broadcast(S, wi[wk + 4]), a4);
                    a5 = f.fma(FloatVector.broadcast(S, wi[wk + 5]), a5);
                    a6 = f.fma(FloatVector.broadcast(S, wi[wk + 6]), a6);
                    a7 = f.fma(FloatVector.broadcast(S, wi[wk + 7]), a7);
                }
                for (int l = 0; l < coarse.length; l++) {
                    Window window = windows[l][v];
                    VectorShuffle<Float> i0 = window.i0();
                    VectorShuffle<Float> i1 = window.i1();
                    FloatVector f0 = FloatVector.fromArray(S, window.weights(), 0);
                    FloatVector f1 = FloatVector.fromArray(S, window.weights(), L);
                    float[] r = s.rows[l];
                    int stride = coarse[l].w();
                    int at = u * stride + window.base();
                    FloatVector r0 = FloatVector.fromArray(S, r, at + 0 * stride);
                    a0 = r0.rearrange(i0).fma(f0, a0);
                    a0 = r0.rearrange(i1).fma(f1, a0);
                    FloatVector r1 = FloatVector.fromArray(S, r, at + 1 * stride);
                    a1 = r1.rearrange(i0).fma(f0, a1);
                    a1 = r1.rearrange(i1).fma(f1, a1);
                    FloatVector r2 = FloatVector.fromArray(S, r, at + 2 * stride);
                    a2 = r2.rearrange(i0).fma(f0, a2);
                    a2 = r2.rearrange(i1).fma(f1, a2);
                    FloatVector r3 = FloatVector.fromArray(S, r, at + 3 * stride);
                    a3 = r3.rearrange(i0).fma(f0, a3);
                    a3 = r3.rearrange(i1).fma(f1, a3);
                    FloatVector r4 = FloatVector.fromArray(S, r, at + 4 * stride);
                    a4 = r4.rearrange(i0).fma(f0, a4);
                    a4 = r4.rearrange(i1).fma(f1, a4);
                    FloatVector r5 = FloatVector.fromArray(S, r, at + 5 * stride);
                    a5 = r5.rearrange(i0).fma(f0, a5);
                    a5 = r5.rearrange(i1).fma(f1, a5);
                    FloatVector r6 = FloatVector.fromArray(S, r, at + 6 * stride);
                    a6 = r6.rearrange(i0).fma(f0, a6);
                    a6 = r6.rearrange(i1).fma(f1, a6);
                    FloatVector r7 = FloatVector.fromArray(S, r, at + 7 * stride);
                    a7 = r7.rearrange(i0).fma(f0, a7);
                    a7 = r7.rearrange(i1).fma(f1, a7);
                }
                a0.max(0f).intoArray(t, (u + 0) * width + x0);
                a1.max(0f).intoArray(t, (u + 1) * width + x0);
                a2.max(0f).intoArray(t, (u + 2) * width + x0);
                a3.max(0f).intoArray(t, (u + 3) * width + x0);
                a4.max(0f).intoArray(t, (u + 4) * width + x0);
                a5.max(0f).intoArray(t, (u + 5) * width + x0);
                a6.max(0f).intoArray(t, (u + 6) * width + x0);
                a7.max(0f).intoArray(t, (u + 7) * width + x0);
            }
        }
    }

    /**
     * out[j][x] = b[j] + sum_k in[k][x] w[k][j] for the row's pixels and j < units (w is
     * [depth][units]), with ReLU when asked: four units by four vectors of pixels at a time.
     */
    private void dense(float[] in, int depth, float[] w, float[] b, int units, boolean relu, float[] out) {
        FloatVector floor =
                FloatVector.broadcast(S, relu ? 0f : Float.NEGATIVE_INFINITY); // max(floor): ReLU or nothing
        for (int j = 0; j < units; j += BLOCK) {
            FloatVector c0 = FloatVector.broadcast(S, b[j]);
            FloatVector c1 = FloatVector.broadcast(S, b[j + 1]);
            FloatVector c2 = FloatVector.broadcast(S, b[j + 2]);
            FloatVector c3 = FloatVector.broadcast(S, b[j + 3]);
            int x = 0;
            for (; x + 4 * L <= width; x += 4 * L) {
                FloatVector a00 = c0, a01 = c0, a02 = c0, a03 = c0;
                FloatVector a10 = c1, a11 = c1, a12 = c1, a13 = c1;
                FloatVector a20 = c2, a21 = c2, a22 = c2, a23 = c2;
                FloatVector a30 = c3, a31 = c3, a32 = c3, a33 = c3;
                for (int k = 0; k < depth; k++) {
                    int r = k * width + x;
                    FloatVector x0 = FloatVector.fromArray(S, in, r);
                    FloatVector x1 = FloatVector.fromArray(S, in, r + L);
                    FloatVector x2 = FloatVector.fromArray(S, in, r + 2 * L);
                    FloatVector x3 = FloatVector.fromArray(S, in, r + 3 * L);
                    int wk = k * units + j;
                    FloatVector f = FloatVector.broadcast(S, w[wk]);
                    a00 = x0.fma(f, a00);
                    a01 = x1.fma(f, a01);
                    a02 = x2.fma(f, a02);
                    a03 = x3.fma(f, a03);
                    f = FloatVector.broadcast(S, w[wk + 1]);
                    a10 = x0.fma(f, a10);
                    a11 = x1.fma(f, a11);
                    a12 = x2.fma(f, a12);
                    a13 = x3.fma(f, a13);
                    f = FloatVector.broadcast(S, w[wk + 2]);
                    a20 = x0.fma(f, a20);
                    a21 = x1.fma(f, a21);
                    a22 = x2.fma(f, a22);
                    a23 = x3.fma(f, a23);
                    f = FloatVector.broadcast(S, w[wk + 3]);
                    a30 = x0.fma(f, a30);
                    a31 = x1.fma(f, a31);
                    a32 = x2.fma(f, a32);
                    a33 = x3.fma(f, a33);
                }
                a00.max(floor).intoArray(out, j * width + x);
                a01.max(floor).intoArray(out, j * width + x + L);
                a02.max(floor).intoArray(out, j * width + x + 2 * L);
                a03.max(floor).intoArray(out, j * width + x + 3 * L);
                a10.max(floor).intoArray(out, (j + 1) * width + x);
                a11.max(floor).intoArray(out, (j + 1) * width + x + L);
                a12.max(floor).intoArray(out, (j + 1) * width + x + 2 * L);
                a13.max(floor).intoArray(out, (j + 1) * width + x + 3 * L);
                a20.max(floor).intoArray(out, (j + 2) * width + x);
                a21.max(floor).intoArray(out, (j + 2) * width + x + L);
                a22.max(floor).intoArray(out, (j + 2) * width + x + 2 * L);
                a23.max(floor).intoArray(out, (j + 2) * width + x + 3 * L);
                a30.max(floor).intoArray(out, (j + 3) * width + x);
                a31.max(floor).intoArray(out, (j + 3) * width + x + L);
                a32.max(floor).intoArray(out, (j + 3) * width + x + 2 * L);
                a33.max(floor).intoArray(out, (j + 3) * width + x + 3 * L);
            }
            for (; x < width; x += L) {
                FloatVector a0 = c0, a1 = c1, a2 = c2, a3 = c3;
                for (int k = 0; k < depth; k++) {
                    FloatVector v = FloatVector.fromArray(S, in, k * width + x);
                    int wk = k * units + j;
                    a0 = v.fma(FloatVector.broadcast(S, w[wk]), a0);
                    a1 = v.fma(FloatVector.broadcast(S, w[wk + 1]), a1);
                    a2 = v.fma(FloatVector.broadcast(S, w[wk + 2]), a2);
                    a3 = v.fma(FloatVector.broadcast(S, w[wk + 3]), a3);
                }
                a0.max(floor).intoArray(out, j * width + x);
                a1.max(floor).intoArray(out, (j + 1) * width + x);
                a2.max(floor).intoArray(out, (j + 2) * width + x);
                a3.max(floor).intoArray(out, (j + 3) * width + x);
            }
        }
    }

    /** Each pixel's softmax of this member in row y, added to the row's sums of p per class and of p ln p. */
    private void accumulate(Scratch s, int y) {
        int rowP = y * classes * width;
        int rowE = y * width;
        float[] h = s.logits; // shifted in place by each pixel's largest logit
        float[] e = s.exps;
        for (int x = 0; x < width; x += L) {
            FloatVector max = FloatVector.fromArray(S, h, x);
            for (int j = 1; j < classes; j++) {
                max = max.max(FloatVector.fromArray(S, h, j * width + x));
            }
            for (int j = 0; j < classes; j++) {
                FloatVector.fromArray(S, h, j * width + x).sub(max).intoArray(h, j * width + x);
            }
        }
        System.arraycopy(h, 0, e, 0, classes * width);
        exp(e, classes * width);
        for (int x = 0; x < width; x += L) {
            FloatVector sum = FloatVector.fromArray(S, e, x);
            for (int j = 1; j < classes; j++) {
                sum = sum.add(FloatVector.fromArray(S, e, j * width + x));
            }
            sum.intoArray(s.sums, x);
            sum.intoArray(s.logSums, x);
        }
        log(s.logSums, width);
        for (int x = 0; x < width; x += L) {
            FloatVector sum = FloatVector.fromArray(S, s.sums, x);
            FloatVector logSum = FloatVector.fromArray(S, s.logSums, x);
            FloatVector pLogP = FloatVector.zero(S);
            for (int j = 0; j < classes; j++) {
                int at = j * width + x;
                FloatVector p = FloatVector.fromArray(S, e, at).div(sum);
                FloatVector logP = FloatVector.fromArray(S, h, at).sub(logSum);
                FloatVector.fromArray(S, s.sumP, rowP + at).add(p).intoArray(s.sumP, rowP + at);
                pLogP = p.fma(logP, pLogP);
            }
            FloatVector.fromArray(S, s.sumPLogP, rowE + x).add(pLogP).intoArray(s.sumPLogP, rowE + x);
        }
    }

    /** Per pixel of the row: the members' mean probabilities, its label and confidence, and its divergence. */
    private void ensembleOutputs(Scratch s, int y, float[] labels, float[] confidence, float[] js, int planeOffset) {
        float[] q = s.exps; // the mean probabilities, then their logarithms in s.logits
        float[] logQ = s.logits;
        for (int at = 0; at < classes * width; at += L) {
            FloatVector mean =
                    FloatVector.fromArray(S, s.sumP, y * classes * width + at).div(members);
            mean.intoArray(q, at);
            mean.max(1e-12f).intoArray(logQ, at);
        }
        log(logQ, classes * width);
        float inverse = 1f / members;
        for (int x = 0; x < width; x += L) {
            FloatVector best = FloatVector.broadcast(S, -1f);
            FloatVector label = FloatVector.zero(S);
            FloatVector entropyOfMean = FloatVector.zero(S);
            for (int j = 0; j < classes; j++) {
                FloatVector qj = FloatVector.fromArray(S, q, j * width + x);
                VectorMask<Float> above = qj.compare(VectorOperators.GT, best); // the first of equals wins
                best = best.blend(qj, above);
                label = label.blend((float) j, above);
                entropyOfMean = qj.fma(FloatVector.fromArray(S, logQ, j * width + x), entropyOfMean);
            }
            FloatVector meanPLogP =
                    FloatVector.fromArray(S, s.sumPLogP, y * width + x).mul(inverse);
            int at = y * width + x;
            label.intoArray(labels, planeOffset + at);
            best.intoArray(confidence, planeOffset + at);
            meanPLogP.sub(entropyOfMean).max(0f).intoArray(js, at);
        }
    }

    // Only IEEE-exact lane operations below: the vector API's EXP and LOG may round otherwise once
    // the JIT compiles them than before, so that a picture's labels would depend on when in the
    // process's life it was labelled, and a job's shards on its batching.

    /**
     * a[i] = e^a[i] for i < n (a multiple of L), Cephes' single-precision method: x = k ln 2 + r with
     * |r| <= ln 2 / 2, e^r by a polynomial of degree 6 (about 1 ulp), 2^k put into the exponent
     * bits. Below -87 (e^-87 is near the smallest normal float) it gives e^-87; -infinity included.
     * On arrays, so that no vector crosses a call the JIT may leave out of line.
     */
    static void exp(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, i).max(-87f).min(88f);
            // Round to nearest by adding and subtracting 1.5 x 2^23: exact float steps.
            FloatVector k = x.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HIGH), x);
            r = k.fma(FloatVector.broadcast(S, -LN2_LOW), r);
            FloatVector p =
                    r.fma(FloatVector.broadcast(S, 1.9875691500e-4f), FloatVector.broadcast(S, 1.3981999507e-3f));
            p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
            p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
            p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
            p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
            FloatVector er = p.mul(r).fma(r, r).add(1f);
            IntVector bits =
                    ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            er.mul(bits.reinterpretAsFloats()).intoArray(a, i);
        }
    }

    /**
     * a[i] = ln a[i] for i < n (a multiple of L; positive normal values), Cephes' single-precision
     * method: x = m 2^k with m in [sqrt(1/2), sqrt(2)), ln m by a polynomial of degree 8 in m - 1
     * (about 1 ulp), plus k ln 2.
     */
    static void log(float[] a, int n) {
        for (int i = 0; i < n; i += L) {
            IntVector bits = FloatVector.fromArray(S, a, i).reinterpretAsInts();
            FloatVector k = (FloatVector)
                    bits.lanewise(VectorOperators.LSHR, 23).sub(126).convert(VectorOperators.I2F, 0);
            FloatVector m = bits.and(0x007fffff).or(0x3f000000).reinterpretAsFloats(); // [1/2, 1)
            VectorMask<Float> low = m.compare(VectorOperators.LT, SQRT_HALF);
            k = k.sub(FloatVector.zero(S).blend(1f, low));
            m = m.add(FloatVector.zero(S).blend(m, low)).sub(1f); // 2m - 1 below sqrt(1/2), else m - 1
            FloatVector z = m.mul(m);
            FloatVector y =
                    m.fma(FloatVector.broadcast(S, 7.0376836292e-2f), FloatVector.broadcast(S, -1.1514610310e-1f));
            y = y.fma(m, FloatVector.broadcast(S, 1.1676998740e-1f));
            y = y.fma(m, FloatVector.broadcast(S, -1.2420140846e-1f));
            y = y.fma(m, FloatVector.broadcast(S, 1.4249322787e-1f));
            y = y.fma(m, FloatVector.broadcast(S, -1.6668057665e-1f));
            y = y.fma(m, FloatVector.broadcast(S, 2.0000714765e-1f));
            y = y.fma(m, FloatVector.broadcast(S, -2.4999993993e-1f));
            y = y.fma(m, FloatVector.broadcast(S, 3.3333331174e-1f));
            y = y.mul(m).mul(z);
            y = k.fma(FloatVector.broadcast(S, LN2_LOW), y);
            y = z.fma(FloatVector.broadcast(S, -0.5f), y);
            k.fma(FloatVector.broadcast(S, LN2_HIGH), m.add(y)).intoArray(a, i);
        }
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
