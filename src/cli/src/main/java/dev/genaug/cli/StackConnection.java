package dev.genaug.cli;

import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.ListJobsRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway to talk to: the one answering at an address, or, when none does, an embedded stack
 * started for this command (the services it needs) and stopped when the connection closes.
 */
final class StackConnection implements AutoCloseable {
    private final String address;
    private final LocalStack stack;
    private final ManagedChannel channel;

    private StackConnection(String address, LocalStack stack) {
        this.address = address;
        this.stack = stack;
        this.channel = ManagedChannelBuilder.forTarget(address)
                .usePlaintext()
                .maxInboundMessageSize(256 << 20)
                .build();
    }

    /**
     * @param services the services to start when nothing answers (the gateway among them)
     * @param log where to say what happens (a stack being started)
     */
    static StackConnection open(String address, List<String> services, Path models, String command, PrintStream log)
            throws Exception {
        if (answers(address)) {
            return new StackConnection(address, null);
        }
        long t = System.nanoTime();
        log.printf("genaug %s: no stack answers at %s; starting the embedded one...%n", command, address);
        LocalStack stack = LocalStack.startKafka(
                LocalStack.root(),
                new LocalStack.Options(
                        null, models, null, 0, 0, LocalStack.Options.defaults().readyTimeout(), List.of()),
                new PrintStream(OutputStream.nullOutputStream()));
        try {
            List<ServiceProcess> started = stack.start(ServiceSpec.ALL.stream()
                    .filter(s -> services.contains(s.name()))
                    .toList());
            log.printf(
                    "genaug %s: embedded stack up in %.1f s (%d services, logs in %s)%n",
                    command,
                    LocalStack.seconds(t),
                    started.size(),
                    stack.relative(started.getFirst().log().getParent()));
            return new StackConnection("localhost:" + stack.instance("gateway").port(), stack);
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }

    ManagedChannel channel() {
        return channel;
    }

    String address() {
        return address;
    }

    /** Whether a gateway answers at the address (2 s). */
    static boolean answers(String address) throws InterruptedException {
        ManagedChannel probe =
                ManagedChannelBuilder.forTarget(address).usePlaintext().build();
        try {
            DatasetServiceGrpc.newBlockingStub(probe)
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .listJobs(ListJobsRequest.newBuilder().setLimit(1).build());
            return true;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode() != Status.Code.UNAVAILABLE
                    && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED;
        } finally {
            probe.shutdownNow();
            probe.awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        if (stack != null) {
            stack.close();
        }
    }
}
