package dev.genaug.domain.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.dataset.v1.RenderedPart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShapesPartsTest {

    @Test
    void shouldRenderIdenticalBytesForTheSameSeedAndIndexInAnyOrder() {
        ShapesParts.Sample a = ShapesParts.render(3, 41);
        ShapesParts.render(3, 40);
        ShapesParts.Sample b = ShapesParts.render(3, 41);
        assertThat(b.rgb()).containsExactly(a.rgb());
        assertThat(b.mask()).containsExactly(a.mask());
        assertThat(b.scene()).isEqualTo(a.scene());
        assertThat(ShapesParts.render(3, 42).rgb()).isNotEqualTo(a.rgb());
        assertThat(ShapesParts.render(4, 41).rgb()).isNotEqualTo(a.rgb());
    }

    @Test
    void shouldSkewTheCategoryMixSixtyThirtyTen() {
        int n = 4000;
        int[] counts = new int[3];
        for (int i = 0; i < n; i++) {
            counts[ShapesParts.render(11, i).category()]++;
        }
        // Binomial standard errors are at most 0.8 percentage points; tolerance is 4 of them.
        assertThat(counts[0] / (double) n).isCloseTo(0.6, within(0.03));
        assertThat(counts[1] / (double) n).isCloseTo(0.3, within(0.03));
        assertThat(counts[2] / (double) n).isCloseTo(0.1, within(0.03));
    }

    @Test
    void shouldLabelOnlyTheDrawnPartsWithTwoToFourPartsPerObject() {
        for (int i = 0; i < 300; i++) {
            ShapesParts.Sample s = ShapesParts.render(5, i);
            List<RenderedPart> parts = s.scene().getPartsList();
            assertThat(parts).hasSizeBetween(2, 4);
            Set<Integer> drawn = new HashSet<>(List.of(0));
            parts.forEach(p -> drawn.add(p.getClassId()));
            Set<Integer> seen = new HashSet<>();
            for (byte v : s.mask()) {
                seen.add(v & 0xFF);
            }
            assertThat(drawn).as("sample %d", i).containsAll(seen);
            // The object is visible: its first part covers pixels, and the background too.
            assertThat(seen).contains(0, parts.getFirst().getClassId());
            for (RenderedPart p : parts) {
                assertThat(ShapesParts.CLASSES.get(p.getClassId())).isEqualTo(p.getName());
            }
        }
    }

    @Test
    void shouldKeepTheObjectInsideTheFrame() {
        for (int i = 0; i < 300; i++) {
            ShapesParts.Sample s = ShapesParts.render(9, i);
            int size = ShapesParts.SIZE;
            for (int k = 0; k < size; k++) {
                assertThat(s.mask()[k]).as("top row, sample %d", i).isZero();
                assertThat(s.mask()[(size - 1) * size + k])
                        .as("bottom row, sample %d", i)
                        .isZero();
                assertThat(s.mask()[k * size]).as("left column, sample %d", i).isZero();
                assertThat(s.mask()[k * size + size - 1])
                        .as("right column, sample %d", i)
                        .isZero();
            }
        }
    }

    @Test
    void shouldWriteByteIdenticalShardsWithThreeMembersPerSample(@TempDir Path dir) throws IOException {
        var first = DatasetRenderer.render(2, 10, 25, 10, dir.resolve("a"), n -> {});
        var second = DatasetRenderer.render(2, 10, 25, 10, dir.resolve("b"), n -> {});
        assertThat(first).hasSize(3);
        assertThat(first).extracting(DatasetRenderer.Shard::samples).containsExactly(10, 10, 5);
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i).sha256()).isEqualTo(first.get(i).sha256());
            assertThat(Files.readAllBytes(second.get(i).file()))
                    .isEqualTo(Files.readAllBytes(first.get(i).file()));
        }
        try (var tar =
                new TarArchiveInputStream(Files.newInputStream(first.getFirst().file()))) {
            TarArchiveEntry e = tar.getNextEntry();
            assertThat(e.getName()).isEqualTo("000000010.png");
            assertThat(tar.getNextEntry().getName()).isEqualTo("000000010.mask.png");
            assertThat(tar.getNextEntry().getName()).isEqualTo("000000010.json");
            assertThat(tar.getNextEntry().getName()).isEqualTo("000000011.png");
        }
        assertThat(Files.list(dir.resolve("a")).map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder(
                        "shapes-parts-2-000000.tar", "shapes-parts-2-000001.tar", "shapes-parts-2-000002.tar");
    }

    @Test
    void shouldSpellOutSeedAndIndexZeroWhenTheSceneJsonIsWritten(@TempDir Path dir) throws IOException {
        var shard = DatasetRenderer.render(0, 0, 1, 1, dir, n -> {}).getFirst();
        try (var tar = new TarArchiveInputStream(Files.newInputStream(shard.file()))) {
            tar.getNextEntry();
            tar.getNextEntry();
            assertThat(tar.getNextEntry().getName()).isEqualTo("000000000.json");
            assertThat(new String(tar.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                    .contains("\"seed\":\"0\"", "\"index\":\"0\"")
                    .doesNotContain("provenance", "uncertainty", "ignoredPixels");
        }
    }
}
