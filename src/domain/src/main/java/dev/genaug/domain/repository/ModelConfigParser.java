package dev.genaug.domain.repository;

import com.google.protobuf.TextFormat;
import dev.genaug.api.inference.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads Triton's {@code config.pbtxt} (protobuf text format of {@code inference.ModelConfig}).
 * Strict: an unknown field or enum value fails with the line named, because Triton would reject
 * the same file on a GPU node long after our tests passed.
 */
public final class ModelConfigParser {
    private static final TextFormat.Parser PARSER =
            TextFormat.Parser.newBuilder().setAllowUnknownFields(false).build();

    private ModelConfigParser() {}

    public static ModelConfig parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ModelRepositoryException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        return parse(text, file);
    }

    public static ModelConfig parse(String text, Path file) {
        ModelConfig.Builder builder = ModelConfig.newBuilder();
        try {
            PARSER.merge(text, builder);
        } catch (TextFormat.ParseException e) {
            throw new ModelRepositoryException(file, e.getLine(), e.getMessage(), e);
        }
        ModelConfig config = builder.build();
        if (config.getPlatform().isEmpty() && config.getBackend().isEmpty()) {
            throw new ModelRepositoryException(file, 0, "sets neither platform nor backend", null);
        }
        return config;
    }
}
