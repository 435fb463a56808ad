package dev.genaug.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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

    @Option(
            names = "--partitions",
            defaultValue = "0",
            description = "Partitions of every topic (default: as in deploy/kafka/topics.yaml).")
    int partitions;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        Path root = LocalStack.root();
        List<ServiceSpec> services = selected();
        for (ServiceSpec s : services) {
            if (!Files.isRegularFile(s.jar(root))) {
                System.err.println(
                        "genaug up: " + s.jar(root) + " is missing; build first: ./mvnw -B package -DskipTests");
                return 2;
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        LocalStack[] stack = new LocalStack[1];
        Thread shutdown = new Thread(
                () -> {
                    out.println("genaug up: stopping");
                    if (stack[0] != null) {
                        stack[0].close();
                    }
                    stop.countDown();
                },
                "genaug-up-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);

        stack[0] = LocalStack.startKafka(
                root,
                new LocalStack.Options(
                        externalKafka, models, logs, freePorts ? 0 : portBase, partitions, readyTimeout, jvmOptions),
                out);
        List<ServiceProcess> running;
        try {
            running = stack[0].start(services);
        } catch (IllegalStateException e) {
            System.err.println("genaug up: " + e.getMessage());
            return 1;
        }
        for (ServiceProcess p : running) {
            out.printf(
                    "%-10s %-22s ready, %d MiB resident, log %s%n",
                    p.spec().name(), "localhost:" + p.port(), p.residentMiB(), stack[0].relative(p.log()));
        }
        out.printf(
                "genaug is up in %.1f s: gRPC and HTTP (health /q/health, metrics /q/metrics) share each port."
                        + " Ctrl-C stops everything.%n",
                LocalStack.seconds(started));
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
}
