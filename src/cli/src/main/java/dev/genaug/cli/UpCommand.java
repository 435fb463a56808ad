package dev.genaug.cli;

import dev.genaug.kafka.EmbeddedKafkaBroker;
import dev.genaug.kafka.ProjectFiles;
import dev.genaug.kafka.TopicDefinitions;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug up}: the whole stack on this machine. An embedded Kafka broker (or an external
 * one) with the topics of deploy/kafka, then one JVM per service, each its deployable Quarkus
 * jar. Prints where everything listens; Ctrl-C or SIGTERM stops the services, then the broker.
 */
@Command(
        name = "up",
        mixinStandardHelpOptions = true,
        description = "Run the whole genaug stack on this machine until Ctrl-C or SIGTERM.")
final class UpCommand implements Callable<Integer> {

    @Option(
            names = "--http-port-base",
            defaultValue = "8080",
            description =
                    "Gateway port; the encoder, sampler, generator and labeller use the next four (default ${DEFAULT-VALUE}).")
    int portBase;

    @Option(names = "--free-ports", description = "Let the system choose free ports instead of --http-port-base.")
    boolean freePorts;

    @Option(
            names = "--kafka",
            description = "bootstrap.servers of an external Kafka cluster; default: start an embedded broker.")
    String externalKafka;

    @Option(names = "--models", description = "Model repository folder (default: <root>/deploy/model-repository).")
    Path models;

    @Option(names = "--logs", description = "Folder for the services' logs (default: <root>/.genaug/logs).")
    Path logs;

    @Option(
            names = "--services",
            split = ",",
            description = "Which services to run (default: all): ${COMPLETION-CANDIDATES}.")
    List<String> only;

    @Option(
            names = "--ready-timeout",
            defaultValue = "PT120S",
            description = "How long to wait for each service to be ready (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration readyTimeout;

    @Option(names = "--jvm-option", description = "Extra JVM option for every service (repeatable).")
    List<String> jvmOptions = new ArrayList<>();

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        Path root = ProjectFiles.root()
                .orElseThrow(() -> new IllegalStateException(
                        "cannot find the genaug root: run from the checkout or set GENAUG_ROOT"));
        Path modelRoot = (models != null ? models : root.resolve("deploy/model-repository")).toAbsolutePath();
        Path logDir = Files.createDirectories(logs != null ? logs : root.resolve(".genaug/logs"));
        List<ServiceSpec> services = selected();
        for (ServiceSpec s : services) {
            if (!Files.isRegularFile(s.jar(root))) {
                System.err.println(
                        "genaug up: " + s.jar(root) + " is missing; build first: ./mvnw -B package -DskipTests");
                return 2;
            }
        }

        CountDownLatch stop = new CountDownLatch(1);
        List<ServiceProcess> running = new ArrayList<>();
        EmbeddedKafkaBroker[] broker = new EmbeddedKafkaBroker[1];
        Thread shutdown = new Thread(
                () -> {
                    stopAll(running, broker[0]);
                    stop.countDown();
                },
                "genaug-up-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);

        String bootstrap;
        TopicDefinitions topics = TopicDefinitions.load(root.resolve(ProjectFiles.TOPICS));
        if (externalKafka == null) {
            long t = System.nanoTime();
            broker[0] = LocalProcesses.quietly(
                    () -> EmbeddedKafkaBroker.start(Files.createTempDirectory(logDir.getParent(), "kafka-")));
            bootstrap = broker[0].bootstrapServers();
            out.printf("kafka      %-22s embedded broker, started in %.1f s%n", bootstrap, seconds(t));
        } else {
            bootstrap = externalKafka;
            out.printf("kafka      %-22s external%n", bootstrap);
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            for (String line : topics.apply(admin, broker[0] != null ? (short) 1 : (short) 0)) {
                out.println("  topic    " + line);
            }
        }

        List<String> jvm = new ArrayList<>(Arrays.asList("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAMPercentage=25"));
        // A service whose launcher dies (even by SIGKILL) exits instead of lingering.
        jvm.add("-Dgenaug.parent-pid=" + ProcessHandle.current().pid());
        jvm.addAll(jvmOptions);
        for (ServiceSpec s : services) {
            int port = freePorts ? LocalProcesses.freePort() : portBase + s.portOffset();
            running.add(ServiceProcess.start(s, root, port, bootstrap, modelRoot, logDir, jvm));
        }
        try (HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            for (ServiceProcess p : running) {
                if (!p.awaitReady(http, readyTimeout)) {
                    System.err.printf(
                            "genaug up: %s did not become ready (log %s):%n%s%n",
                            p.spec().name(), p.log(), p.logTail(30));
                    return 1;
                }
                out.printf(
                        "%-10s %-22s ready, %d MiB resident, log %s%n",
                        p.spec().name(), "localhost:" + p.port(), p.residentMiB(), root.relativize(p.log()));
            }
        }
        out.printf(
                "genaug is up in %.1f s: gRPC and HTTP (health /q/health, metrics /q/metrics) share each port."
                        + " Ctrl-C stops everything.%n",
                seconds(started));
        out.flush();

        // Stay up until a signal; a service that dies takes the stack down with a reason.
        while (stop.getCount() > 0) {
            for (ServiceProcess p : running) {
                if (!p.alive()) {
                    System.err.printf(
                            "genaug up: %s exited unexpectedly (log %s):%n%s%n",
                            p.spec().name(), p.log(), p.logTail(30));
                    return 1;
                }
            }
            Thread.sleep(500);
        }
        return 0;
    }

    private List<ServiceSpec> selected() {
        if (only == null || only.isEmpty()) {
            return ServiceSpec.ALL;
        }
        List<ServiceSpec> chosen = new ArrayList<>();
        for (String name : only) {
            chosen.add(ServiceSpec.ALL.stream()
                    .filter(s -> s.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown service '" + name + "'; known: "
                            + ServiceSpec.ALL.stream().map(ServiceSpec::name).toList())));
        }
        return chosen;
    }

    private void stopAll(List<ServiceProcess> running, EmbeddedKafkaBroker broker) {
        out.println("genaug up: stopping");
        // SIGTERM to all at once, then wait for each: shutdown takes as long as the slowest.
        running.forEach(ServiceProcess::terminate);
        for (ServiceProcess p : running) {
            try {
                int code = p.stop(Duration.ofSeconds(20));
                out.printf("  %-10s stopped (exit %d)%n", p.spec().name(), code);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (broker != null) {
            broker.close();
            out.println("  kafka      stopped");
        }
        out.flush();
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }
}
