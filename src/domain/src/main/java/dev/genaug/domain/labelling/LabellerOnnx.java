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

/**
 * Exports an {@link Ensemble} as one ONNX graph (opset 17) that reads the generator's outputs at
 * their native resolution and returns labels, confidences and uncertainties.
 *
 * <p>The first layer uses the exact shortcut of the brief: bilinear upsampling is linear with
 * weights summing to one, so W.up(f) + b = up(W.f) + b. Each level's features go through a 1x1
 * convolution holding the first layer of every member at the level's own resolution, and only the
 * (E x hidden)-channel results are upsampled and summed. The input scaling and each BatchNorm (eval
 * mode: an affine map) are folded into the neighbouring weights; later layers are grouped 1x1
 * convolutions, one group per member.
 */
public final class LabellerOnnx {
    public static final String LABELS = "labels";
    public static final String CONFIDENCE = "confidence";
    public static final String UNCERTAINTY = "uncertainty";

    /** One input level: a generator output read by the labeller. */
    public record Input(String name, int channels, int stride) {}

    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();

    private LabellerOnnx() {}

    /** Serialised ONNX model. */
    public static byte[] export(Ensemble ensemble, List<Input> inputs, int height, int width, String producer) {
        return new LabellerOnnx()
                .build(ensemble, inputs, height, width, producer)
                .toByteArray();
    }

    /** FLOPs (multiply-adds x 2) of the exported graph's convolutions for one picture. */
    public static double flopsPerImage(Ensemble ensemble, List<Input> inputs, int height, int width) {
        PixelMlp first = ensemble.members().get(0);
        int e = ensemble.size();
        double macs = 0;
        for (Input in : inputs) {
            macs += (double) (height / in.stride()) * (width / in.stride()) * in.channels() * e * first.sizes[1];
        }
        for (int l = 1; l < first.layers(); l++) {
            macs += (double) height * width * e * first.sizes[l] * first.sizes[l + 1];
        }
        return 2 * macs;
    }

    /**
     * A model of one MatMul, x [N, k] times a fixed W [k, n]: the probe a benchmark measures the
     * runtime's GEMM throughput with, to compare the labeller against.
     */
    public static byte[] gemmProbe(int k, int n) {
        LabellerOnnx b = new LabellerOnnx();
        float[] w = new float[k * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = ((i * 37) % 101 - 50) / 500f;
        }
        b.nodes.add(plain("MatMul", List.of("x", b.constant("w", w, k, n)), "y"));
        GraphProto graph = GraphProto.newBuilder()
                .setName("gemm")
                .addAllNode(b.nodes)
                .addAllInitializer(b.initializers)
                .addInput(value("x", "N", k))
                .addOutput(value("y", "N", n))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("genaug")
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .build()
                .toByteArray();
    }

