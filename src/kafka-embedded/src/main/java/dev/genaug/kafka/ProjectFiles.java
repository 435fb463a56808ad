package dev.genaug.kafka;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds files of the genaug checkout (or install) from wherever a process runs: the system
 * property {@code genaug.root}, the environment variable {@code GENAUG_ROOT}, or the nearest
 * ancestor of the working directory that holds {@code deploy/}.
 */
public final class ProjectFiles {
    public static final String TOPICS = "deploy/kafka/topics.yaml";

    private ProjectFiles() {}

    public static Optional<Path> root() {
        String configured = System.getProperty("genaug.root", System.getenv("GENAUG_ROOT"));
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured).toAbsolutePath().normalize());
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(TOPICS))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** A file below the root; fails with a message saying how to point at the root. */
    public static Path resolve(String relative) {
        Path root = root().orElseThrow(() -> new IllegalStateException(
                "cannot find the genaug root (a folder holding " + TOPICS + "): set GENAUG_ROOT or -Dgenaug.root"));
        Path file = root.resolve(relative);
        if (!Files.exists(file)) {
            throw new IllegalStateException(file + " does not exist (genaug root: " + root + ")");
        }
        return file;
    }

    /** The topic definitions of this checkout. */
    public static TopicDefinitions topics() {
        return TopicDefinitions.load(resolve(TOPICS));
    }
}
