/*
 * Server.java - the app for exercise 03: a tiny HTTP service written with the
 * JDK's own com.sun.net.httpserver (no Maven, no Gradle, no third-party jars,
 * so the build never needs the network).
 *
 *     GET /         -> 200 {"message":"Hello from a thin image!","hostname":"..."}
 *     GET /healthz  -> 200 ok
 *
 * It listens on :8080 (override with the PORT environment variable) and stops
 * cleanly on SIGTERM, which is what `docker stop` sends: the JVM runs the
 * shutdown hook below, which lets requests in flight finish.
 *
 * javac turns it into class files once, at build time. Running them needs
 * only a Java runtime (the JRE), not the compiler and tools of the JDK.
 */
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public class Server {

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));

        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);

        // Liveness probe: plain text, so `curl` and health checks are easy to read.
        server.createContext("/healthz", exchange ->
                reply(exchange, 200, "text/plain; charset=utf-8", "ok\n"));

        // A context matches every path that starts with it, so answer 404 for
        // anything but "/" itself.
        server.createContext("/", exchange -> {
            if (!exchange.getRequestURI().getPath().equals("/")) {
                reply(exchange, 404, "text/plain; charset=utf-8", "404 page not found\n");
                return;
            }
            // In a container the hostname is the container's short id.
            String host = InetAddress.getLocalHost().getHostName();
            reply(exchange, 200, "application/json",
                    "{\"hostname\":\"" + host + "\",\"message\":\"Hello from a thin image!\"}\n");
        });

        // docker stop sends SIGTERM; the JVM then runs its shutdown hooks.
        // Give requests in flight up to 1 second, well inside docker stop's
        // default 10 s grace period. (Java 17's HttpServer waits out the whole
        // second even when no request is in flight.)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down");
            server.stop(1);
        }));

        server.start();
        System.err.println("listening on :" + port + " (Java " + Runtime.version() + ")");
    }

    private static void reply(HttpExchange exchange, int status, String type, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
