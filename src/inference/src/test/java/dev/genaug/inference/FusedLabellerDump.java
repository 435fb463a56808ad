package dev.genaug.inference;

import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The shipped labeller's outputs for two generated pictures on the fused kernel, as raw float bits:
 * run in a JVM whose JIT never compiles the kernel, it shows whether the results depend on it.
 */
public final class FusedLabellerDump {
    private FusedLabellerDump() {}

    /** Arguments: the genaug root, the output file, the runs before the one written (warm-up). */
    public static void main(String[] args) throws IOException {
        Files.write(Path.of(args[1]), outputs(Path.of(args[0]), Integer.parseInt(args[2])));
    }

    static byte[] outputs(Path root, int warmUp) throws IOException {
        ModelRepository repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
                FusedLabellerBackend fused = new FusedLabellerBackend(onnx, 2)) {
            ResolvedModel labeller = repository.resolve("shapes-labeller", "", "labeller");
            ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
            int d = generator.manifest().getLatent().getDimension();
            float[] z = new float[2 * d];
            Random random = new Random(3);
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) random.nextGaussian();
            }
            Map<String, FloatTensor> features = onnx.infer(
                    generator,
                    Map.of(generator.config().getInput(0).getName(), new FloatTensor(new long[] {2, d}, z)),
                    labeller.manifest().getFeaturesList().stream()
                            .map(f -> f.getName())
                            .toList());
            List<String> names = List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY);
            Map<String, FloatTensor> out = null;
            for (int r = 0; r <= warmUp; r++) {
                out = fused.infer(labeller, features, names);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream data = new DataOutputStream(bytes)) {
                for (String name : names) {
                    for (float v : out.get(name).data()) {
                        data.writeInt(Float.floatToRawIntBits(v));
                    }
                }
            }
            return bytes.toByteArray();
        }
    }
}