    private ModelProto build(Ensemble ensemble, List<Input> inputs, int height, int width, String producer) {
        List<PixelMlp> members = ensemble.members();
        int e = members.size();
        PixelMlp any = members.get(0);
        int hidden = any.sizes[1];
        int classes = any.classes();
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

        // Layer 1 is built in the layout [y, N, channel, x]: there the upsampling of every coarse
        // level is two GEMMs (along x per level, then along y for all levels at once, which also
        // sums them), so the full-resolution tensor of E x hidden channels is written once.
        List<String> coarse = new ArrayList<>();
        List<Integer> coarseRows = new ArrayList<>();
        List<Integer> coarseStrides = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        boolean biasPlaced = false;
        int offset = 0;
        for (Input in : inputs) {
            float[] weight = new float[c * in.channels()];
            for (int m = 0; m < e; m++) {
                for (int j = 0; j < hidden; j++) {
                    for (int ch = 0; ch < in.channels(); ch++) {
                        weight[(m * hidden + j) * in.channels() + ch] = folded[m][(offset + ch) * hidden + j];
                    }
                }
            }
            offset += in.channels();
            if (in.stride() == 1) {
                // [N, ch, H, W] -> [H, N, ch, W], then [c, ch] x that -> [H, N, c, W].
                String t = node("Transpose", List.of(in.name()), in.name() + "_yncx", intsAttr("perm", 2, 0, 1, 3));
                fine.add(node(
                        "MatMul",
                        List.of(constant(in.name() + "_w1", weight, c, in.channels()), t),
                        in.name() + "_layer1"));
                continue;
            }
            int h = height / in.stride();
            int w = width / in.stride();
            List<String> convInputs =
                    new ArrayList<>(List.of(in.name(), constant(in.name() + "_w1", weight, c, in.channels(), 1, 1)));
            if (!biasPlaced) {
                // Upsampling weights sum to one, so a constant added at native resolution is added
                // exactly everywhere: the bias costs nothing here.
                convInputs.add(constant("b1", bias1, c));
                biasPlaced = true;
            }
            String projected = node("Conv", convInputs, in.name() + "_layer1");
            String rows = node("Transpose", List.of(projected), in.name() + "_yncx", intsAttr("perm", 2, 0, 1, 3));
            String alongX = node(
                    "MatMul",
                    List.of(rows, constant(in.name() + "_up_x", interpolation(in.stride(), w, width, false), w, width)),
                    in.name() + "_up_x_done");
            coarse.add(alongX);
            coarseRows.add(h);
            coarseStrides.add(in.stride());
        }
        String fineSum = fine.isEmpty() ? null : fine.size() == 1 ? fine.get(0) : node("Sum", fine, "fine_sum");
        if (!biasPlaced) {
            fineSum = node("Add", List.of(fineSum, constant("b1", bias1, 1, 1, c, 1)), "fine_biased");
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
            String stacked = coarse.size() == 1 ? coarse.get(0) : node("Concat", coarse, "levels", intAttr("axis", 0));
            String flat = node("Reshape", List.of(stacked, longs("rows_flat", totalRows, -1)), "levels_flat");
            List<String> gemm = new ArrayList<>(List.of(constant("up_y", uy, height, totalRows), flat));
            if (fineSum != null) {
                gemm.add(node("Reshape", List.of(fineSum, longs("full_flat", height, -1)), "fine_flat"));
            }
            layer1 = node("Gemm", gemm, "layer1_flat");
        }
        // [H, N * c * W] -> [H, N, E, hidden, W]: members side by side for batched MatMuls.
        String h = node(
                "Reshape",
                List.of(
                        node("Relu", List.of(layer1), "layer1_relu"),
                        longs("member_shape", height, -1, e, hidden, width)),
                "layer1_members");

        // Later layers: BatchNorm of the previous hidden layer folded into the weights.
        for (int l = 1; l < any.layers(); l++) {
            int in = any.sizes[l];
            int out = any.sizes[l + 1];
            float[] weight = new float[e * out * in];
            float[] bias = new float[e * out];
            for (int m = 0; m < e; m++) {
                PixelMlp net = members.get(m);
                for (int j = 0; j < out; j++) {
                    double b = net.b[l][j];
                    for (int k = 0; k < in; k++) {
                        float scale = net.gamma[l - 1][k] / (float) Math.sqrt(net.runVar[l - 1][k] + PixelMlp.BN_EPS);
                        float shift = net.beta[l - 1][k] - scale * net.runMean[l - 1][k];
                        float wkj = net.w[l][k * out + j];
                        weight[(m * out + j) * in + k] = scale * wkj;
                        b += (double) shift * wkj;
                    }
                    bias[m * out + j] = (float) b;
                }
            }
            // [E, out, in] x [H, N, E, in, W] -> [H, N, E, out, W].
            String product = node(
                    "MatMul", List.of(constant("w" + (l + 1), weight, e, out, in), h), "layer" + (l + 1) + "_product");
            String layer = node("Add", List.of(product, constant("b" + (l + 1), bias, e, out, 1)), "layer" + (l + 1));
            h = l < any.layers() - 1 ? node("Relu", List.of(layer), "layer" + (l + 1) + "_relu") : layer;
        }
        // h: logits [H, N, E, classes, W].
        int pixels = height * width;
        String p = node("Softmax", List.of(h), "member_probabilities", intAttr("axis", 3));
        String meanP = node("ReduceMean", List.of(p), "probabilities", intsAttr("axes", 2), intAttr("keepdims", 0));
        String argmax = node("ArgMax", List.of(meanP), "argmax", intAttr("axis", 2), intAttr("keepdims", 0));
        String asFloat = node("Cast", List.of(argmax), "argmax_float", intAttr("to", TensorProto.DataType.FLOAT_VALUE));
        nodes.add(plain("Transpose", List.of(asFloat), LABELS, intsAttr("perm", 1, 0, 2)));
        String best = node("ReduceMax", List.of(meanP), "best", intsAttr("axes", 2), intAttr("keepdims", 0));
        nodes.add(plain("Transpose", List.of(best), CONFIDENCE, intsAttr("perm", 1, 0, 2)));

        String eps = constant("eps", new float[] {1e-12f});
        String meanLog = node("Log", List.of(node("Max", List.of(meanP, eps), "mean_clip")), "mean_log");
        String entropyOfMean = node(
                "ReduceSum",
                List.of(node("Mul", List.of(meanP, meanLog), "mean_plogp"), longs("class_axis", 2)),
                "neg_entropy_of_mean",
                intAttr("keepdims", 0));
        String memberLog = node("Log", List.of(node("Max", List.of(p, eps), "member_clip")), "member_log");
        String memberNegEntropy = node(
                "ReduceSum",
                List.of(node("Mul", List.of(p, memberLog), "member_plogp"), longs("member_class_axis", 3)),
                "member_neg_entropy",
                intAttr("keepdims", 0));
        String meanNegEntropy = node(
                "ReduceMean",
                List.of(memberNegEntropy),
                "mean_member_neg_entropy",
                intsAttr("axes", 2),
                intAttr("keepdims", 0));
        // JS = H(mean p) - mean H(p_i); rounding can make it a hair negative. [H, N, W] -> [N, H * W].
        String js = node(
                "Max",
                List.of(node("Sub", List.of(meanNegEntropy, entropyOfMean), "js_raw"), constant("zero", new float[] {0f
                })),
                "js");
        String perPicture = node(
                "Reshape",
                List.of(
                        node("Transpose", List.of(js), "js_nyx", intsAttr("perm", 1, 0, 2)),
                        longs("picture_flat", 0, -1)),
                "js_flat");
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

        GraphProto.Builder graph =
                GraphProto.newBuilder().setName("labeller").addAllNode(nodes).addAllInitializer(initializers);
        for (Input in : inputs) {
            graph.addInput(value(in.name(), "N", in.channels(), height / in.stride(), width / in.stride()));
        }
        graph.addOutput(value(LABELS, "N", height, width));
        graph.addOutput(value(CONFIDENCE, "N", height, width));
        graph.addOutput(value(UNCERTAINTY, "N"));
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName(producer)
                .setDocString("genaug labeller: an ensemble of " + e + " per-pixel MLPs over generator features")
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .build();
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
