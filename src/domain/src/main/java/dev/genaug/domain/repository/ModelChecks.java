package dev.genaug.domain.repository;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import java.util.ArrayList;
import java.util.List;

/** Resolving a model reference of a request and checking that the model can play its role. */
public final class ModelChecks {
    private static final ModelHashes MODEL_FILES = new ModelHashes();

    private ModelChecks() {}

    /**
     * Resolves {@code ref} and checks its manifest declares {@code role}.
     *
     * @param field request field of the reference, named in errors
     */
    public static ResolvedModel require(ModelRepository repository, ModelRef ref, ModelRole role, String field) {
        ResolvedModel model = repository.resolve(ref.getName(), ref.getVersion(), field);
        ModelRole actual = model.manifest().getRole();
        if (actual != role) {
            throw new FailedPreconditionException(field + ": model '" + model.name() + "' is "
                    + withArticle(roleName(actual)) + ", not " + withArticle(roleName(role)));
        }
        return model;
    }

    /**
     * A labeller, checked to label the named generator.
     *
     * @param generator the generator it must belong to; empty accepts the labeller's own
     * @param generatorField request field named when the labeller belongs to another generator
     */
    public static ResolvedModel requireLabellerOf(
            ModelRepository repository,
            ModelRef labeller,
            String labellerField,
            String generator,
            String generatorField) {
        ResolvedModel model = require(repository, labeller, ModelRole.MODEL_ROLE_LABELLER, labellerField);
        String own = model.manifest().getPairedGenerator();
        if (!generator.isEmpty() && !generator.equals(own)) {
            throw new FailedPreconditionException(generatorField + ": labeller '" + model.name() + "' was trained for '"
                    + own + "', not for '" + generator + "'");
        }
        return model;
    }

    /** A labeller and the generator version whose features it reads. */
    public record LabelledPair(ResolvedModel generator, ResolvedModel labeller) {}

    /**
     * A labeller and its generator, at the generator version the labeller was trained on: that
     * version when {@code generator} names none, and a refusal when it names another (another
     * version's feature maps mean something else, so its labels would be wrong without an error).
     *
     * @param generator the generator requested; an empty name accepts the labeller's own
     * @throws FailedPreconditionException naming {@code labellerField} for a labeller of another
     *     generator, {@code generatorField + ".version"} for another version of its generator
     */
    public static LabelledPair requireLabelledPair(
            ModelRepository repository,
            ModelRef generator,
            String generatorField,
            ModelRef labeller,
            String labellerField) {
        if (!generator.getName().isEmpty()) {
            // An unknown or misnamed generator is reported as such, before what the labeller says of it.
            require(repository, generator, ModelRole.MODEL_ROLE_GENERATOR, generatorField);
        }
        ResolvedModel l = requireLabellerOf(repository, labeller, labellerField, generator.getName(), labellerField);
        String trained = l.manifest().getPairedGeneratorVersion();
        ModelRef own = ModelRef.newBuilder()
                .setName(l.manifest().getPairedGenerator())
                .setVersion(generatorVersionFor(l, generator.getVersion()))
                .build();
        ResolvedModel g;
        try {
            g = require(repository, own, ModelRole.MODEL_ROLE_GENERATOR, generatorField);
        } catch (NotFoundException e) {
            if (!generator.getVersion().isEmpty() || trained.isEmpty()) {
                throw e;
            }
            // The caller named no version: the missing one is the labeller's, which says so.
            throw new FailedPreconditionException(labellerField + ": labeller '" + l.name() + "' version "
                    + l.version() + " was trained on '" + own.getName() + "' version " + trained
                    + ", which is no longer in the model repository (" + e.getMessage()
                    + "): train the labeller again on a version it has");
        }
        if (!trained.isEmpty() && !trained.equals(Long.toString(g.version()))) {
            throw new FailedPreconditionException(generatorField + ".version: labeller '" + l.name() + "' version "
                    + l.version() + " was trained on '" + g.name() + "' version " + trained + ", not version "
                    + g.version() + ": leave the version empty to use " + trained + ", or train the labeller again on"
                    + " version " + g.version());
        }
        String file = l.manifest().getPairedGeneratorSha256();
        String now = file.isEmpty() ? "" : modelSha256(g, generatorField);
        if (!file.isEmpty() && !file.equals(now)) {
            throw new FailedPreconditionException(labellerField + ": labeller '" + l.name() + "' version "
                    + l.version() + " was trained on another model file of '" + g.name() + "' version " + g.version()
                    + " (SHA-256 " + abbreviated(file) + ", now " + abbreviated(now)
                    + "): the version was exported again under the same number; train the labeller again");
        }
        return new LabelledPair(g, l);
    }

    /**
     * The generator version a labeller reads: the one requested, or when none is, the version it
     * was trained on (empty, the latest, for a labeller that does not record one).
     */
    public static String generatorVersionFor(ResolvedModel labeller, String requested) {
        return requested.isEmpty() ? labeller.manifest().getPairedGeneratorVersion() : requested;
    }

