package dev.genaug.labeller;

import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class LabellerBeans {
    @Produces
    @Singleton
    Labelling labelling(ModelRepository repository) {
        return new Labelling(repository);
    }
}
