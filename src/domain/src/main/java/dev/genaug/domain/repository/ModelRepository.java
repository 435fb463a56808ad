package dev.genaug.domain.repository;

import dev.genaug.api.inference.ModelConfig;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A model repository in Triton's layout, read once at construction:
 *
 * <pre>
 *   &lt;root&gt;/&lt;model&gt;/config.pbtxt      Triton's configuration (required)
 *   &lt;root&gt;/&lt;model&gt;/genaug.json       genaug's manifest (optional for plain Triton models)
 *   &lt;root&gt;/&lt;model&gt;/&lt;version&gt;/...     one folder per version, a positive integer
 * </pre>
 *
 * A missing root is an empty repository (a fresh deployment may add models later).
 */
public final class ModelRepository {
    public static final String CONFIG_FILE = "config.pbtxt";
    public static final String MANIFEST_FILE = "genaug.json";

    private final Path root;
    private volatile Map<String, ModelEntry> models;
    private volatile long lastImplicitScan = System.nanoTime() - 2_000_000_000L;
    private final Object implicitScan = new Object();
    private final java.util.concurrent.atomic.AtomicLong lastScan =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    /** How old the scan may be when "the latest version" is asked for. */
    private static final long LATEST_MAX_AGE_NANOS = 5_000_000_000L;

    private ModelRepository(Path root, Map<String, ModelEntry> models) {
        this.root = root;
        this.models = Collections.unmodifiableMap(models);
    }

    /** Scans {@code root}. Broken model folders are kept with their problem, never thrown. */
    public static ModelRepository open(Path root) {
        return new ModelRepository(root, scan(root));
    }

    /**
     * Scans the folder again, picking up models and versions added since (a labeller registered by
     * training, possibly by another process). {@link #resolve} does this by itself before it
     * answers NOT_FOUND.
     */
    public void rescan() {
        models = Collections.unmodifiableMap(scan(root));
        lastScan.set(System.nanoTime());
    }

    private static Map<String, ModelEntry> scan(Path root) {
        Map<String, ModelEntry> models = new TreeMap<>();
        if (Files.isDirectory(root)) {
            try (Stream<Path> children = Files.list(root)) {
                // Hidden folders are work in progress (a registration being staged).
                for (Path dir : children.filter(Files::isDirectory)
                        .filter(d -> !d.getFileName().toString().startsWith("."))
                        .sorted()
                        .toList()) {
                    if (Files.isRegularFile(dir.resolve(CONFIG_FILE))) {
                        ModelEntry entry = load(dir);
                        models.put(entry.name(), entry);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list model repository " + root, e);
            }
        }
        return models;
    }

    private static ModelEntry load(Path dir) {
        String name = dir.getFileName().toString();
        SortedSet<Long> versions = versions(dir);
        try {
            ModelConfig config = ModelConfigParser.parse(dir.resolve(CONFIG_FILE));
            if (!config.getName().isEmpty() && !config.getName().equals(name)) {
                throw new ModelRepositoryException(
                        dir.resolve(CONFIG_FILE),
                        0,
                        "name '" + config.getName() + "' differs from its folder '" + name + "'",
                        null);
            }
            Path manifestFile = dir.resolve(MANIFEST_FILE);
            Optional<ModelManifest> manifest = Files.isRegularFile(manifestFile)
                    ? Optional.of(ManifestParser.parse(manifestFile))
                    : Optional.empty();
            if (versions.isEmpty()) {
                throw new ModelRepositoryException(dir, 0, "has no numeric version folder", null);
            }
            Map<Long, ModelManifest> own = new TreeMap<>();
            for (long v : versions) {
                Path file = dir.resolve(Long.toString(v)).resolve(MANIFEST_FILE);
                if (Files.isRegularFile(file)) {
                    own.put(v, ManifestParser.parse(file));
                }
            }
            return new ModelEntry(name, dir, config, manifest, versions, own, Optional.empty());
        } catch (ModelRepositoryException e) {
            return new ModelEntry(name, dir, null, Optional.empty(), versions, Map.of(), Optional.of(e.getMessage()));
        }
    }

    private static SortedSet<Long> versions(Path dir) {
        SortedSet<Long> versions = new TreeSet<>();
        try (Stream<Path> children = Files.list(dir)) {
            children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(s -> s.matches("[1-9][0-9]{0,17}"))
                    .forEach(s -> versions.add(Long.parseLong(s)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return versions;
    }

    public Path root() {
        return root;
    }

    /** Every model folder, usable or not, by name. */
    public List<ModelEntry> models() {
        return List.copyOf(models.values());
    }

    public Optional<ModelEntry> find(String name) {
        return Optional.ofNullable(models.get(name));
    }

    /**
     * The model at a version; an empty version means the highest.
     *
     * @param field request field of the model reference, named in errors (e.g. "model")
     * @throws InvalidArgumentException for an empty name or a malformed version
     * @throws NotFoundException for an unknown name or version
     * @throws FailedPreconditionException for a model whose files are broken
     */
    public ResolvedModel resolve(String name, String version, String field) {
        // "The latest" should include a version another process registered meanwhile (a labeller
        // trained again): a scan older than a few seconds is refreshed first.
        // One caller rescans; the others go on with the scan they have.
        long seen = lastScan.get();
        long now = System.nanoTime();
        if ((version == null || version.isEmpty())
                && now - seen > LATEST_MAX_AGE_NANOS
                && lastScan.compareAndSet(seen, now)) {
            rescan();
        }
        try {
            return resolveKnown(name, version, field);
        } catch (NotFoundException e) {
            synchronized (implicitScan) {
                // Callers that missed together (a labeller service labels two batches at once) wait
                // for one scan and look again, rather than each but the first failing its job.
                try {
                    return resolveKnown(name, version, field);
                } catch (NotFoundException again) {
                    // At most one implicit scan a second, so a stream of bad names cannot keep the
                    // disk busy.
                    long missed = System.nanoTime();
                    if (missed - lastImplicitScan < 1_000_000_000L) {
                        throw again;
                    }
                    lastImplicitScan = missed;
                    rescan();
                }
            }
            return resolveKnown(name, version, field);
        }
    }

    private ResolvedModel resolveKnown(String name, String version, String field) {
        Map<String, ModelEntry> models = this.models;
        if (name == null || name.isEmpty()) {
            throw new InvalidArgumentException(field + ".name", "must name a model of the repository");
        }
        ModelEntry entry = models.get(name);
        if (entry == null) {
            throw new NotFoundException(field + ": model '" + name + "' is not in the model repository ("
                    + (models.isEmpty()
                            ? "it holds no models"
                            : models.size() + " models: " + String.join(", ", models.keySet()))
                    + ")");
        }
        if (!entry.usable()) {
            throw new FailedPreconditionException(field + ": model '" + name + "' is unavailable: "
                    + entry.problem().orElseThrow());
        }
        if (version == null || version.isEmpty()) {
            return new ResolvedModel(entry, entry.versions().last());
        }
        long v;
        try {
            v = Long.parseLong(version);
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(
                    field + ".version", "must be a positive integer or empty, got '" + version + "'");
        }
        if (!entry.versions().contains(v)) {
            throw new NotFoundException(field + ".version: model '" + name + "' has no version " + version
                    + " (versions: " + entry.versions() + ")");
        }
        return new ResolvedModel(entry, v);
    }
}
