package dev.genaug.cli;

import dev.genaug.kafka.ProjectFiles;
import dev.genaug.kafka.TopicDefinitions;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code genaug topics}: creates (or grows) genaug's topics on any Kafka cluster. */
@Command(
        name = "topics",
        mixinStandardHelpOptions = true,
        description = "Create the topics of deploy/kafka/topics.yaml on a Kafka cluster (never deletes or shrinks).")
final class TopicsCommand implements Callable<Integer> {
    @Option(names = "--kafka", required = true, description = "bootstrap.servers of the cluster.")
    String bootstrap;

    @Option(
            names = "--replication-factor",
            defaultValue = "0",
            description = "Override the file's replication factor (0: keep the file's).")
    short replicationFactor;

    @Option(names = "--file", description = "Topic definitions (default: <root>/deploy/kafka/topics.yaml).")
    Path file;

    @Override
    public Integer call() {
        TopicDefinitions topics = file != null ? TopicDefinitions.load(file) : ProjectFiles.topics();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            topics.apply(admin, replicationFactor).forEach(line -> System.out.println("  topic    " + line));
        }
        return 0;
    }
}
