package dev.genaug.encoder;

import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class EncoderBeans {
    @Produces
    @Singleton
    Encoding encoding(ModelRepository repository, EncoderConfig config) {
        return new Encoding(repository, config.maxImages());
    }
}
