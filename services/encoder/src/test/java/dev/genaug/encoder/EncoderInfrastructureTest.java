package dev.genaug.encoder;

import dev.genaug.testing.ServiceInfrastructureContract;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;

@QuarkusTest
class EncoderInfrastructureTest extends ServiceInfrastructureContract {
    @Override
    protected List<String> grpcServices() {
        return List.of("genaug.encoder.v1.EncoderService");
    }
}
