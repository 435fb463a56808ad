package dev.genaug.testing;

import dev.genaug.kafka.ProjectFiles;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points a service under test at the committed reference model (deploy/model-repository) by
 * absolute path; needed where the application does not run with the test profile (packaged-jar
 * integration tests run in the module's folder with the prod profile).
 */
public final class ReferenceModels implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        return Map.of(
                "genaug.models.repository",
                ProjectFiles.resolve("deploy/model-repository").toString());
    }

    @Override
    public void stop() {}
}
