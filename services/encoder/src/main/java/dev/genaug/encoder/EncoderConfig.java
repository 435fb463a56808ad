package dev.genaug.encoder;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the encoder service. */
@ConfigMapping(prefix = "genaug.encoder")
public interface EncoderConfig {
    /** Most images one Encode request may carry (RESOURCE_EXHAUSTED above). */
    @WithDefault("256")
    int maxImages();
}
