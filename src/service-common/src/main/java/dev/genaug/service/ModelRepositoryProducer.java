package dev.genaug.service;

import dev.genaug.domain.repository.ModelEntry;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/** The model repository, read once at start-up. */
public class ModelRepositoryProducer {
    private static final Logger LOG = Logger.getLogger(ModelRepositoryProducer.class);

    @Produces
    @Singleton
    ModelRepository modelRepository(ModelRepositoryConfig config) {
        Path root = Path.of(config.repository()).toAbsolutePath().normalize();
        ModelRepository repository = ModelRepository.open(root);
        LOG.infof("model repository %s: %d models", root, repository.models().size());
        for (ModelEntry m : repository.models()) {
            m.problem().ifPresent(p -> LOG.warnf("model %s is unavailable: %s", m.name(), p));
        }
        return repository;
    }
}
