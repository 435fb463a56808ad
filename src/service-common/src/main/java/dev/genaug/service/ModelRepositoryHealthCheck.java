package dev.genaug.service;

import dev.genaug.domain.repository.ModelEntry;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the model repository has been read. Broken model folders do not make the service
 * unready (the others still serve); they are listed so an operator sees them.
 */
@Readiness
@ApplicationScoped
public class ModelRepositoryHealthCheck implements HealthCheck {
    @Inject
    ModelRepository repository;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("model-repository")
                .up()
                .withData("root", repository.root().toString())
                .withData("models", repository.models().size());
        for (ModelEntry m : repository.models()) {
            b.withData(
                    "model." + m.name(),
                    m.problem().map(p -> "unavailable: " + p).orElse("ok, versions " + m.versions()));
        }
        return b.build();
    }
}
