package dev.genaug.domain.repository;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a {@code genaug.json} manifest (protobuf JSON of genaug.model.v1.ModelManifest). */
public final class ManifestParser {
    /** The only manifest format this build understands. */
    public static final int FORMAT_VERSION = 1;

    private ManifestParser() {}

    public static ModelManifest parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ModelRepositoryException(file, 0, "cannot read: " + e.getMessage(), e);
        }
        ModelManifest.Builder builder = ModelManifest.newBuilder();
        try {
            // The default parser rejects unknown fields.
            JsonFormat.parser().merge(text, builder);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelRepositoryException(file, 0, e.getMessage(), e);
        }
        ModelManifest manifest = builder.build();
        if (manifest.getFormatVersion() != FORMAT_VERSION) {
            throw new ModelRepositoryException(
                    file, 0, "formatVersion must be " + FORMAT_VERSION + ", got " + manifest.getFormatVersion(), null);
        }
        if (manifest.getRole() == ModelRole.MODEL_ROLE_UNSPECIFIED) {
            throw new ModelRepositoryException(file, 0, "role must be set", null);
        }
        if ((manifest.getRole() == ModelRole.MODEL_ROLE_GENERATOR || manifest.getRole() == ModelRole.MODEL_ROLE_ENCODER)
                && manifest.getLatent().getDimension() < 1) {
            throw new ModelRepositoryException(
                    file, 0, "latent.dimension must be >= 1 for a " + manifest.getRole(), null);
        }
        return manifest;
    }
}
