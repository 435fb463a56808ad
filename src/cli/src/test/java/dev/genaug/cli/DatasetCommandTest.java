package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCommandTest {

    private static int run(String... args) {
        return GenaugCli.commandLine().execute(args);
    }

    @Test
    void shouldRenderShardsWithImageMaskAndMetadataPerSample(@TempDir Path out) throws IOException {
        assertThat(run(
                        "dataset",
                        "render",
                        "--count",
                        "5",
                        "--seed",
                        "3",
                        "--start",
                        "100",
                        "--shard-size",
                        "2",
                        "--out",
                        out.toString()))
                .isZero();
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly(
                            "shapes-parts-3-000000.tar", "shapes-parts-3-000001.tar", "shapes-parts-3-000002.tar");
        }
        List<String> names = new java.util.ArrayList<>();
        try (var tar = new TarArchiveInputStream(Files.newInputStream(out.resolve("shapes-parts-3-000002.tar")))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                names.add(e.getName());
                if (e.getName().endsWith(".json")) {
                    String json = new String(tar.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    assertThat(json).contains("\"key\":\"000000104\"").contains("\"index\":\"104\"");
                }
            }
        }
        assertThat(names).containsExactly("000000104.png", "000000104.mask.png", "000000104.json");
    }

    @Test
    void shouldRefuseNonPositiveCounts(@TempDir Path out) {
        assertThat(run("dataset", "render", "--count", "0", "--out", out.toString()))
                .isEqualTo(2);
        assertThat(run("dataset", "render", "--count", "3", "--shard-size", "0", "--out", out.toString()))
                .isEqualTo(2);
    }
}
