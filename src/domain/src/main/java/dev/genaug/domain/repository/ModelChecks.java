package dev.genaug.domain.repository;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.NotFoundException;

/** Resolving a model reference of a request and checking that the model can play its role. */
public final class ModelChecks {
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
     * The model a manifest names as its pair (a generator's encoder, an encoder's generator),
     * checked for its role.
     *
     * @param pairName the name the manifest gives (empty: none)
     * @param field the request field that needs the pair, named when there is none
     * @param purpose what the pair is needed for, for that message
     */
    public static ResolvedModel requirePair(
            ModelRepository repository,
            ResolvedModel model,
            String pairName,
            ModelRole role,
            String field,
            String purpose) {
        if (pairName.isEmpty()) {
            throw new dev.genaug.domain.error.InvalidArgumentException(
                    field, "model '" + model.name() + "' names no paired " + roleName(role) + " " + purpose);
        }
        return require(
                repository,
                ModelRef.newBuilder().setName(pairName).build(),
                role,
                "model (its paired " + roleName(role) + ")");
    }

    private static String withArticle(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }

    public static String roleName(ModelRole role) {
        return role.name().replace("MODEL_ROLE_", "").toLowerCase(java.util.Locale.ROOT);
    }
}
