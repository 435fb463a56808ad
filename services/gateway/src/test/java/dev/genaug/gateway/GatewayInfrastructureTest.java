package dev.genaug.gateway;

import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ServiceInfrastructureContract;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;

@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class GatewayInfrastructureTest extends ServiceInfrastructureContract {
    @Override
    protected List<String> grpcServices() {
        return List.of("genaug.gateway.v1.AugmentService", "genaug.gateway.v1.DatasetService");
    }
}
