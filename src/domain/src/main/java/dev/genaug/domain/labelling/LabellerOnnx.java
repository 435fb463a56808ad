package dev.genaug.domain.labelling;

import com.google.protobuf.ByteString;
import dev.genaug.api.onnx.AttributeProto;
import dev.genaug.api.onnx.GraphProto;
import dev.genaug.api.onnx.ModelProto;
import dev.genaug.api.onnx.NodeProto;
import dev.genaug.api.onnx.OperatorSetIdProto;
import dev.genaug.api.onnx.TensorProto;
import dev.genaug.api.onnx.TensorShapeProto;
import dev.genaug.api.onnx.TypeProto;
import dev.genaug.api.onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.BinaryOperator;
import java.util.stream.IntStream;

/**
 * Exports an {@link Ensemble} as one ONNX graph (opset 17) that reads the generator's outputs at
 * their native resolution and returns labels, confidences and uncertainties.
 *
 * <p>The first layer uses the exact shortcut of the brief: bilinear upsampling is linear with
 * weights summing to one, so W.up(f) + b = up(W.f) + b. Each level's features go through a 1x1
 * convolution holding the first layer of every member at the level's own resolution, and only the
 * (E x hidden)-channel results are upsampled and summed; a level with fewer channels than that
 * upsampling costs per output value is upsampled first instead, as the image needs none. The input
 * scaling and each BatchNorm (eval mode: an affine map) are folded into the neighbouring weights;
 * later layers are batched MatMuls, one GEMM per member and image row.
 */
public final class LabellerOnnx {
    public static final String LABELS = "labels";
    public static final String CONFIDENCE = "confidence";
    public static final String UNCERTAINTY = "uncertainty";

    /** One input level: a generator output read by the labeller. */
    public record Input(String name, int channels, int stride) {}

    private static final String MICROSOFT = "com.microsoft";
    /**
     * Most calibration pixels whose activations set the int8 graph's scales (evenly spaced when the
     * pictures have more). Small parts cover few pixels and give some units and features their
     * largest values, so a sparse sample (8192 pixels once) clipped exactly what labels them.
     */
    private static final int CALIBRATION_PIXELS = 131_072;
    /**
     * Share of the calibration pixels' standardised feature magnitudes the int8 input scale covers
     * without clipping: all but the extreme few, whose range would coarsen every other pixel's step.
     */
    private static final double INPUT_QUANTILE = 0.99999;
    /** Calibration pixels run through the members at once. */
    private static final int CALIBRATION_CHUNK = 4096;
    /** Largest weight magnitude in int8 units. */
    private static final int WEIGHT_LEVELS = 63;

    /** Members per group of the float graph's layers (the last group may be smaller). */
    static final int MEMBERS_PER_GROUP = 5;

    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();

    private LabellerOnnx() {}

    /** Serialised ONNX model. */
    public static byte[] export(Ensemble ensemble, List<Input> inputs, int height, int width, String producer) {
        return export(ensemble, inputs, height, width, producer, MEMBERS_PER_GROUP);
    }

    /** {@link #export} with the members' layers built in groups of {@code membersPerGroup}. */
    static byte[] export(
            Ensemble ensemble, List<Input> inputs, int height, int width, String producer, int membersPerGroup) {
        return new LabellerOnnx()
                .build(ensemble, inputs, height, width, producer, membersPerGroup)
                .toByteArray();
    }

    /**
     * Serialised ONNX model with 8-bit weights and activations ({@link #buildInt8}); its activation
     * scales are calibrated on pixels of {@code calibration}, features of the generator's pictures.
     */
    public static byte[] exportInt8(
            Ensemble ensemble, List<Input> inputs, int height, int width, String producer, FeatureMaps calibration) {
        return new LabellerOnnx()
                .buildInt8(ensemble, inputs, height, width, producer, calibration)
                .toByteArray();
    }

    /**
     * FLOPs (multiply-adds x 2) of the ensemble's layers for one picture with the shortcut on every
     * level: the least arithmetic an exact evaluation does, and the figure labelling throughput
     * is reported in.
     */
    public static double flopsPerImage(Ensemble ensemble, List<Input> inputs, int height, int width) {
        return flops(ensemble, inputs, height, width, false);
    }

    /**
     * FLOPs of the same layers as the exported float graph runs them: levels it upsamples first
     * ({@link #fullResolutionFirst}) go through layer 1 at full resolution.
     */
    public static double exportedFlopsPerImage(Ensemble ensemble, List<Input> inputs, int height, int width) {
        return flops(ensemble, inputs, height, width, true);
    }

    private static double flops(Ensemble ensemble, List<Input> inputs, int height, int width, boolean asExported) {
        PixelMlp first = ensemble.members().get(0);
        int e = ensemble.size();
        double macs = 0;
        for (Input in : inputs) {
            int stride = asExported && fullResolutionFirst(in, height, width) ? 1 : in.stride();
            macs += (double) (height / stride) * (width / stride) * in.channels() * e * first.sizes[1];
        }
        for (int l = 1; l < first.layers(); l++) {
            macs += (double) height * width * e * first.sizes[l] * first.sizes[l + 1];
        }
        return 2 * macs;
    }

