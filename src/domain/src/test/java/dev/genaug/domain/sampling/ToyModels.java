package dev.genaug.domain.sampling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the repository entry of a model that a test's analytic backend answers for. */
final class ToyModels {
    private ToyModels() {}

    /**
     * A generator "toy-generator": z [d] -> image [3, 1, width] with values in [-10, 10] (8-bit
     * quantisation steps of 0.08).
     */
    static void generator(Path root, int dimension, int width) throws IOException {
        write(root, "toy-generator", """
                name: "toy-generator"
                platform: "onnxruntime_onnx"
                max_batch_size: 0
                input [ { name: "z" data_type: TYPE_FP32 dims: [ -1, %d ] } ]
                output [ { name: "image" data_type: TYPE_FP32 dims: [ -1, 3, 1, %d ] } ]
                """.formatted(dimension, width), """
                { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR",
                  "latent": { "dimension": %d, "prior": "PRIOR_STANDARD_NORMAL" },
                  "image": { "width": %d, "height": 1, "channels": 3, "valueMin": -10, "valueMax": 10 } }
                """.formatted(dimension, width));
    }

    /** {@code root/name} with its Triton config, its genaug manifest and an empty version 1. */
    static void write(Path root, String name, String config, String manifest) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.writeString(dir.resolve("config.pbtxt"), config);
        Files.writeString(dir.resolve("genaug.json"), manifest);
        Files.createDirectories(dir.resolve("1"));
    }
}
