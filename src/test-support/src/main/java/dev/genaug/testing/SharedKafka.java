package dev.genaug.testing;

import dev.genaug.kafka.EmbeddedKafkaBroker;
import dev.genaug.kafka.ProjectFiles;
import dev.genaug.kafka.TopicDefinitions;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * One real Kafka broker per test JVM, started on first use, with the topics of deploy/kafka
 * created, and stopped when the JVM exits. Which broker is chosen by the system property
 * {@code genaug.test.kafka}: {@code embedded} (an in-JVM KRaft broker), {@code container} (a
 * Testcontainers broker; needs a Docker engine) or {@code auto}, the default: the container
 * where a Docker engine answers, the embedded broker everywhere else.
 */
public final class SharedKafka {
    /** The Apache Kafka image used where Docker exists; the same version as the clients. */
    public static final String IMAGE = "apache/kafka:4.2.1";

    private static String bootstrapServers;
    private static String kind;

    private SharedKafka() {}

    /** host:port of the shared broker, starting it if needed. */
    public static synchronized String bootstrapServers() {
        if (bootstrapServers == null) {
            start();
        }
        return bootstrapServers;
    }

    /** "embedded" or "container": which broker serves this JVM. */
    public static synchronized String kind() {
        bootstrapServers();
        return kind;
    }

    private static void start() {
        String mode = System.getProperty("genaug.test.kafka", "auto");
        boolean container = switch (mode) {
            case "container" -> true;
            case "embedded" -> false;
            case "auto" -> DockerClientFactory.instance().isDockerAvailable();
            default ->
                throw new IllegalArgumentException(
                        "genaug.test.kafka must be auto, embedded or container, got " + mode);
        };
        TopicDefinitions topics = ProjectFiles.topics();
        if (container) {
            KafkaContainer kafka = new KafkaContainer(IMAGE);
            kafka.start();
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::stop, "kafka-container-stop"));
            bootstrapServers = kafka.getBootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
                topics.apply(admin, (short) 1);
            }
            kind = "container";
        } else {
            EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
            Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "kafka-embedded-stop"));
            broker.createTopics(topics);
            bootstrapServers = broker.bootstrapServers();
            kind = "embedded";
        }
    }
}
