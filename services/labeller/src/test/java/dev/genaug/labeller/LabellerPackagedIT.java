package dev.genaug.labeller;

import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same contract against the packaged application (quarkus-run.jar in its own process). */
@QuarkusIntegrationTest
@QuarkusTestResource(value = ToyModelRepository.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(KafkaTestResource.class)
class LabellerPackagedIT extends LabellerInfrastructureTest {}
