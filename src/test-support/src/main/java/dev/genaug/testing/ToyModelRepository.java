package dev.genaug.testing;

import dev.genaug.domain.files.Trees;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A small model repository written to a temporary folder: configuration and manifests only, no
 * weights. It is what services can check requests against before any model runs:
 *
 * <ul>
 *   <li>{@code toy-generator} (versions 1, 2): latent dimension 8, RGB 16x16 in [-1, 1], feature
 *       outputs {@code feat_4} (stride 4, 8 channels) and {@code feat_2} (stride 2, 4 channels);
 *   <li>{@code toy-encoder}: its inverse;
 *   <li>{@code toy-labeller}: a labeller for toy-generator with 3 classes;
 *   <li>{@code toy-classifier}: a classifier (for role checks);
 *   <li>{@code broken}: a config.pbtxt with an unknown field.
 * </ul>
 *
 * As a Quarkus test resource it sets {@code genaug.models.repository}.
 */
public final class ToyModelRepository implements QuarkusTestResourceLifecycleManager {
    public static final int LATENT_DIMENSION = 8;
    public static final int IMAGE_SIZE = 16;

    private Path root;

    /** Writes the repository below a new temporary folder and returns its root. */
    public static Path write() {
        try {
            Path root = Files.createTempDirectory("toy-model-repository");
            model(root, "toy-generator", "z", "image", generatorManifest(), "1", "2");
            model(root, "toy-encoder", "image", "mu", """
          { "formatVersion": 1, "role": "MODEL_ROLE_ENCODER", "pairedGenerator": "toy-generator",
            "latent": { "dimension": 8 },
            "image": { "width": 16, "height": 16, "channels": 3, "valueMin": -1, "valueMax": 1 } }
          """, "1");
            model(root, "toy-labeller", "feat_4", "probabilities", """
          { "formatVersion": 1, "role": "MODEL_ROLE_LABELLER", "pairedGenerator": "toy-generator",
            "classNames": ["background", "body", "head"] }
          """, "1");
            model(root, "toy-classifier", "image", "probabilities", """
          { "formatVersion": 1, "role": "MODEL_ROLE_CLASSIFIER", "classNames": ["a", "b"],
            "image": { "width": 16, "height": 16, "channels": 3, "valueMin": -1, "valueMax": 1 } }
          """, "1");
            Path broken = Files.createDirectories(root.resolve("broken/1"));
            Files.writeString(
                    broken.getParent().resolve("config.pbtxt"),
                    "name: \"broken\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_sise: 4\n");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String generatorManifest() {
        return """
        { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR", "pairedEncoder": "toy-encoder",
          "latent": { "dimension": 8, "prior": "PRIOR_STANDARD_NORMAL" },
          "image": { "width": 16, "height": 16, "channels": 3, "valueMin": -1, "valueMax": 1 },
          "features": [ { "name": "feat_4", "channels": 8, "stride": 4 },
                        { "name": "feat_2", "channels": 4, "stride": 2 } ] }
        """;
    }

    private static void model(Path root, String name, String input, String output, String manifest, String... versions)
            throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.writeString(dir.resolve("config.pbtxt"), """
        name: "%s"
        platform: "onnxruntime_onnx"
        max_batch_size: 64
        input [ { name: "%s" data_type: TYPE_FP32 dims: [ -1 ] } ]
        output [ { name: "%s" data_type: TYPE_FP32 dims: [ -1 ] } ]
        """.formatted(name, input, output));
        Files.writeString(dir.resolve("genaug.json"), manifest);
        for (String v : versions) {
            Files.createDirectories(dir.resolve(v));
        }
    }

    @Override
    public Map<String, String> start() {
        root = write();
        return Map.of("genaug.models.repository", root.toString());
    }

    @Override
    public void stop() {
        deleteTree(root);
    }

    /** Deletes a temporary repository written by a test resource; null is nothing to delete. */
    static void deleteTree(Path root) {
        if (root != null) {
            Trees.delete(root);
        }
    }
}
