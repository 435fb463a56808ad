package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.genaug.kafka.ProjectFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's decision to build before it runs: the real {@code genaug} script in a scratch
 * tree whose {@code mvnw} only records that it was called and writes the services' jars anew, as a
 * build does. The CLI jar there is not a jar, so the command itself then fails; only the build
 * decision is under test.
 */
class LauncherRebuildTest {
    private static final List<String> SERVICES = List.of("encoder", "sampler", "generator", "labeller", "gateway");
    private static final Instant BUILT = Instant.parse("2026-01-02T00:00:00Z");

    @TempDir
    Path root;

    private record Run(int builds, String output) {}

    @BeforeEach
    void tree() throws Exception {
        Path repo = ProjectFiles.root().orElseThrow();
        Files.copy(repo.resolve("genaug"), root.resolve("genaug"), StandardCopyOption.COPY_ATTRIBUTES);
        StringBuilder mvnw = new StringBuilder(
                "#!/usr/bin/env bash\nsleep \"${FAKE_BUILD_SECONDS:-0}\"\necho \"$*\" >> mvnw.calls\n");
        for (String s : SERVICES) {
            mvnw.append("touch services/").append(s).append("/target/quarkus-app/quarkus-run.jar\n");
        }
        Files.writeString(root.resolve("mvnw"), mvnw.toString());
        Files.setPosixFilePermissions(root.resolve("mvnw"), PosixFilePermissions.fromString("rwxr-xr-x"));
        write("pom.xml", BUILT.minusSeconds(3600));
        write("proto/genaug/a.proto", BUILT.minusSeconds(3600));
        write("src/domain/src/main/java/A.java", BUILT.minusSeconds(3600));
        // The CLI's jar is older than the sources: a build leaves it alone when it is up to date.
        write("src/cli/target/genaug-cli.jar", BUILT.minusSeconds(7200));
        for (int i = 0; i < SERVICES.size(); i++) {
            write("services/" + SERVICES.get(i) + "/target/quarkus-app/quarkus-run.jar", BUILT.plusSeconds(i));
        }
    }

    private void write(String file, Instant modified) throws Exception {
        Path p = root.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "x");
        Files.setLastModifiedTime(p, FileTime.from(modified));
    }

    private static boolean onPath(String command) {
        return java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, command)));
    }

    private Run launch(Map<String, String> env) throws Exception {
        return finish(start(env));
    }

    private Process start(Map<String, String> env) throws Exception {
        ProcessBuilder b = new ProcessBuilder("bash", root.resolve("genaug").toString(), "generate", "--help")
                .directory(root.toFile())
                .redirectErrorStream(true);
        b.environment().remove("GENAUG_REBUILD");
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().putAll(env);
        return b.start();
    }

    private Run finish(Process p) throws Exception {
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished").isTrue();
        Path calls = root.resolve("mvnw.calls");
        int builds = Files.exists(calls) ? Files.readAllLines(calls).size() : 0;
        return new Run(builds, output);
    }

    @Test
    void shouldNotBuildWhenNoSourceIsNewerThanTheServicesBuild() throws Exception {
        Run run = launch(Map.of());

        assertThat(run.builds()).as(run.output()).isZero();
        assertThat(run.output()).doesNotContain("genaug: building");
    }

    @Test
    void shouldBuildOnceWhenASourceChangedSinceTheLastBuild() throws Exception {
        write("src/domain/src/main/java/A.java", BUILT.plusSeconds(60));

        Run first = launch(Map.of());
        Run second = launch(Map.of());

        assertThat(first.builds()).as(first.output()).isEqualTo(1);
        assertThat(first.output())
                .contains("genaug: building (src/domain/src/main/java/A.java changed since the last build)");
        assertThat(second.builds())
                .as("the build wrote the services' jars anew")
                .isEqualTo(1);
    }

    @Test
    void shouldBuildWhenOneServiceWasBuiltBeforeTheChange() throws Exception {
        // Only some services built since the edit (a build of a few modules): the rest are stale.
        write("proto/genaug/a.proto", BUILT.plusSeconds(2).plusMillis(500));

        Run run = launch(Map.of());

        assertThat(run.builds()).as(run.output()).isEqualTo(1);
        assertThat(run.output()).contains("proto/genaug/a.proto changed since the last build");
    }

    @Test
    void shouldBuildWhenAServiceHasNeverBeenBuilt() throws Exception {
        Files.delete(root.resolve("services/labeller/target/quarkus-app/quarkus-run.jar"));

        Run run = launch(Map.of("GENAUG_REBUILD", "0"));

        assertThat(run.builds()).as(run.output()).isEqualTo(1);
        assertThat(run.output()).contains("genaug: building (first run");
    }

    @Test
    void shouldNotBuildUnderServicesOfTheFolderWhenTheyRun() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "the launcher reads command lines from /proc");
        write("src/domain/src/main/java/A.java", BUILT.plusSeconds(60));
        Path jar = root.resolve("services/generator/target/quarkus-app/quarkus-run.jar");
        // A process whose command line names the service's jar, as a running service's does.
        Process service = new ProcessBuilder("bash", "-c", "exec -a \"java -jar " + jar + "\" sleep 60").start();
        try {
            Run run = launch(Map.of());

            assertThat(run.builds()).as(run.output()).isZero();
            assertThat(run.output())
                    .contains("genaug: not building although src/domain/src/main/java/A.java changed since the"
                            + " last build: genaug processes of this folder are running");
        } finally {
            service.destroyForcibly().waitFor();
        }
        Run after = launch(Map.of());
        assertThat(after.builds())
                .as("built once the services stopped: " + after.output())
                .isEqualTo(1);
    }

    @Test
    void shouldBuildOnceWhenTwoLaunchersFindTheSameChange() throws Exception {
        assumeTrue(onPath("flock"), "the launcher locks with flock where it has it");
        write("src/domain/src/main/java/A.java", BUILT.plusSeconds(60));

        Process first = start(Map.of("FAKE_BUILD_SECONDS", "2"));
        Thread.sleep(500); // the first one is building
        Process second = start(Map.of("FAKE_BUILD_SECONDS", "2"));
        Run a = finish(first);
        Run b = finish(second);

        assertThat(a.builds()).as(a.output() + b.output()).isEqualTo(1);
        assertThat(a.output() + b.output()).containsOnlyOnce("genaug: building");
    }

    @Test
    void shouldNotLookAtSourcesWhenRebuildIsZero() throws Exception {
        write("pom.xml", BUILT.plusSeconds(60));

        Run run = launch(Map.of("GENAUG_REBUILD", "0"));

        assertThat(run.builds()).as(run.output()).isZero();
    }

    @Test
    void shouldBuildWhenRebuildIsOneThoughNothingChanged() throws Exception {
        Run run = launch(Map.of("GENAUG_REBUILD", "1"));

        assertThat(run.builds()).as(run.output()).isEqualTo(1);
        assertThat(run.output()).contains("genaug: building (GENAUG_REBUILD=1)");
    }

    @Test
    void shouldIgnoreBuildOutputsAndModelSourcesWhenTheyChange() throws Exception {
        write("src/domain/target/classes/A.class", BUILT.plusSeconds(60));
        write("src/models/shapes/train.py", BUILT.plusSeconds(60));

        Run run = launch(Map.of());

        assertThat(run.builds()).as(run.output()).isZero();
    }
}
