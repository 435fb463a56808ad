package dev.genaug.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Where the service finds its models. */
@ConfigMapping(prefix = "genaug.models")
public interface ModelRepositoryConfig {
    /** Model repository folder in Triton layout, relative to the working directory or absolute. */
    @WithDefault("deploy/model-repository")
    String repository();
}
