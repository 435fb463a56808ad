package dev.genaug.domain.repository;

import dev.genaug.api.inference.ModelConfig;
import dev.genaug.api.model.v1.ModelManifest;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedSet;

/**
 * One model folder of the repository. A folder whose files do not parse is still listed, with
 * {@link #problem()} saying why it cannot serve (as Triton marks it UNAVAILABLE).
 *
 * @param config null when {@link #problem()} is present
 * @param manifest the genaug.json, absent for a plain Triton model
 * @param versions numeric version folders, ascending
 * @param versionManifests a version's own genaug.json (in its folder), which overrides the model's
 *     for that version: labellers registered by training carry their measured figures there
 */
public record ModelEntry(
        String name,
        Path directory,
        ModelConfig config,
        Optional<ModelManifest> manifest,
        SortedSet<Long> versions,
        java.util.Map<Long, ModelManifest> versionManifests,
        Optional<String> problem) {

    public boolean usable() {
        return problem.isEmpty();
    }
}
