package dev.genaug.domain.labelling;

import dev.genaug.domain.files.Trees;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * An exported labeller not yet registered, in a hidden one-model repository beside the real one
 * (ignored by every scan), so the inference backend can run it before registration. Its name is
 * unique, so no backend confuses it with a registered model.
 */
public record ScratchLabeller(Path root, ResolvedModel model) implements AutoCloseable {
    public static ScratchLabeller stage(Path repositoryRoot, byte[] onnx) {
        Path root = repositoryRoot.resolve(".scratch-" + UUID.randomUUID());
        String name = "scratch-" + UUID.randomUUID();
        try {
            Path dir = root.resolve(name);
            Files.createDirectories(dir.resolve("1"));
            Files.write(dir.resolve("1").resolve("model.onnx"), onnx);
            Files.writeString(
                    dir.resolve(ModelRepository.CONFIG_FILE),
                    "name: \"" + name + "\"\nplatform: \"onnxruntime_onnx\"\n");
            return new ScratchLabeller(root, ModelRepository.open(root).resolve(name, "", "labeller"));
        } catch (IOException e) {
            Trees.delete(root);
            throw new UncheckedIOException("cannot stage a labeller under " + repositoryRoot, e);
        }
    }

    @Override
    public void close() {
        Trees.delete(root);
    }
}
