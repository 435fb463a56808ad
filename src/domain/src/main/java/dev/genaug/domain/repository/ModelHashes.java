package dev.genaug.domain.repository;

import dev.genaug.domain.files.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** SHA-256 of model files, computed once per file version (path, size, modification time). */
public final class ModelHashes {
    private record FileVersion(Path path, long size, long modified) {}

    private final Map<FileVersion, String> cache = new ConcurrentHashMap<>();

    /** Lower-case hex SHA-256 of the model's file. */
    public String sha256(ResolvedModel model) {
        Path file = model.modelFile();
        try {
            FileVersion key = new FileVersion(
                    file, Files.size(file), Files.getLastModifiedTime(file).toMillis());
            return cache.computeIfAbsent(key, k -> hash(k.path()));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    private static String hash(Path file) {
        try {
            return Sha256.of(file);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }
}
