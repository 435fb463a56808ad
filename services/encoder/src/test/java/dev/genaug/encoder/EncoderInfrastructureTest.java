package dev.genaug.encoder;

import dev.genaug.testing.ServiceInfrastructureContract;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;

@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
class EncoderInfrastructureTest extends ServiceInfrastructureContract {
    @Override
    protected List<String> grpcServices() {
        return List.of("genaug.encoder.v1.EncoderService");
    }
}