    /**
     * Integer multiply-adds x 2 of the int8 graph ({@link #exportInt8}) for one picture, its first
     * layer at full resolution. Counted per member: the graph runs each later layer as one
     * block-diagonal GEMM over all members, E times these operations, of which only the diagonal
     * blocks are work.
     */
    public static double int8OpsPerImage(Ensemble ensemble, int height, int width) {
        PixelMlp first = ensemble.members().get(0);
        int e = ensemble.size();
        double macs = (double) first.sizes[0] * e * first.sizes[1];
        for (int l = 1; l < first.layers(); l++) {
            macs += (double) e * first.sizes[l] * first.sizes[l + 1];
        }
        return 2 * macs * height * width;
    }

    /**
     * The probe a benchmark measures the runtime's GEMM throughput with, to compare the labeller
     * against: x [N, k] times a fixed W [k, k], {@code chain} times in a row (each product feeds
     * the next), so that copying the input in and the output out is a small part of a run. A run
     * costs 2 N k k chain FLOPs.
     */
    public static byte[] gemmProbe(int k, int chain) {
        LabellerOnnx b = new LabellerOnnx();
        float[] w = new float[k * k];
        for (int i = 0; i < w.length; i++) {
            // Entries in +-sqrt(3 / k): each product keeps its input's scale.
            w[i] = (float) (((i * 37) % 101 - 50) / 50.0 * Math.sqrt(3.0 / k));
        }
        String weight = b.constant("w", w, k, k);
        String x = "x";
        for (int c = 0; c < chain; c++) {
            x = b.node("MatMul", List.of(x, weight), c == chain - 1 ? "y" : "y" + c);
        }
        return b.probeModel("gemm", k);
    }

