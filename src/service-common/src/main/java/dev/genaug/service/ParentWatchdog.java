package dev.genaug.service;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * When a launcher ({@code genaug up}) starts this service, it passes its pid; if the launcher
 * dies, even without running its shutdown hooks, the service shuts down instead of lingering.
 */
@ApplicationScoped
public class ParentWatchdog {
    private static final Logger LOG = Logger.getLogger(ParentWatchdog.class);

    @ConfigProperty(name = "genaug.parent-pid")
    Optional<Long> parentPid;

    void onStart(@Observes StartupEvent event) {
        parentPid
                .flatMap(ProcessHandle::of)
                .ifPresent(parent -> parent.onExit().thenRun(() -> {
                    LOG.warnf("launcher process %d has exited: shutting down", parent.pid());
                    Quarkus.asyncExit(0);
                }));
        parentPid.filter(pid -> ProcessHandle.of(pid).isEmpty()).ifPresent(pid -> {
            LOG.warnf("launcher process %d is already gone: shutting down", pid);
            Quarkus.asyncExit(0);
        });
    }
}