    /**
     * The encoder that inverts a generator version: the newest version of the generator's paired
     * encoder that records that generator version (ModelManifest.paired_generator_version) or
     * records none. Another version's encoder gives latents that decode to other pictures.
     *
     * @param field the request field that needs the encoder, named in errors
     * @param purpose what the encoder is needed for, for the message when the generator has none
     * @throws InvalidArgumentException naming {@code field} when the generator names no encoder
     * @throws FailedPreconditionException naming {@code field} when no version of the encoder
     *     inverts this generator version
     */
    public static ResolvedModel requireEncoderOf(
            ModelRepository repository, ResolvedModel generator, String field, String purpose) {
        String name = pairName(generator, generator.manifest().getPairedEncoder(), "encoder", field, purpose);
        ResolvedModel latest = require(
                repository,
                ModelRef.newBuilder().setName(name).build(),
                ModelRole.MODEL_ROLE_ENCODER,
                "model (its paired encoder)");
        String wanted = Long.toString(generator.version());
        List<String> others = new ArrayList<>();
        for (long v : latest.entry().versions().reversed()) {
            ResolvedModel candidate = new ResolvedModel(latest.entry(), v);
            ModelManifest manifest = candidate.manifest();
            String inverts = manifest.getPairedGeneratorVersion();
            if (manifest.getRole() != ModelRole.MODEL_ROLE_ENCODER) {
                others.add("version " + v + " is " + withArticle(roleName(manifest.getRole())));
            } else if (inverts.isEmpty() || inverts.equals(wanted)) {
                requireSameLatentSpace(candidate, generator, field);
                return candidate;
            } else {
                others.add("version " + v + " inverts version " + inverts);
            }
        }
        throw new FailedPreconditionException(field + ": no version of encoder '" + name + "' inverts '"
                + generator.name() + "' version " + wanted + " (" + String.join(", ", others.reversed())
                + "): add the encoder exported with that generator version as a version of '" + name + "'");
    }

    /**
     * The generator an encoder inverts, at the version it records (the latest when it records
     * none): the one to decode its latents with.
     *
     * @param field the request field that needs the generator, named in errors
     * @param purpose what the generator is needed for, for the message when the encoder has none
     */
    public static ResolvedModel requireGeneratorOf(
            ModelRepository repository, ResolvedModel encoder, String field, String purpose) {
        String name = pairName(encoder, encoder.manifest().getPairedGenerator(), "generator", field, purpose);
        String version = encoder.manifest().getPairedGeneratorVersion();
        ResolvedModel generator;
        try {
            generator = require(
                    repository,
                    ModelRef.newBuilder().setName(name).setVersion(version).build(),
                    ModelRole.MODEL_ROLE_GENERATOR,
                    "model (its paired generator)");
        } catch (NotFoundException e) {
            if (version.isEmpty()) {
                throw e;
            }
            throw new FailedPreconditionException(field + ": encoder '" + encoder.name() + "' version "
                    + encoder.version() + " inverts '" + name + "' version " + version
                    + ", which is not in the model repository (" + e.getMessage() + ")");
        }
        requireSameLatentSpace(encoder, generator, field);
        return generator;
    }

    private static void requireSameLatentSpace(ResolvedModel encoder, ResolvedModel generator, String field) {
        int e = encoder.manifest().getLatent().getDimension();
        int g = generator.manifest().getLatent().getDimension();
        if (e != g) {
            throw new FailedPreconditionException(field + ": encoder '" + encoder.name() + "' version "
                    + encoder.version() + " gives latents of dimension " + e + ", '" + generator.name()
                    + "' version " + generator.version() + " takes " + g);
        }
    }

    /** The name a manifest gives its pair, or INVALID_ARGUMENT naming {@code field} when it gives none. */
    private static String pairName(ResolvedModel model, String name, String pairRole, String field, String purpose) {
        if (name.isEmpty()) {
            throw new InvalidArgumentException(
                    field, "model '" + model.name() + "' names no paired " + pairRole + " " + purpose);
        }
        return name;
    }

    /**
     * Hex SHA-256 of a model version's file, hashed once per file version in this process.
     *
     * @param field the request field naming the model, named when the file cannot be read
     * @throws FailedPreconditionException when the file cannot be read (a version folder without it)
     */
    public static String modelSha256(ResolvedModel model, String field) {
        try {
            return MODEL_FILES.sha256(model);
        } catch (java.io.UncheckedIOException e) {
            throw new FailedPreconditionException(
                    field + ": model '" + model.name() + "' version " + model.version()
                            + ": cannot read its model file "
                            + model.modelFile().getFileName() + " ("
                            + e.getCause().getClass().getSimpleName() + ")",
                    e);
        }
    }

    private static String abbreviated(String sha256) {
        return sha256.length() > 12 ? sha256.substring(0, 12) + "..." : sha256;
    }

    private static String withArticle(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }

    public static String roleName(ModelRole role) {
        return role.name().replace("MODEL_ROLE_", "").toLowerCase(java.util.Locale.ROOT);
    }
}
