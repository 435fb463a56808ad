package dev.genaug.labeller;

import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.ServiceInfrastructureContract;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;

@QuarkusTest
@QuarkusTestResource(value = ToyModelRepository.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(KafkaTestResource.class)
class LabellerInfrastructureTest extends ServiceInfrastructureContract {
    @Override
    protected List<String> grpcServices() {
        return List.of("genaug.labeller.v1.LabellerService");
    }
}
