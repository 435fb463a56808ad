package dev.genaug.generator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the generator service. */
@ConfigMapping(prefix = "genaug.generator")
public interface GeneratorConfig {
    /** Most latents one Generate call may carry (RESOURCE_EXHAUSTED above; GenerateStream has no cap). */
    @WithDefault("1024")
    int maxBatch();
}
