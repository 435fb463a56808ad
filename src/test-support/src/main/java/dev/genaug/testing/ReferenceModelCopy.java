package dev.genaug.testing;

import dev.genaug.domain.files.Trees;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A writable copy of the reference models (deploy/model-repository without its labellers), for
 * tests that register models. As a Quarkus test resource it sets {@code genaug.models.repository}.
 */
public final class ReferenceModelCopy implements QuarkusTestResourceLifecycleManager {
    private Path root;

    /** The checkout's deploy/model-repository, found from the working directory up. */
    public static Path source() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/model-repository"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no deploy/model-repository above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("deploy/model-repository");
    }

    /** Copies shapes-generator, shapes-encoder and shapes-classifier into a new temporary folder. */
    public static Path write() {
        try {
            Path target = Files.createTempDirectory("reference-models");
            for (String model : new String[] {"shapes-generator", "shapes-encoder", "shapes-classifier"}) {
                Trees.copy(source().resolve(model), target.resolve(model));
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, String> start() {
        root = write();
        return Map.of("genaug.models.repository", root.toString());
    }

    @Override
    public void stop() {
        ToyModelRepository.deleteTree(root);
    }
}