    /**
     * The int8 counterpart of {@link #gemmProbe}: each product quantizes its input and runs one
     * MatMulIntegerToFloat with a fixed int8 W [k, k], the operator of the int8 labeller's layers.
     */
    public static byte[] gemmProbeInt8(int k, int chain) {
        LabellerOnnx b = new LabellerOnnx();
        byte[] w = new byte[k * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) ((i * 37) % 127 - 63);
        }
        String weight = b.int8s("w", w, k, k);
        String scale = b.constant("x_scale", new float[] {1f / 32});
        String zero = b.uint8s("x_zero", (byte) 128);
        // Integer entries in +-63 have variance 1323: the scale keeps each product's input scale.
        String weightScale = b.constant("w_scale", new float[] {(float) (1 / Math.sqrt(1323.0 * k))});
        String x = "x";
        for (int c = 0; c < chain; c++) {
            String q = b.node("QuantizeLinear", List.of(x, scale, zero), "x_q" + c);
            x = b.node(
                    "MatMulIntegerToFloat",
                    List.of(q, weight, scale, weightScale, zero),
                    c == chain - 1 ? "y" : "y" + c,
                    MICROSOFT);
        }
        return b.probeModel("gemm_int8", k);
    }

    private byte[] probeModel(String name, int k) {
        GraphProto.Builder graph = GraphProto.newBuilder()
                .setName(name)
                .addAllNode(nodes)
                .addAllInitializer(initializers)
                .addInput(value("x", "N", k))
                .addOutput(value("y", "N", k));
        return model(graph, "genaug", "genaug GEMM probe").toByteArray();
    }

    private ModelProto build(
            Ensemble ensemble, List<Input> inputs, int height, int width, String producer, int membersPerGroup) {
        List<PixelMlp> members = ensemble.members();
        int e = members.size();
        PixelMlp any = members.get(0);
        int hidden = any.sizes[1];
        int d = any.sizes[0];
        int c = e * hidden;
        float[] mean = ensemble.mean();
        float[] std = ensemble.std();

        // First layer with the input scaling folded in: x' = (x - mean) / std.
        float[] bias1 = new float[c];
        float[][] folded = new float[e][];
        for (int m = 0; m < e; m++) {
            float[] w = members.get(m).w[0];
            float[] f = new float[w.length];
            for (int j = 0; j < hidden; j++) {
                double b = members.get(m).b[0][j];
                for (int k = 0; k < d; k++) {
                    f[k * hidden + j] = w[k * hidden + j] / std[k];
                    b -= (double) mean[k] / std[k] * w[k * hidden + j];
                }
                bias1[m * hidden + j] = (float) b;
            }
            folded[m] = f;
        }

        // Levels with few channels are upsampled before layer 1 (fullResolutionFirst), once for
        // every member; they join the image in one full-resolution product per group.
        List<String> fine = new ArrayList<>();
        int fineChannels = 0;
        for (Input in : inputs) {
            if (fullResolutionFirst(in, height, width)) {
                fine.add(atFullResolution(in, height, width));
                fineChannels += in.channels();
            }
        }
        String fineInputs = fine.isEmpty()
                ? null
                : fine.size() == 1 ? fine.get(0) : node("Concat", fine, "fine_inputs", intAttr("axis", 2));
        // The members' layers run in groups (MEMBERS_PER_GROUP): a group's full-resolution layer 1
        // is a fraction of all members', and groups of five measured faster than groups of ten,
        // three, two or one, and as fast as four (docs/labelling-experiments.md). Exact whatever the grouping.
        List<String> logits = new ArrayList<>();
        for (int m0 = 0; m0 < e; m0 += membersPerGroup) {
            int m1 = Math.min(e, m0 + membersPerGroup);
            logits.add(memberGroup(
                    members.subList(m0, m1),
                    java.util.Arrays.copyOfRange(folded, m0, m1),
                    java.util.Arrays.copyOfRange(bias1, m0 * hidden, m1 * hidden),
                    inputs,
                    fineInputs,
                    fineChannels,
                    height,
                    width,
                    "_g" + logits.size()));
        }
        String h = logits.size() == 1 ? logits.get(0) : node("Concat", logits, "logits", intAttr("axis", 2));
        // h: logits [H, N, E, classes, W].
        tail(h, 2, (t, out) -> node("Transpose", List.of(t), out, intsAttr("perm", 1, 0, 2)), height * width);
        return model(
                inputs, height, width, producer, "an ensemble of " + e + " per-pixel MLPs over generator features");
    }

    /**
     * Layers 1 to the logits of some members, [H, N, members, classes, W]. Layer 1 is built in the
     * layout [y, N, channel, x]: there the upsampling of every coarse level is two GEMMs (along x
     * per level, then along y for all levels at once, which also sums them and adds the
     * full-resolution product of {@code fineInputs}), so the full-resolution tensor of
     * members x hidden channels is written once.
     *
     * @param folded the members' layer-1 weights with the input scaling folded in
     * @param bias1 their layer-1 biases, member after member
     * @param fineInputs the levels upsampled before layer 1, [H, N, fineChannels, W]; null: none
     * @param suffix appended to the name of every tensor of this group
     */
    private String memberGroup(
            List<PixelMlp> members,
            float[][] folded,
            float[] bias1,
            List<Input> inputs,
            String fineInputs,
            int fineChannels,
            int height,
            int width,
            String suffix) {
        PixelMlp any = members.get(0);
        int e = members.size();
        int hidden = any.sizes[1];
        int c = e * hidden;
        List<String> coarse = new ArrayList<>();
        List<Integer> coarseRows = new ArrayList<>();
        List<Integer> coarseStrides = new ArrayList<>();
        List<float[]> fineWeights = new ArrayList<>();
        boolean biasPlaced = false;
        int offset = 0;
        for (Input in : inputs) {
            int h = height / in.stride();
            int w = width / in.stride();
            float[] weight = firstLayer(folded, hidden, offset, in.channels());
            offset += in.channels();
            if (fullResolutionFirst(in, height, width)) {
                fineWeights.add(weight);
                continue;
            }
            String n = in.name() + suffix;
            List<String> convInputs =
                    new ArrayList<>(List.of(in.name(), constant(n + "_w1", weight, c, in.channels(), 1, 1)));
            if (!biasPlaced) {
                // Upsampling weights sum to one, so a constant added at native resolution is added
                // exactly everywhere: the bias costs nothing here.
                convInputs.add(constant("b1" + suffix, bias1, c));
                biasPlaced = true;
            }
            String projected = node("Conv", convInputs, n + "_layer1");
            String rows = node("Transpose", List.of(projected), n + "_yncx", intsAttr("perm", 2, 0, 1, 3));
            String alongX = node(
                    "MatMul",
                    List.of(rows, constant(n + "_up_x", interpolation(in.stride(), w, width, false), w, width)),
                    n + "_up_x_done");
            coarse.add(alongX);
            coarseRows.add(h);
            coarseStrides.add(in.stride());
        }
        String fineSum = null;
        if (fineInputs != null) {
            // [c, K] x [H, N, K, W] -> [H, N, c, W], K the fine levels' channels side by side.
            float[] weight = new float[c * fineChannels];
            int at = 0;
            for (float[] part : fineWeights) {
                int channels = part.length / c;
                for (int o = 0; o < c; o++) {
                    System.arraycopy(part, o * channels, weight, o * fineChannels + at, channels);
                }
                at += channels;
            }
            fineSum = node(
                    "MatMul",
                    List.of(constant("fine_w1" + suffix, weight, c, fineChannels), fineInputs),
                    "fine_layer1" + suffix);
        }
        if (!biasPlaced) {
            fineSum = node("Add", List.of(fineSum, constant("b1" + suffix, bias1, 1, 1, c, 1)), "fine_biased" + suffix);
        }
        String layer1;
        if (coarse.isEmpty()) {
            layer1 = fineSum;
        } else {
            int totalRows = coarseRows.stream().mapToInt(Integer::intValue).sum();
            float[] uy = new float[height * totalRows];
            int first = 0;
            for (int l = 0; l < coarse.size(); l++) {
                float[] part = interpolation(coarseStrides.get(l), coarseRows.get(l), height, true);
                for (int y = 0; y < height; y++) {
                    System.arraycopy(part, y * coarseRows.get(l), uy, y * totalRows + first, coarseRows.get(l));
                }
                first += coarseRows.get(l);
            }
            String stacked =
                    coarse.size() == 1 ? coarse.get(0) : node("Concat", coarse, "levels" + suffix, intAttr("axis", 0));
            String flat = node(
                    "Reshape", List.of(stacked, longs("rows_flat" + suffix, totalRows, -1)), "levels_flat" + suffix);
            List<String> gemm = new ArrayList<>(List.of(constant("up_y" + suffix, uy, height, totalRows), flat));
            if (fineSum != null) {
                gemm.add(node(
                        "Reshape", List.of(fineSum, longs("full_flat" + suffix, height, -1)), "fine_flat" + suffix));
            }
            layer1 = node("Gemm", gemm, "layer1_flat" + suffix);
        }
        // [H, N * c * W] -> [H, N, E, hidden, W]: members side by side for batched MatMuls.
        String h = node(
                "Reshape",
                List.of(
                        node("Relu", List.of(layer1), "layer1_relu" + suffix),
                        longs("member_shape" + suffix, height, -1, e, hidden, width)),
                "layer1_members" + suffix);

        // Later layers: BatchNorm of the previous hidden layer folded into the weights.
        for (int l = 1; l < any.layers(); l++) {
            int in = any.sizes[l];
            int out = any.sizes[l + 1];
            float[] weight = new float[e * out * in];
            float[] bias = new float[e * out];
            for (int m = 0; m < e; m++) {
                float[][] f = folded(members.get(m), l);
                for (int j = 0; j < out; j++) {
                    for (int k = 0; k < in; k++) {
                        weight[(m * out + j) * in + k] = f[0][k * out + j];
                    }
                    bias[m * out + j] = f[1][j];
                }
            }
            // [E, out, in] x [H, N, E, in, W] -> [H, N, E, out, W].
            String name = "layer" + (l + 1) + suffix;
            String product =
                    node("MatMul", List.of(constant("w" + (l + 1) + suffix, weight, e, out, in), h), name + "_product");
            String layer = node("Add", List.of(product, constant("b" + (l + 1) + suffix, bias, e, out, 1)), name);
            h = l < any.layers() - 1 ? node("Relu", List.of(layer), name + "_relu") : layer;
        }
        return h;
    }

    /**
     * Whether the float graph upsamples this level's features before layer 1 rather than its
     * layer-1 output after. Upsampling the E x hidden outputs by the separable GEMMs costs about
     * h + w / stride multiply-adds per output value; upsampling the inputs first costs one per
     * input channel in the full-resolution product (the input's own upsampling is negligible). The
     * stride-1 image is always at full resolution. Both are exact: the choice is speed only.
     */
    static boolean fullResolutionFirst(Input in, int height, int width) {
        return in.stride() == 1 || in.channels() < height / in.stride() + width / in.stride() / in.stride();
    }

    /** A level as [H, N, channels, W], bilinearly upsampled where its stride is above 1. */
    private String atFullResolution(Input in, int height, int width) {
        String n = in.name();
        if (in.stride() == 1) {
            return node("Transpose", List.of(n), n + "_yncx", intsAttr("perm", 2, 0, 1, 3));
        }
        int h = height / in.stride();
        int w = width / in.stride();
        // [N, ch, h, w] x [w, W] -> [N, ch, h, W] -> [h, N * ch * W]; [H, h] x that -> [H, N * ch * W].
        String alongX = node(
                "MatMul",
                List.of(n, constant(n + "_in_up_x", interpolation(in.stride(), w, width, false), w, width)),
                n + "_in_up_x_done");
        String rows = node("Transpose", List.of(alongX), n + "_in_yncx", intsAttr("perm", 2, 0, 1, 3));
        String flat = node("Reshape", List.of(rows, longs(n + "_in_rows", h, -1)), n + "_in_flat");
        String alongY = node(
                "MatMul",
                List.of(constant(n + "_in_up_y", interpolation(in.stride(), h, height, true), height, h), flat),
                n + "_in_up_y_done");
        return node("Reshape", List.of(alongY, longs(n + "_in_shape", height, -1, in.channels(), width)), n + "_yncx");
    }

    /** Layer 1's weights for features [offset, offset + channels), every member: [E * hidden, channels]. */
    private static float[] firstLayer(float[][] folded, int hidden, int offset, int channels) {
        float[] weight = new float[folded.length * hidden * channels];
        for (int m = 0; m < folded.length; m++) {
            for (int j = 0; j < hidden; j++) {
                for (int ch = 0; ch < channels; ch++) {
                    weight[(m * hidden + j) * channels + ch] = folded[m][(offset + ch) * hidden + j];
                }
            }
        }
        return weight;
    }

    /**
     * Labels, confidence and uncertainty from the members' logits, whose class axis follows the
     * member axis; {@code toNhw} turns a tensor without those two axes into [N, H, W] under the
     * given name.
     */
    private void tail(String logits, int memberAxis, BinaryOperator<String> toNhw, int pixels) {
        // Each member's softmax and its log, log p = (z - max z) - ln sum exp(z - max z): exact,
        // with no clipping before a Log of every probability, and measured faster than ONNX
        // Softmax or LogSoftmax over an axis that is not the last.
        int softmaxAxis = memberAxis + 1;
        String shifted = node(
                "Sub",
                List.of(
                        logits,
                        node(
                                "ReduceMax",
                                List.of(logits),
                                "logit_max",
                                intsAttr("axes", softmaxAxis),
                                intAttr("keepdims", 1))),
                "logits_shifted");
        String exp = node("Exp", List.of(shifted), "logits_exp");
        String sum =
                node("ReduceSum", List.of(exp, longs("softmax_axis", softmaxAxis)), "exp_sum", intAttr("keepdims", 1));
        String p = node("Div", List.of(exp, sum), "member_probabilities");
        String memberLog = node("Sub", List.of(shifted, node("Log", List.of(sum), "log_exp_sum")), "member_log");
        int classAxis = memberAxis; // in the members' mean
        String meanP =
                node("ReduceMean", List.of(p), "probabilities", intsAttr("axes", memberAxis), intAttr("keepdims", 0));
        String argmax = node("ArgMax", List.of(meanP), "argmax", intAttr("axis", classAxis), intAttr("keepdims", 0));
        String asFloat = node("Cast", List.of(argmax), "argmax_float", intAttr("to", TensorProto.DataType.FLOAT_VALUE));
        toNhw.apply(asFloat, LABELS);
        String best = node("ReduceMax", List.of(meanP), "best", intsAttr("axes", classAxis), intAttr("keepdims", 0));
        toNhw.apply(best, CONFIDENCE);

        String eps = constant("eps", new float[] {1e-12f});
        String meanLog = node("Log", List.of(node("Max", List.of(meanP, eps), "mean_clip")), "mean_log");
        String entropyOfMean = node(
                "ReduceSum",
                List.of(node("Mul", List.of(meanP, meanLog), "mean_plogp"), longs("class_axis", classAxis)),
                "neg_entropy_of_mean",
                intAttr("keepdims", 0));
        String memberNegEntropy = node(
                "ReduceSum",
                List.of(node("Mul", List.of(p, memberLog), "member_plogp"), longs("member_class_axis", memberAxis + 1)),
                "member_neg_entropy",
                intAttr("keepdims", 0));
        String meanNegEntropy = node(
                "ReduceMean",
                List.of(memberNegEntropy),
                "mean_member_neg_entropy",
                intsAttr("axes", memberAxis),
                intAttr("keepdims", 0));
        // JS = H(mean p) - mean H(p_i); rounding can make it a hair negative. -> [N, H * W].
        String js = node(
                "Max",
                List.of(node("Sub", List.of(meanNegEntropy, entropyOfMean), "js_raw"), constant("zero", new float[] {0f
                })),
                "js");
        String perPicture =
                node("Reshape", List.of(toNhw.apply(js, "js_nhw"), longs("picture_flat", 0, -1)), "js_flat");
        NodeProto.Builder topK = NodeProto.newBuilder()
                .setOpType("TopK")
                .setName("top_js")
                .addInput(perPicture)
                .addInput(longs("top_k", Ensemble.topCount(pixels)))
                .addOutput("top_js_values")
                .addOutput("top_js_indices")
                .addAttribute(intAttr("axis", 1));
        nodes.add(topK.build());
        nodes.add(plain(
                "ReduceMean", List.of("top_js_values"), UNCERTAINTY, intsAttr("axes", 1), intAttr("keepdims", 0)));
    }

    /**
     * The ensemble with 8-bit integer weights and activations, for CPUs whose integer GEMMs are
     * several times their float ones (VNNI, AMX). Features are standardised at their own
     * resolution, upsampled to every pixel and quantized with one scale; each layer is a
     * MatMulIntegerToFloat (exact int32 accumulation) whose hidden outputs are quantized again
     * with zero point 0, which is the ReLU. Each hidden unit is scaled to its largest activation
     * over calibration pixels (the scale moves into the next layer's weights: ReLU commutes with
     * positive scaling), so one activation scale fits every unit; weights get a scale per unit.
     */
    private ModelProto buildInt8(
            Ensemble ensemble, List<Input> inputs, int height, int width, String producer, FeatureMaps calibration) {
        List<PixelMlp> members = ensemble.members();
        int e = members.size();
        PixelMlp any = members.get(0);
        int d = any.sizes[0];
        float[] mean = ensemble.mean();
        float[] std = ensemble.std();

        Calibration calibrated = calibrate(ensemble, calibration);
        float inputScale = Math.max(calibrated.inputLimit(), 1e-3f) / 127;

        String features = pixelFeatures(inputs, mean, std, height, width);
        String a = node(
                "QuantizeLinear",
                List.of(features, constant("x_scale", new float[] {inputScale}), uint8s("x_zero", (byte) 128)),
                "features_q");
        String aScale = "x_scale";
        String aZero = "x_zero";

        float[] inScale = null; // per input unit of the current layer, moved in from the layer before
        for (int l = 0; l < any.layers(); l++) {
            int in = any.sizes[l];
            int out = any.sizes[l + 1];
            boolean last = l == any.layers() - 1;
            int inWidth = l == 0 ? d : e * in;
            float[] weight = new float[inWidth * e * out];
            float[] bias = new float[e * out];
            for (int m = 0; m < e; m++) {
                float[][] f = folded(members.get(m), l);
                for (int j = 0; j < out; j++) {
                    for (int k = 0; k < in; k++) {
                        int row = l == 0 ? k : m * in + k;
                        weight[row * e * out + m * out + j] = f[0][k * out + j];
                    }
                    bias[m * out + j] = f[1][j];
                }
            }
            // Equalise: unit j's output divided by its largest value, the input units' scales multiplied in.
            float[] unitMax = last ? new float[e * out] : calibrated.unitMax()[l];
            float[] divisor = new float[e * out];
            float[] quantScale = new float[e * out];
            byte[] quantized = new byte[weight.length];
            for (int j = 0; j < e * out; j++) {
                divisor[j] = last || unitMax[j] == 0 ? 1f : unitMax[j];
                float largest = 0;
                for (int row = 0; row < inWidth; row++) {
                    float v = weight[row * e * out + j] * (inScale == null ? 1f : inScale[row]) / divisor[j];
                    weight[row * e * out + j] = v;
                    largest = Math.max(largest, Math.abs(v));
                }
                bias[j] /= divisor[j];
                quantScale[j] = largest > 0 ? largest / WEIGHT_LEVELS : 1f;
                for (int row = 0; row < inWidth; row++) {
                    quantized[row * e * out + j] = (byte) Math.round(weight[row * e * out + j] / quantScale[j]);
                }
            }
            String name = "layer" + (l + 1);
            String product = node(
                    "MatMulIntegerToFloat",
                    List.of(
                            a,
                            int8s(name + "_w", quantized, inWidth, e * out),
                            aScale,
                            constant(name + "_w_scale", quantScale),
                            aZero,
                            int8s(name + "_w_zero", new byte[e * out], e * out),
                            constant(name + "_b", bias)),
                    last ? "logits" : name + "_float",
                    MICROSOFT);
            if (last) {
                a = product;
                break;
            }
            aScale = constant(name + "_scale", new float[] {1f / 255});
            aZero = uint8s(name + "_zero", (byte) 0);
            a = node("QuantizeLinear", List.of(product, aScale, aZero), name + "_q");
            inScale = divisor;
        }

        // Logits [N * H * W, E * classes] -> [N, E, classes, H * W] (tail: softmax over the classes).
        int classes = any.classes();
        int pixels = height * width;
        String logits = node(
                "Reshape",
                List.of(
                        node(
                                "Transpose",
                                List.of(node(
                                        "Reshape",
                                        List.of(a, longs("logit_pictures", -1, pixels, (long) e * classes)),
                                        "logits_n")),
                                "logits_nch",
                                intsAttr("perm", 0, 2, 1)),
                        longs("member_classes", 0, e, classes, pixels)),
                "member_logits");
        tail(logits, 1, (t, out) -> node("Reshape", List.of(t, longs(out + "_shape", 0, height, width)), out), pixels);
        return model(
                inputs,
                height,
                width,
                producer,
                "an ensemble of " + e + " per-pixel MLPs over generator features, 8-bit integer arithmetic");
    }

    /**
     * What sets the int8 graph's scales: the {@link #INPUT_QUANTILE} quantile of the standardised
     * features' magnitudes, and per hidden layer each unit's largest output after its ReLU with the
     * features clipped there, as the graph clips them: [layer][member * units + unit].
     */
    record Calibration(float inputLimit, float[][] unitMax) {}

    /**
     * Runs the members in float over the calibration pixels (all of them, or {@link
     * #CALIBRATION_PIXELS} evenly spaced), a chunk at a time so that memory stays small: a first
     * pass finds the input limit (the largest magnitudes in a small heap), a second the units' maxima.
     */
    static Calibration calibrate(Ensemble ensemble, FeatureMaps calibration) {
        List<PixelMlp> members = ensemble.members();
        PixelMlp any = members.get(0);
        int d = any.sizes[0];
        float[][][][] layers = new float[members.size()][any.layers() - 1][][];
        float[][] unitMax = new float[any.layers() - 1][];
        for (int l = 0; l < any.layers() - 1; l++) {
            unitMax[l] = new float[members.size() * any.sizes[l + 1]];
            for (int m = 0; m < members.size(); m++) {
                layers[m][l] = folded(members.get(m), l);
            }
        }
        int rows = (int)
                Math.min((long) calibration.images() * calibration.height() * calibration.width(), CALIBRATION_PIXELS);
        float[] act = new float[CALIBRATION_CHUNK * d];
        // The limit is the k-th largest magnitude: the heap keeps the k largest seen so far.
        int k = (int) ((double) rows * d * (1 - INPUT_QUANTILE)) + 1;
        PriorityQueue<Float> largest = new PriorityQueue<>(k + 1);
        for (int from = 0; from < rows; from += CALIBRATION_CHUNK) {
            int n = standardised(ensemble, calibration, rows, from, act);
            for (int i = 0; i < n * d; i++) {
                float v = Math.abs(act[i]);
                if (largest.size() < k) {
                    largest.add(v);
                } else if (v > largest.peek()) {
                    largest.poll();
                    largest.add(v);
                }
            }
        }
        float limit = largest.peek();
        for (int from = 0; from < rows; from += CALIBRATION_CHUNK) {
            int n = standardised(ensemble, calibration, rows, from, act);
            for (int i = 0; i < n * d; i++) {
                act[i] = Math.clamp(act[i], -limit, limit);
            }
            float[] clipped = act;
            // Members in parallel: each writes only its own units' maxima.
            IntStream.range(0, members.size()).parallel().forEach(m -> {
                float[] x = clipped;
                for (int l = 0; l < any.layers() - 1; l++) {
                    int in = any.sizes[l];
                    int out = any.sizes[l + 1];
                    float[] z = new float[n * out];
                    PixelMlp.affine(x, n, in, layers[m][l][0], layers[m][l][1], z, out);
                    for (int i = 0; i < z.length; i++) {
                        z[i] = Math.max(z[i], 0f);
                        int unit = m * out + i % out;
                        unitMax[l][unit] = Math.max(unitMax[l][unit], z[i]);
                    }
                    x = z;
                }
            });
        }
        return new Calibration(limit, unitMax);
    }

    /**
     * Standardised features of calibration rows [from, from + chunk) of {@code rows} evenly spaced
     * pixels into {@code act}; returns how many rows it wrote.
     */
    private static int standardised(Ensemble ensemble, FeatureMaps calibration, int rows, int from, float[] act) {
        float[] mean = ensemble.mean();
        float[] std = ensemble.std();
        int d = mean.length;
        int plane = calibration.height() * calibration.width();
        long total = (long) calibration.images() * plane;
        int n = Math.min(CALIBRATION_CHUNK, rows - from);
        for (int r = 0; r < n; r++) {
            long pixel = (from + r) * total / rows;
            int image = (int) (pixel / plane);
            int inPlane = (int) (pixel % plane);
            calibration.pixel(image, inPlane / calibration.width(), inPlane % calibration.width(), act, r * d);
            for (int c = 0; c < d; c++) {
                act[r * d + c] = (act[r * d + c] - mean[c]) / std[c];
            }
        }
        return n;
    }

    /**
     * The graph's per-pixel features, [N * H * W, features]: each level standardised at its own
     * resolution (an affine map per channel commutes with bilinear upsampling), then brought to
     * [N * H, W, channels] by two MatMuls.
     */
    private String pixelFeatures(List<Input> inputs, float[] mean, float[] std, int height, int width) {
        List<String> levels = new ArrayList<>();
        int offset = 0;
        for (Input in : inputs) {
            float[] scale = new float[in.channels()];
            float[] shift = new float[in.channels()];
            for (int ch = 0; ch < in.channels(); ch++) {
                scale[ch] = 1 / std[offset + ch];
                shift[ch] = -mean[offset + ch] / std[offset + ch];
            }
            offset += in.channels();
            String n = in.name();
            String standard = node(
                    "Add",
                    List.of(
                            node(
                                    "Mul",
                                    List.of(n, constant(n + "_scale", scale, 1, in.channels(), 1, 1)),
                                    n + "_scaled"),
                            constant(n + "_shift", shift, 1, in.channels(), 1, 1)),
                    n + "_standard");
            String nhwc = node("Transpose", List.of(standard), n + "_nhwc", intsAttr("perm", 0, 2, 3, 1));
            int h = height / in.stride();
            int w = width / in.stride();
            if (in.stride() == 1) {
                levels.add(node(
                        "Reshape", List.of(nhwc, longs(n + "_rows_shape", -1, width, in.channels())), n + "_rows"));
                continue;
            }
            String flat = node(
                    "Reshape", List.of(nhwc, longs(n + "_flat_shape", 0, h, (long) w * in.channels())), n + "_flat");
            String alongY = node(
                    "MatMul",
                    List.of(constant(n + "_up_y", interpolation(in.stride(), h, height, true), height, h), flat),
                    n + "_up_y_done");
            String rowsOf =
                    node("Reshape", List.of(alongY, longs(n + "_rows_shape", -1, w, in.channels())), n + "_row_major");
            levels.add(node(
                    "MatMul",
                    List.of(constant(n + "_up_x", interpolation(in.stride(), w, width, true), width, w), rowsOf),
                    n + "_rows"));
        }
        return node(
                "Reshape",
                List.of(
                        levels.size() == 1 ? levels.get(0) : node("Concat", levels, "features", intAttr("axis", 2)),
                        longs("pixel_rows", -1, mean.length)),
                "feature_rows");
    }

    private ModelProto model(List<Input> inputs, int height, int width, String producer, String what) {
        GraphProto.Builder graph =
                GraphProto.newBuilder().setName("labeller").addAllNode(nodes).addAllInitializer(initializers);
        for (Input in : inputs) {
            graph.addInput(value(in.name(), "N", in.channels(), height / in.stride(), width / in.stride()));
        }
        graph.addOutput(value(LABELS, "N", height, width));
        graph.addOutput(value(CONFIDENCE, "N", height, width));
        graph.addOutput(value(UNCERTAINTY, "N"));
        return model(graph, producer, "genaug labeller: " + what);
    }

    /** The model around a graph: opset 17, and the contrib domain when a node of it is used. */
    private ModelProto model(GraphProto.Builder graph, String producer, String doc) {
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName(producer)
                .setDocString(doc)
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17));
        if (nodes.stream().anyMatch(n -> n.getDomain().equals(MICROSOFT))) {
            model.addOpsetImport(
                    OperatorSetIdProto.newBuilder().setDomain(MICROSOFT).setVersion(1));
        }
        return model.build();
    }

    /**
     * Layer l of a member as weights [in][out] and bias [out], with the BatchNorm that follows
     * layer l - 1's ReLU (eval mode: an affine map) folded in; layer 0 as it is.
     */
    private static float[][] folded(PixelMlp net, int l) {
        int in = net.sizes[l];
        int out = net.sizes[l + 1];
        if (l == 0) {
            return new float[][] {net.w[0], net.b[0]};
        }
        float[] weight = new float[in * out];
        float[] bias = new float[out];
        for (int j = 0; j < out; j++) {
            double b = net.b[l][j];
            for (int k = 0; k < in; k++) {
                float scale = net.gamma[l - 1][k] / (float) Math.sqrt(net.runVar[l - 1][k] + PixelMlp.BN_EPS);
                float shift = net.beta[l - 1][k] - scale * net.runMean[l - 1][k];
                float wkj = net.w[l][k * out + j];
                weight[k * out + j] = scale * wkj;
                b += (double) shift * wkj;
            }
            bias[j] = (float) b;
        }
        return new float[][] {weight, bias};
    }

    /**
     * Bilinear upsampling by an integer stride along one axis (half-pixel centres, edge clamped,
     * as {@link FeatureMaps}) as a matrix: [size][out] for x (source index, output index), or
     * [out][size] for y ({@code rowsOut} true).
     */
    static float[] interpolation(int stride, int size, int out, boolean rowsOut) {
        float[] m = new float[size * out];
        for (int o = 0; o < out; o++) {
            float src = Math.max(0f, (o + 0.5f) / stride - 0.5f);
            int i0 = Math.min((int) src, size - 1);
            int i1 = Math.min(i0 + 1, size - 1);
            float w1 = src - i0;
            if (rowsOut) {
                m[o * size + i0] += 1 - w1;
                m[o * size + i1] += w1;
            } else {
                m[i0 * out + o] += 1 - w1;
                m[i1 * out + o] += w1;
            }
        }
        return m;
    }

    private String node(String op, List<String> inputs, String output, AttributeProto... attributes) {
        nodes.add(plain(op, inputs, output, attributes));
        return output;
    }

    private String node(String op, List<String> inputs, String output, String domain) {
        nodes.add(plain(op, inputs, output).toBuilder().setDomain(domain).build());
        return output;
    }

    private String int8s(String name, byte[] values, long... dims) {
        return bytes(name, TensorProto.DataType.INT8_VALUE, values, dims);
    }

    private String uint8s(String name, byte value) {
        return bytes(name, TensorProto.DataType.UINT8_VALUE, new byte[] {value});
    }

    private String bytes(String name, int type, byte[] values, long... dims) {
        TensorProto.Builder t =
                TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(values));
        for (long dim : dims) {
            t.addDims(dim);
        }
        initializers.add(t.build());
        return name;
    }

    private static NodeProto plain(String op, List<String> inputs, String output, AttributeProto... attributes) {
        return NodeProto.newBuilder()
                .setOpType(op)
                .setName(output)
                .addAllInput(inputs)
                .addOutput(output)
                .addAllAttribute(List.of(attributes))
                .build();
    }

    private String constant(String name, float[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long dim : dims.length == 0 ? new long[] {values.length} : dims) {
            t.addDims(dim);
        }
        initializers.add(t.build());
        return name;
    }

    private String longs(String name, long... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        initializers.add(TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length)
                .setRawData(ByteString.copyFrom(buf.array()))
                .build());
        return name;
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.INT)
                .setI(v)
                .build();
    }

    private static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    private static AttributeProto stringAttr(String name, String v) {
        return AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(v))
                .build();
    }

    private static ValueInfoProto value(String name, String batch, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE)
                                .setShape(shape)))
                .build();
    }
}
