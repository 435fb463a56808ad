package dev.genaug.generator;

import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ServiceInfrastructureContract;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;

@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class GeneratorInfrastructureTest extends ServiceInfrastructureContract {
    @Override
    protected List<String> grpcServices() {
        return List.of("genaug.generator.v1.GeneratorService");
    }
}
