package dev.genaug.domain.repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest())) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of()
                    .formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
