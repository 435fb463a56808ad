package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.kafka.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The README's configuration table says what the code does: same properties, same defaults. */
class ReadmeConfigurationTest {
    private static final Pattern PREFIX = Pattern.compile("@ConfigMapping\\(prefix = \"([^\"]+)\"\\)");
    private static final Pattern SETTING = Pattern.compile("@WithDefault\\(\"([^\"]*)\"\\)\\s+\\w+\\s+(\\w+)\\(\\);");
    private static final Pattern OPTIONAL = Pattern.compile("Optional<[^;]+> (\\w+)\\(\\);");
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\|[^|]*\\| ([^|]+) \\|", Pattern.MULTILINE);

    private final Path root = ProjectFiles.root().orElseThrow();

    /**
     * Every property of a @ConfigMapping interface, as property name -> its README default: the
     * {@code @WithDefault} value in backquotes, or "unset" for an Optional without default.
     */
    private Map<String, String> codeDefaults() throws IOException {
        Map<String, String> defaults = new LinkedHashMap<>();
        try (Stream<Path> files =
                Stream.concat(Files.walk(root.resolve("services")), Files.walk(root.resolve("src")))) {
            for (Path f : files.filter(p -> p.toString().endsWith("Config.java"))
                    .filter(p -> p.toString().contains("/src/main/java/"))
                    .toList()) {
                String text = Files.readString(f);
                Matcher prefix = PREFIX.matcher(text);
                if (!prefix.find()) {
                    continue;
                }
                Matcher m = SETTING.matcher(text);
                while (m.find()) {
                    defaults.put(prefix.group(1) + "." + kebab(m.group(2)), "`" + m.group(1) + "`");
                }
                Matcher o = OPTIONAL.matcher(text);
                while (o.find()) {
                    defaults.put(prefix.group(1) + "." + kebab(o.group(1)), "unset");
                }
            }
        }
        return defaults;
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    private Map<String, String> readmeRows() throws IOException {
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(Files.readString(root.resolve("README.md")));
        while (m.find()) {
            rows.put(m.group(1), m.group(2).trim());
        }
        return rows;
    }

    @Test
    void shouldDocumentEveryConfigMappingPropertyWithItsDefault() throws IOException {
        Map<String, String> code = codeDefaults();
        Map<String, String> readme = readmeRows();
        assertThat(code).isNotEmpty();
        code.forEach((property, value) ->
                assertThat(readme).as("README row for %s", property).containsEntry(property, value));
    }

    @Test
    void shouldDocumentOnlyGenaugPropertiesThatExist() throws IOException {
        Map<String, String> code = codeDefaults();
        for (String property : readmeRows().keySet()) {
            if (property.startsWith("genaug.") && !property.equals("genaug.parent-pid")) {
                assertThat(code).as("README documents %s", property).containsKey(property);
            }
        }
    }

    @Test
    void shouldStateEachServicesDefaultPort() throws IOException {
        String row = readmeRows().get("quarkus.http.port");
        for (String service : new String[] {"encoder", "sampler", "generator", "labeller", "gateway"}) {
            String properties = Files.readString(
                    root.resolve("services").resolve(service).resolve("src/main/resources/application.properties"));
            Matcher port = Pattern.compile("(?m)^quarkus\\.http\\.port=(\\d+)$").matcher(properties);
            assertThat(port.find()).as(service).isTrue();
            assertThat(row).contains(service + " " + port.group(1));
            ServiceSpec spec = ServiceSpec.ALL.stream()
                    .filter(s -> s.name().equals(service))
                    .findFirst()
                    .orElseThrow();
            assertThat(8080 + spec.portOffset())
                    .as("genaug up's port for %s", service)
                    .isEqualTo(Integer.parseInt(port.group(1)));
        }
    }
}
