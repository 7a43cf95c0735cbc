package io.dualpipe.examples;

import io.dualpipe.core.EventLoop;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.pool.ChildPool;
import io.dualpipe.pool.PoolRequestTimeoutException;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * An async HTTP service on Vert.x that answers each request from a {@link ChildPool} of
 * long-running children: {@code GET /calc?q=6*7} → {@code 42}, from one of N {@code bc -q}. No
 * thread blocks: the request handler submits the query and chains the response on the pool's
 * future, which completes on the server's own Vert.x context ({@code completeOn}).
 *
 * <p>What the pool makes safe: a query the child never answers (bc prints nothing for {@code x=5},
 * nor for {@code 1/0}) fails with 504 and its child is replaced, so no later reply is ever paired
 * with the wrong request; a child that dies fails its request with 503 and is replaced; a full
 * queue is 503 at once, never an unbounded backlog.
 *
 * <pre>
 * mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.ChildPoolHttpService -Dargs=8080
 * curl 'localhost:8080/calc?q=6*7'
 * </pre>
 */
public final class ChildPoolHttpService implements AutoCloseable {
    /** What bc is given: arithmetic only, so a query can never be a bc command ({@code quit}, {@code define}). */
    private static final Pattern QUERY = Pattern.compile("[0-9+\\-*/%^(). ]{1,200}");

    private final Vertx vertx;
    private final HttpServer server;

    private ChildPoolHttpService(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /**
     * Serves {@code pool} on {@code port} (0: any free port) of 127.0.0.1 from {@code context}; the pool
     * should complete its futures on that context ({@link #poolOn}).
     */
    public static CompletableFuture<ChildPoolHttpService> start(Vertx vertx, Context context, ChildPool<String, String> pool,
                                                                int port) {
        CompletableFuture<ChildPoolHttpService> started = new CompletableFuture<>();
        context.runOnContext(v -> vertx.createHttpServer()
                .requestHandler(req -> handle(pool, req))
                .listen(port, "127.0.0.1")
                .onSuccess(server -> started.complete(new ChildPoolHttpService(vertx, server)))
                .onFailure(started::completeExceptionally));
        return started;
    }

    /** A pool of {@code children} {@code bc -q} whose futures complete on {@code context}. */
    public static ChildPool<String, String> poolOn(Context context, EventLoop loop, int children) {
        return ChildPool.lines(ChildProcess.builder("bc", "-q")
                        .environment("BC_LINE_LENGTH", "0") // one line per answer, however long
                        .loop(loop))
                .children(children)
                .requestTimeout(Duration.ofSeconds(2))
                .warmUp("1+1", "2"::equals)
                .maxQueued(1024)
                .completeOn(task -> context.runOnContext(v -> task.run()))
                .start();
    }

    private static void handle(ChildPool<String, String> pool, HttpServerRequest req) {
        String q = req.getParam("q");
        if (!req.path().equals("/calc") || q == null || !QUERY.matcher(q).matches()) {
            req.response().setStatusCode(400).end("GET /calc?q=EXPR, EXPR of digits and + - * / % ^ ( ) . only\n");
            return;
        }
        pool.submit(q).whenComplete((answer, error) -> {
            if (error == null) {
                req.response().putHeader("content-type", "text/plain").end(answer + "\n");
            } else {
                Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                req.response().setStatusCode(status(e)).end(e.getClass().getSimpleName() + ": " + e.getMessage() + "\n");
            }
        });
    }

    /** 504 when no answer came in time, 503 when the pool cannot answer now (retry later), 500 otherwise. */
    static int status(Throwable e) {
        if (e instanceof PoolRequestTimeoutException) {
            return 504;
        }
        if (e instanceof ChildExitedException || e instanceof BreakerOpenException || e instanceof PoolSaturatedException
                || e instanceof PoolShutdownException) {
            return 503;
        }
        return 500;
    }

    public int port() {
        return server.actualPort();
    }

    /** Stops the HTTP server (the pool and loop belong to the caller). */
    @Override
    public void close() {
        try {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("closing the HTTP server", e);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        Vertx vertx = Vertx.vertx();
        Context context = vertx.getOrCreateContext();
        try (EventLoop loop = EventLoop.create("children")) {
            ChildPool<String, String> pool = poolOn(context, loop, 4);
            ChildPoolHttpService service = start(vertx, context, pool, port).get(10, TimeUnit.SECONDS);
            System.out.println("listening on http://127.0.0.1:" + service.port() + "/calc?q=6*7 with 4 bc children; Ctrl-C stops");
            CompletableFuture<Void> stop = new CompletableFuture<>();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.complete(null)));
            stop.get();
            service.close();
            pool.shutdown(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close();
        }
    }
}
