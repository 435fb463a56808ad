package dev.genaug.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Small helpers of the commands that run processes on this machine. */
final class LocalProcesses {
    private LocalProcesses() {}

    /** A TCP port that is free right now. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs {@code action} with standard output muted (the broker's storage formatter prints to it). */
    static <T> T quietly(Callable<T> action) throws Exception {
        PrintStream original = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return action.call();
        } finally {
            System.setOut(original);
        }
    }

    /**
     * A memory figure of a process from /proc (Linux) in MiB: {@code "VmRSS"} for resident memory
     * now, {@code "VmHWM"} for its peak. -1 when unknown.
     */
    static long memoryMiB(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** CPU time a process has used so far (user and system, all threads), in seconds; -1 when unknown. */
    static double cpuSeconds(long pid) {
        return ProcessHandle.of(pid)
                .flatMap(p -> p.info().totalCpuDuration())
                .map(d -> d.toNanos() / 1e9)
                .orElse(-1.0);
    }
}
