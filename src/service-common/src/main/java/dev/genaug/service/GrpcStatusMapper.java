package dev.genaug.service;

import dev.genaug.domain.error.CancelledException;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.NotFoundException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.error.UnavailableException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import org.jboss.logging.Logger;

/**
 * The one place where failures become gRPC statuses. Domain exceptions map to their canonical
 * code with their message; gRPC statuses pass through; anything else is a bug and becomes INTERNAL
 * with a generic message (the details go to the log, not to the caller).
 */
public final class GrpcStatusMapper {
    private static final Logger LOG = Logger.getLogger(GrpcStatusMapper.class);

    private GrpcStatusMapper() {}

    public static Status toStatus(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof StatusRuntimeException sre) {
            return sre.getStatus();
        }
        if (cause instanceof StatusException se) {
            return se.getStatus();
        }
        if (cause instanceof GenaugException g) {
            Status code = switch (g) {
                case InvalidArgumentException e -> Status.INVALID_ARGUMENT;
                case NotFoundException e -> Status.NOT_FOUND;
                case ResourceExhaustedException e -> Status.RESOURCE_EXHAUSTED;
                case UnavailableException e -> Status.UNAVAILABLE;
                case FailedPreconditionException e -> Status.FAILED_PRECONDITION;
                case CapabilityMissingException e -> Status.UNIMPLEMENTED;
                case CancelledException e -> Status.CANCELLED;
            };
            return code.withDescription(g.getMessage());
        }
        LOG.error("unexpected failure while serving a call", cause);
        return Status.INTERNAL.withDescription(
                "internal error: " + cause.getClass().getSimpleName() + " (see the service log)");
    }

    public static StatusRuntimeException toException(Throwable t) {
        return toStatus(t).asRuntimeException();
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.util.concurrent.CompletionException
                        || c instanceof java.util.concurrent.ExecutionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
