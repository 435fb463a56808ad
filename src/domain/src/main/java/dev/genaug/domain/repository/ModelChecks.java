package dev.genaug.domain.repository;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.FailedPreconditionException;

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

    private static String withArticle(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }

    public static String roleName(ModelRole role) {
        return role.name().replace("MODEL_ROLE_", "").toLowerCase(java.util.Locale.ROOT);
    }
}
