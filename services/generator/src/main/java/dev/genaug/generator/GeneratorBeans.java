package dev.genaug.generator;

import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class GeneratorBeans {
    @Produces
    @Singleton
    Generation generation(ModelRepository repository, GeneratorConfig config) {
        return new Generation(repository, config.maxBatch());
    }
}
