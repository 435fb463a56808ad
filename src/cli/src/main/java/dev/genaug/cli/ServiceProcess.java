package dev.genaug.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A service running as a child JVM, with its output in a log file. */
final class ServiceProcess {
    private final ServiceSpec spec;
    private final int port;
    private final Path log;
    private final Process process;

    private ServiceProcess(ServiceSpec spec, int port, Path log, Process process) {
        this.spec = spec;
        this.port = port;
        this.log = log;
        this.process = process;
    }

    static ServiceProcess start(
            ServiceSpec spec,
            Path root,
            int port,
            String bootstrapServers,
            Path models,
            Path logs,
            List<String> jvmOptions,
            String logName)
            throws IOException {
        Path jar = spec.jar(root);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build first (./mvnw -B package -DskipTests)");
        }
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(jvmOptions);
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dkafka.bootstrap.servers=" + bootstrapServers);
        command.add("-Dgenaug.models.repository=" + models);
        command.add("-jar");
        command.add(jar.toString());
        Path log = logs.resolve(logName + ".log");
        Process process = new ProcessBuilder(command)
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new ServiceProcess(spec, port, log, process);
    }

    ServiceSpec spec() {
        return spec;
    }

    int port() {
        return port;
    }

    Path log() {
        return log;
    }

    /** Resident memory now, in MiB (-1 when unknown). */
    long residentMiB() {
        return LocalProcesses.memoryMiB(process.pid(), "VmRSS");
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Polls /q/health/ready until it answers 200; false if the process dies or time runs out. */
    boolean awaitReady(HttpClient http, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(2))
                .build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** SIGKILL, as a crash would; waits until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** Sends SIGTERM without waiting. */
    void terminate() {
        process.destroy();
    }

    /** SIGTERM, then SIGKILL after the grace period; returns the exit code. */
    int stop(Duration grace) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** The last lines of the log, to show why a service did not come up. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
