package dev.genaug.encoder;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same contract against the packaged application (quarkus-run.jar in its own process). */
@QuarkusIntegrationTest
class EncoderPackagedIT extends EncoderInfrastructureTest {}
