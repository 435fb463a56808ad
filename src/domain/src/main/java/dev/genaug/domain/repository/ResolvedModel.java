package dev.genaug.domain.repository;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.inference.ModelConfig;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.domain.error.FailedPreconditionException;
import java.nio.file.Path;

/** A usable model at one concrete version. */
public record ResolvedModel(ModelEntry entry, long version) {

    public String name() {
        return entry.name();
    }

    /** The reference naming this version, for responses and provenance. */
    public ModelRef ref() {
        return ModelRef.newBuilder()
                .setName(name())
                .setVersion(Long.toString(version))
                .build();
    }

    public ModelConfig config() {
        return entry.config();
    }

    /** The version folder, where e.g. {@code model.onnx} lives. */
    public Path versionDirectory() {
        return entry.directory().resolve(Long.toString(version));
    }

    /** The model file of this version: the config's default_model_filename, else model.onnx. */
    public Path modelFile() {
        String name = config().getDefaultModelFilename();
        return versionDirectory().resolve(name.isEmpty() ? "model.onnx" : name);
    }

    /** The manifest, or FAILED_PRECONDITION when the model has none. */
    public ModelManifest manifest() {
        return manifestIfAny()
                .orElseThrow(() -> new FailedPreconditionException("model '" + name() + "' has no "
                        + ModelRepository.MANIFEST_FILE + ": genaug cannot tell its latent space or image format"));
    }

    /** The version's own manifest, else the model's; empty when it has none (e.g. a staged scratch model). */
    public java.util.Optional<ModelManifest> manifestIfAny() {
        ModelManifest own = entry.versionManifests().get(version);
        return own != null ? java.util.Optional.of(own) : entry.manifest();
    }
}
