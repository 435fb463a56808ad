package dev.genaug.generator;

import dev.genaug.testing.KafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same contract against the packaged application (quarkus-run.jar in its own process). */
@QuarkusIntegrationTest
@QuarkusTestResource(KafkaTestResource.class)
class GeneratorPackagedIT extends GeneratorInfrastructureTest {}
