package dev.genaug.gateway;

import dev.genaug.domain.error.UnavailableException;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates a job's output topic at submission when it does not exist (genaug's brokers do not
 * auto-create topics), with the broker's default replication, so a job never fails half way for
 * want of its topic.
 */
@ApplicationScoped
public class OutputTopics {
    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafka;

    @Inject
    GatewayConfig config;

    private Admin admin;

    private synchronized Admin admin() {
        if (admin == null) {
            Map<String, Object> settings = new HashMap<>();
            settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.get("bootstrap.servers"));
            admin = Admin.create(settings);
        }
        return admin;
    }

    /** Makes sure the topic exists; UNAVAILABLE when the broker does not answer in time. */
    public void ensure(String topic) {
        long timeout = config.enqueueTimeout().toMillis();
        try {
            admin().createTopics(
                            List.of(new NewTopic(topic, Optional.of(config.outputTopicPartitions()), Optional.empty())))
                    .all()
                    .get(timeout, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new UnavailableException(
                        "job.output_topic: Kafka did not create topic '" + topic + "': "
                                + e.getCause().getMessage(),
                        e);
            }
        } catch (TimeoutException e) {
            throw new UnavailableException(
                    "job.output_topic: Kafka did not create topic '" + topic + "' within " + config.enqueueTimeout(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while creating topic '" + topic + "'", e);
        }
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close();
        }
    }
}
