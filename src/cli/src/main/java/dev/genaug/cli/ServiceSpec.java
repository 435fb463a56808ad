package dev.genaug.cli;

import java.nio.file.Path;
import java.util.List;

/** One service of the stack: its name, its default port offset and where its jar is built. */
record ServiceSpec(String name, int portOffset) {
    /** In start order: the gateway last, so it is ready when everything behind it is. */
    static final List<ServiceSpec> ALL = List.of(
            new ServiceSpec("encoder", 1),
            new ServiceSpec("sampler", 2),
            new ServiceSpec("generator", 3),
            new ServiceSpec("labeller", 4),
            new ServiceSpec("gateway", 0));

    Path jar(Path root) {
        return root.resolve("services").resolve(name).resolve("target/quarkus-app/quarkus-run.jar");
    }
}
