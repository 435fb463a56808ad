package dev.genaug.sampler;

import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same contract against the packaged application (quarkus-run.jar in its own process). */
@QuarkusIntegrationTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class SamplerPackagedIT extends SamplerInfrastructureTest {}
