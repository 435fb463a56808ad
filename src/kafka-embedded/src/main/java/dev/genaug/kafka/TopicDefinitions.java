package dev.genaug.kafka;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;

/** The topics of deploy/kafka/topics.yaml, and their creation on a broker. */
public record TopicDefinitions(List<Topic> topics) {

    /** One topic: name, partitions, replication factor and topic-level configs. */
    public record Topic(String name, int partitions, short replicationFactor, Map<String, String> config) {}

    private record Defaults(
            @JsonProperty("replicationFactor") Short replicationFactor) {}

    private record RawTopic(
            @JsonProperty("name") String name,
            @JsonProperty("partitions") Integer partitions,
            @JsonProperty("replicationFactor") Short replicationFactor,
            @JsonProperty("config") Map<String, String> config) {}

    private record RawFile(
            @JsonProperty("defaults") Defaults defaults,
            @JsonProperty("topics") List<RawTopic> topics) {}

    /** Reads and checks a definitions file; unknown keys are errors. */
    public static TopicDefinitions load(Path file) {
        ObjectMapper yaml =
                new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        RawFile raw;
        try {
            raw = yaml.readValue(file.toFile(), RawFile.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read topic definitions " + file + ": " + e.getMessage(), e);
        }
        if (raw == null || raw.topics() == null || raw.topics().isEmpty()) {
            throw new IllegalArgumentException(file + " defines no topics");
        }
        short defaultRf = raw.defaults() != null && raw.defaults().replicationFactor() != null
                ? raw.defaults().replicationFactor()
                : 1;
        List<Topic> topics = new ArrayList<>();
        for (RawTopic t : raw.topics()) {
            if (t.name() == null || t.name().isBlank()) {
                throw new IllegalArgumentException(file + ": a topic has no name");
            }
            if (t.partitions() == null || t.partitions() < 1) {
                throw new IllegalArgumentException(file + ": topic " + t.name() + " needs partitions >= 1");
            }
            short rf = t.replicationFactor() != null ? t.replicationFactor() : defaultRf;
            topics.add(new Topic(t.name(), t.partitions(), rf, t.config() == null ? Map.of() : Map.copyOf(t.config())));
        }
        return new TopicDefinitions(List.copyOf(topics));
    }

    /**
     * Creates missing topics and adds partitions to existing ones that have fewer; never deletes or
     * shrinks. Returns a line per topic saying what was done.
     */
    public List<String> apply(Admin admin, short replicationFactorOverride) {
        List<String> report = new ArrayList<>();
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> create = new ArrayList<>();
            for (Topic t : topics) {
                short rf = replicationFactorOverride > 0 ? replicationFactorOverride : t.replicationFactor();
                if (!existing.contains(t.name())) {
                    create.add(new NewTopic(t.name(), t.partitions(), rf).configs(t.config()));
                    report.add("created " + t.name() + " (" + t.partitions() + " partitions)");
                }
            }
            if (!create.isEmpty()) {
                admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
            }
            for (Topic t : topics) {
                if (existing.contains(t.name())) {
                    TopicDescription d = admin.describeTopics(List.of(t.name()))
                            .allTopicNames()
                            .get(30, TimeUnit.SECONDS)
                            .get(t.name());
                    int have = d.partitions().size();
                    if (have < t.partitions()) {
                        admin.createPartitions(Map.of(t.name(), NewPartitions.increaseTo(t.partitions())))
                                .all()
                                .get(30, TimeUnit.SECONDS);
                        report.add("grew " + t.name() + " from " + have + " to " + t.partitions() + " partitions");
                    } else {
                        report.add("kept " + t.name() + " (" + have + " partitions)");
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topics: " + e.getMessage(), e);
        }
        return report;
    }

    /** The topic named {@code name}. */
    /** The same topics with {@code partitions} partitions each (a test of scale-out, say). */
    public TopicDefinitions withPartitions(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1");
        }
        return new TopicDefinitions(topics.stream()
                .map(t -> new Topic(t.name(), partitions, t.replicationFactor(), t.config()))
                .toList());
    }

    public Topic topic(String name) {
        return topics.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no topic " + name + " is defined"));
    }
}
