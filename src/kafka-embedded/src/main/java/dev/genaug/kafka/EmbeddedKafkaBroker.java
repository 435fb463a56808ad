package dev.genaug.kafka;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real Kafka broker (KRaft, one combined broker+controller node) running in this JVM, on a free
 * loopback port, with its log in a temporary folder that is deleted on close. It is Apache Kafka's
 * own KafkaClusterTestKit, configured so that a single node behaves like a cluster: internal
 * topics with replication factor 1 (without that, consumer groups never receive anything) and no
 * initial rebalance delay. Topics are never created implicitly: they come from
 * {@link TopicDefinitions}.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    /** Largest record the broker accepts, matching the image topics' max.message.bytes. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafkaBroker(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /**
     * Formats storage, starts the node and waits until the broker accepts clients (about 2 s). Its
     * data lives in a new temporary folder, deleted on {@link #close()}.
     */
    public static EmbeddedKafkaBroker start() {
        try {
            return start(Files.createTempDirectory("genaug-kafka-"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create the broker's data folder", e);
        }
    }

    /**
     * As {@link #start()}, with the data in {@code dataDirectory}, deleted on {@link #close()}. The
     * folder is always ours: left to itself, the test kit would create a temporary one and delete it
     * from a JVM shutdown hook of its own, which can run while the broker is still up (for example
     * while another hook stops it) and make the broker halt the JVM.
     */
    public static EmbeddedKafkaBroker start(Path dataDirectory) {
        KafkaClusterTestKit cluster = null;
        try {
            TestKitNodes.Builder nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(Files.createDirectories(dataDirectory));
            cluster = new KafkaClusterTestKit.Builder(nodes.build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "5")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
                    .setConfigProp("share.coordinator.state.topic.min.isr", "1")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("auto.create.topics.enable", "false")
                    .setConfigProp("message.max.bytes", Integer.toString(MAX_MESSAGE_BYTES))
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafkaBroker(cluster);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(cluster);
            throw new IllegalStateException("interrupted while starting the embedded Kafka broker", e);
        } catch (Exception e) {
            closeQuietly(cluster);
            throw new IllegalStateException("cannot start the embedded Kafka broker: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception ignored) {
                // Start-up already failed; that error is the one worth reporting.
            }
        }
    }

    /** host:port of the broker, for bootstrap.servers. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** An admin client for this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Creates the given topics (replication factor 1, the only one a single node can hold). */
    public void createTopics(TopicDefinitions definitions) {
        try (Admin admin = admin()) {
            definitions.apply(admin, (short) 1);
        }
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the embedded Kafka broker cleanly", e);
        }
    }
}
