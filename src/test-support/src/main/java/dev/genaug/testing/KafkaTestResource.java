package dev.genaug.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Quarkus test resource: points the application at the {@link SharedKafka} broker. The broker
 * outlives the resource (it is shared by every test class of the JVM and stops with it).
 */
public final class KafkaTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", SharedKafka.bootstrapServers());
    }

    @Override
    public void stop() {
        // Shared across test classes; stopped by a JVM shutdown hook.
    }
}
