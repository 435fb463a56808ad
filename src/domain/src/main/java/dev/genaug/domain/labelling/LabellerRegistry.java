package dev.genaug.domain.labelling;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.repository.ModelEntry;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Registers a trained labeller in the model repository, in Triton's layout:
 *
 * <pre>
 *   &lt;name&gt;/config.pbtxt            ONNX Runtime model reading the generator's outputs
 *   &lt;name&gt;/genaug.json             manifest of the newest version
 *   &lt;name&gt;/&lt;v&gt;/model.onnx        the ensemble, first layer at native resolution
 *   &lt;name&gt;/&lt;v&gt;/genaug.json         this version's manifest (its quantiles and figures)
 *   &lt;name&gt;-pipeline/config.pbtxt   Triton ensemble "generator -> labeller" (z in, labels out)
 * </pre>
 *
 * Every file is written under a hidden staging folder first and published by renames, the version
 * folder last but one, so a failure at any point leaves no usable half of a labeller: the
 * repository ignores hidden folders and version folders appear whole.
 */
public final class LabellerRegistry {
    public static final String PIPELINE_SUFFIX = "-pipeline";
    private static final Object LOCK = new Object();

    private LabellerRegistry() {}

    /**
     * @return the registered version, resolved from the rescanned repository
     * @throws FailedPreconditionException when the name is taken by a model that is not a labeller
     *     of the same generator and classes
     */
    public static ResolvedModel register(
            ModelRepository repository, String name, byte[] onnx, ModelManifest manifest, ResolvedModel generator) {
        synchronized (LOCK) {
            repository.rescan();
            Optional<ModelEntry> existing = repository.find(name);
            existing.ifPresent(e -> requireCompatible(e, manifest));
            Path root = repository.root();
            Path staging = root.resolve(".staging-" + UUID.randomUUID());
            try {
                Files.createDirectories(root);
                Path version = staging.resolve("version");
                Files.createDirectories(version);
                Files.write(version.resolve("model.onnx"), onnx);
                String json = JsonFormat.printer().print(manifest) + "\n";
                Files.writeString(version.resolve(ModelRepository.MANIFEST_FILE), json);
                Path pipeline = staging.resolve("pipeline");
                Files.createDirectories(pipeline.resolve("1"));
                Files.writeString(pipeline.resolve("config.pbtxt"), pipelineConfig(name, generator, manifest));
                Files.writeString(pipeline.resolve("1").resolve("README"), "Triton ensembles need a version folder.\n");

                Path model = root.resolve(name);
                long v;
                if (existing.isEmpty()) {
                    // A new model: assemble the whole folder hidden, then publish it with one rename.
                    Path folder = staging.resolve("model");
                    Files.createDirectories(folder);
                    Files.writeString(folder.resolve(ModelRepository.CONFIG_FILE), labellerConfig(name, manifest));
                    Files.writeString(folder.resolve(ModelRepository.MANIFEST_FILE), json);
                    v = 1;
                    Files.move(version, folder.resolve("1"), StandardCopyOption.ATOMIC_MOVE);
                    Files.move(folder, model, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    v = existing.get().versions().isEmpty()
                            ? 1
                            : existing.get().versions().last() + 1;
                    while (true) {
                        try {
                            Files.move(version, model.resolve(Long.toString(v)), StandardCopyOption.ATOMIC_MOVE);
                            break;
                        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                            v++; // another process registered this version meanwhile
                        }
                    }
                    Path tmp = staging.resolve("manifest.json");
                    Files.writeString(tmp, json);
                    Files.move(
                            tmp,
                            model.resolve(ModelRepository.MANIFEST_FILE),
                            StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
                publishPipeline(root.resolve(name + PIPELINE_SUFFIX), pipeline);
                repository.rescan();
                return repository.resolve(name, Long.toString(v), "labeller");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot register labeller '" + name + "' in " + root, e);
            } finally {
                Trees.delete(staging);
            }
        }
    }

    private static void publishPipeline(Path target, Path staged) throws IOException {
        if (Files.isDirectory(target)) {
            Path tmp = staged.resolve("config.pbtxt");
            Files.move(
                    tmp,
                    target.resolve("config.pbtxt"),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /**
     * A new version under an existing name must keep what the name stands for.
     *
     * @throws FailedPreconditionException naming labeller_name otherwise
     */
    static void requireCompatible(ModelEntry entry, ModelManifest manifest) {
        ModelManifest old = entry.manifest().orElse(null);
        if (old == null
                || old.getRole() != manifest.getRole()
                || !old.getPairedGenerator().equals(manifest.getPairedGenerator())
                || !old.getClassNamesList().equals(manifest.getClassNamesList())
                || !old.getFeaturesList().equals(manifest.getFeaturesList())) {
            if (old == null || old.getRole() != manifest.getRole()) {
                String what = old == null ? "a model without a genaug manifest" : "a model of role " + old.getRole();
                throw new FailedPreconditionException("labeller_name: '" + entry.name() + "' is already " + what
                        + ", not a labeller: choose another name");
            }
            throw new FailedPreconditionException("labeller_name: '" + entry.name() + "' is already a labeller of '"
                    + old.getPairedGenerator() + "' with classes " + old.getClassNamesList() + " and "
                    + old.getFeaturesCount() + " inputs; a new version must keep the generator, classes and"
                    + " inputs: choose another name");
        }
    }

    static String labellerConfig(String name, ModelManifest manifest) {
        int h = manifest.getImage().getHeight();
        int w = manifest.getImage().getWidth();
        StringBuilder s = new StringBuilder();
        s.append("# Written by genaug when the labeller was trained: per-pixel labels from the generator's outputs.\n");
        s.append("name: \"").append(name).append("\"\n");
        s.append("platform: \"onnxruntime_onnx\"\n");
        s.append("max_batch_size: 64\n");
        s.append("input [\n");
        List<String> lines = manifest.getFeaturesList().stream()
                .map(f -> "  { name: \"" + f.getName() + "\" data_type: TYPE_FP32 dims: [ " + f.getChannels() + ", "
                        + h / f.getStride() + ", " + w / f.getStride() + " ] }")
                .toList();
        s.append(String.join(",\n", lines)).append("\n]\n");
        s.append(outputs(h, w));
        s.append("instance_group [ { count: 1 kind: KIND_AUTO } ]\n");
        s.append("dynamic_batching { max_queue_delay_microseconds: 500 }\n");
        return s.toString();
    }

    static String pipelineConfig(String name, ResolvedModel generator, ModelManifest manifest) {
        var g = generator.manifest();
        String z = g.getTensorsOrDefault("latent", "z");
        int h = manifest.getImage().getHeight();
        int w = manifest.getImage().getWidth();
        StringBuilder s = new StringBuilder();
        s.append("# Written by genaug: Triton runs the generator and the labeller in one request, so the feature\n");
        s.append("# maps stay on the GPU that made them.\n");
        s.append("name: \"").append(name).append(PIPELINE_SUFFIX).append("\"\n");
        s.append("platform: \"ensemble\"\n");
        s.append("max_batch_size: 64\n");
        s.append("input [ { name: \"")
                .append(z)
                .append("\" data_type: TYPE_FP32 dims: [ ")
                .append(g.getLatent().getDimension())
                .append(" ] } ]\n");
        // The pipeline also returns the generated image, so one request gives a labelled sample.
        String image = g.getTensorsOrDefault("image", "image");
        var spec = g.getImage();
        s.append(outputs(
                h,
                w,
                "  { name: \"" + image + "\" data_type: TYPE_FP32 dims: [ " + spec.getChannels() + ", "
                        + spec.getHeight() + ", " + spec.getWidth() + " ] },\n"));
        s.append("ensemble_scheduling {\n  step [\n");
        s.append("    {\n      model_name: \"").append(generator.name()).append("\"\n      model_version: -1\n");
        s.append("      input_map { key: \"")
                .append(z)
                .append("\" value: \"")
                .append(z)
                .append("\" }\n");
        if (manifest.getFeaturesList().stream().noneMatch(f -> f.getName().equals(image))) {
            s.append("      output_map { key: \"")
                    .append(image)
                    .append("\" value: \"")
                    .append(image)
                    .append("\" }\n");
        }
        for (var f : manifest.getFeaturesList()) {
            s.append("      output_map { key: \"")
                    .append(f.getName())
                    .append("\" value: \"")
                    .append(f.getName())
                    .append("\" }\n");
        }
        s.append("    },\n");
        s.append("    {\n      model_name: \"").append(name).append("\"\n      model_version: -1\n");
        for (var f : manifest.getFeaturesList()) {
            s.append("      input_map { key: \"")
                    .append(f.getName())
                    .append("\" value: \"")
                    .append(f.getName())
                    .append("\" }\n");
        }
        for (String out : List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY)) {
            s.append("      output_map { key: \"")
                    .append(out)
                    .append("\" value: \"")
                    .append(out)
                    .append("\" }\n");
        }
        s.append("    }\n  ]\n}\n");
        return s.toString();
    }

    /** The outputs of the labeller and of its pipeline: per-pixel labels and confidence, and the uncertainty. */
    private static String outputs(int h, int w) {
        return outputs(h, w, "");
    }

    /** @param first an output line put before the labeller's (the pipeline's image), or empty */
    private static String outputs(int h, int w, String first) {
        String map = " data_type: TYPE_FP32 dims: [ " + h + ", " + w + " ] },\n";
        return "output [\n"
                + first
                + "  { name: \"" + LabellerOnnx.LABELS + "\"" + map
                + "  { name: \"" + LabellerOnnx.CONFIDENCE + "\"" + map
                + "  { name: \"" + LabellerOnnx.UNCERTAINTY
                + "\" data_type: TYPE_FP32 dims: [ 1 ] reshape: { shape: [ ] } }\n"
                + "]\n";
    }

    /** Parses a manifest printed by {@link #register} (tests and tools). */
    static ModelManifest parse(String json) throws InvalidProtocolBufferException {
        ModelManifest.Builder b = ModelManifest.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }
}
