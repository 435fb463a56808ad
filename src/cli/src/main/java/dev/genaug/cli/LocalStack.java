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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * genaug on this machine: a Kafka broker (embedded unless an external one is named) with the
 * topics of deploy/kafka, and one child JVM per service instance, each its deployable Quarkus jar.
 * Used by {@code genaug up}, by {@code genaug generate} when no stack is running, and by tests.
 */
final class LocalStack implements AutoCloseable {
    /**
     * @param externalKafka bootstrap servers of a cluster to use; null starts an embedded broker
     * @param models model repository folder; null means deploy/model-repository
     * @param logs folder of the services' logs; null means .genaug/logs
     * @param portBase gateway port, the others follow by their offset; 0 lets the system choose
     * @param partitions partitions of every topic; 0 keeps deploy/kafka/topics.yaml's
     */
    record Options(
            String externalKafka,
            Path models,
            Path logs,
            int portBase,
            int partitions,
            Duration readyTimeout,
            List<String> jvmOptions) {
        static Options defaults() {
            return new Options(null, null, null, 0, 0, Duration.ofMinutes(2), List.of());
        }
    }

    private final Path root;
    private final Options options;
    private final PrintStream out;
    private final Path modelRoot;
    private final Path logDir;
    private final List<String> jvm;
    private final List<ServiceProcess> running = new ArrayList<>();
    private EmbeddedKafkaBroker broker;
    private String bootstrap;
    private boolean closed;

    private LocalStack(Path root, Options options, PrintStream out) throws Exception {
        this.root = root;
        this.options = options;
        this.out = out;
        this.modelRoot = (options.models() != null ? options.models() : root.resolve("deploy/model-repository"))
                .toAbsolutePath();
        this.logDir = Files.createDirectories(options.logs() != null ? options.logs() : root.resolve(".genaug/logs"));
        // A 512 MiB heap per service: their live sets are small (the gateway's was 41 MB after streaming
        // 3 x 1024 views), and SerialGC grows the heap to its cap before collecting old garbage, so
        // the cap is what bounds each service's memory. --jvm-option -Xmx... overrides it.
        this.jvm = new ArrayList<>(Arrays.asList("-XX:+UseSerialGC", "-Xss512k", "-Xmx512m"));
        // A service whose launcher dies (even by SIGKILL) exits instead of lingering.
        jvm.add("-Dgenaug.parent-pid=" + ProcessHandle.current().pid());
        jvm.addAll(options.jvmOptions());
    }

    /** The model repository a command names with --models, or else this checkout's. */
    static Path models(Path chosen) {
        return chosen != null ? chosen : root().resolve("deploy/model-repository");
    }

    static Path root() {
        return ProjectFiles.root()
                .orElseThrow(() -> new IllegalStateException(
                        "cannot find the genaug root: run from the checkout or set GENAUG_ROOT"));
    }

    /** Starts the broker (or connects to the external one) and creates the topics. */
    static LocalStack startKafka(Path root, Options options, PrintStream out) throws Exception {
        LocalStack stack = new LocalStack(root, options, out);
        try {
            stack.kafka();
        } catch (Exception e) {
            stack.close();
            throw e;
        }
        return stack;
    }

    private void kafka() throws Exception {
        TopicDefinitions topics = TopicDefinitions.load(root.resolve(ProjectFiles.TOPICS));
        if (options.partitions() > 0) {
            topics = topics.withPartitions(options.partitions());
        }
        if (options.externalKafka() == null) {
            long t = System.nanoTime();
            broker = LocalProcesses.quietly(
                    () -> EmbeddedKafkaBroker.start(Files.createTempDirectory(logDir.getParent(), "kafka-")));
            bootstrap = broker.bootstrapServers();
            out.printf("kafka      %-22s embedded broker, started in %.1f s%n", bootstrap, seconds(t));
        } else {
            bootstrap = options.externalKafka();
            out.printf("kafka      %-22s external%n", bootstrap);
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            for (String line : topics.apply(admin, broker != null ? (short) 1 : (short) 0)) {
                out.println("  topic    " + line);
            }
        }
    }

    String bootstrapServers() {
        return bootstrap;
    }

    /**
     * Starts one instance of each service (all at once), then waits until each is ready.
     *
     * @param logName file name of each one's log, without ".log" (instances of a service need their own)
     * @throws IllegalStateException naming the service and showing its log when one does not come up
     */
    List<ServiceProcess> start(List<ServiceSpec> services, List<String> logNames) throws Exception {
        List<ServiceProcess> started = new ArrayList<>();
        int[] ports = new int[services.size()];
        Map<String, Integer> byName = new java.util.HashMap<>();
        for (ServiceProcess p : running) {
            if (p.alive()) {
                byName.putIfAbsent(p.spec().name(), p.port());
            }
        }
        for (int i = 0; i < services.size(); i++) {
            ServiceSpec s = services.get(i);
            ports[i] = options.portBase() == 0 ? LocalProcesses.freePort() : options.portBase() + s.portOffset();
            byName.putIfAbsent(s.name(), ports[i]);
        }
        for (int i = 0; i < services.size(); i++) {
            ServiceSpec s = services.get(i);
            List<String> options = new ArrayList<>(jvm);
            if (s.name().equals("gateway")) {
                // The gateway calls the encoder, the generator and the sampler for GetViews.
                for (String client : List.of("encoder", "generator", "sampler")) {
                    if (byName.containsKey(client)) {
                        options.add("-Dquarkus.grpc.clients." + client + ".port=" + byName.get(client));
                    }
                }
            }
            if (s.name().equals("labeller")) {
                options.add("--add-modules=jdk.incubator.vector"); // its fused labelling kernel
            }
            ServiceProcess p =
                    ServiceProcess.start(s, root, ports[i], bootstrap, modelRoot, logDir, options, logNames.get(i));
            started.add(p);
            running.add(p);
        }
        try (HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            for (ServiceProcess p : started) {
                if (!p.awaitReady(http, options.readyTimeout())) {
                    throw new IllegalStateException(String.format(
                            "%s did not become ready (log %s):%n%s", p.spec().name(), p.log(), p.logTail(30)));
                }
            }
        }
        return started;
    }

    /** Starts one instance of each service, logs named after the services. */
    List<ServiceProcess> start(List<ServiceSpec> services) throws Exception {
        return start(services, services.stream().map(ServiceSpec::name).toList());
    }

    List<ServiceProcess> running() {
        return List.copyOf(running);
    }

    /** The first running instance of a service. */
    ServiceProcess instance(String service) {
        return running.stream()
                .filter(p -> p.spec().name().equals(service) && p.alive())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(service + " is not running"));
    }

    Path relative(Path p) {
        return p.startsWith(root) ? root.relativize(p) : p;
    }

    /** Stops the services (SIGTERM to all at once, SIGKILL after 20 s), then the broker. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
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

    static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }
}
