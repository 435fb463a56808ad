package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.kafka.ProjectFiles;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's `./genaug up`, as a user runs it: starts everything, serves, stops on SIGTERM. */
class GenaugUpIT {
    private static final Pattern READY = Pattern.compile("^(\\w+)\\s+localhost:(\\d+)\\s+ready.*");

    @Test
    void shouldStartEveryServiceAndStopCleanlyOnSigterm(@TempDir Path logs) throws Exception {
        Path root = ProjectFiles.root().orElseThrow();
        Process up = new ProcessBuilder(
                        root.resolve("genaug").toString(), "up", "--free-ports", "--logs", logs.toString())
                .directory(root.toFile())
                .redirectErrorStream(true)
                .start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> ports = new TreeMap<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (Exception ignored) {
                // The process ended.
            }
        });
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (output.stream().noneMatch(l -> l.startsWith("genaug is up")) && System.nanoTime() < deadline) {
                assertThat(up.isAlive())
                        .as("genaug up exited early:%n%s", String.join("\n", output))
                        .isTrue();
                Thread.sleep(200);
            }
            assertThat(output).as(String.join("\n", output)).anyMatch(l -> l.startsWith("genaug is up"));
            for (String line : List.copyOf(output)) {
                Matcher m = READY.matcher(line);
                if (m.matches()) {
                    ports.put(m.group(1), Integer.parseInt(m.group(2)));
                }
            }
            assertThat(ports).containsOnlyKeys("encoder", "sampler", "generator", "labeller", "gateway");
            assertThat(output).anyMatch(l -> l.contains("created genaug.jobs.v1"));
            try (HttpClient http = HttpClient.newHttpClient()) {
                for (var e : ports.entrySet()) {
                    var ready = http.send(
                            HttpRequest.newBuilder(URI.create("http://localhost:" + e.getValue() + "/q/health/ready"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(ready.statusCode()).as(e.getKey()).isEqualTo(200);
                }
            }
            List<ProcessHandle> children = up.descendants().toList();
            assertThat(children).hasSizeGreaterThanOrEqualTo(5);

            // SIGTERM, as a service manager sends (Process.destroy would also close our end of its output).
            up.toHandle().destroy();
            assertThat(up.waitFor(60, TimeUnit.SECONDS))
                    .as("stopped within 60 s")
                    .isTrue();
            reader.join(5_000);
            assertThat(up.exitValue()).isIn(0, 143);
            assertThat(output).contains("  kafka      stopped");
            assertThat(output)
                    .filteredOn(l -> l.matches("\\s+\\w+\\s+stopped \\(exit \\d+\\)"))
                    .hasSize(5);
            for (ProcessHandle child : children) {
                child.onExit().get(30, TimeUnit.SECONDS);
                assertThat(child.isAlive()).as("child %d", child.pid()).isFalse();
            }
            assertThat(Files.list(logs).map(p -> p.getFileName().toString()))
                    .contains("gateway.log", "encoder.log", "sampler.log", "generator.log", "labeller.log");
        } finally {
            up.descendants().forEach(ProcessHandle::destroyForcibly);
            up.destroyForcibly();
        }
    }
}
