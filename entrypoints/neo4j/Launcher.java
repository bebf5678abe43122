/*
 * Runs Neo4j Community embedded, for local development and the test harness.
 *
 *     java -cp 'lib/*' Launcher DATA_DIR BOLT_PORT
 *
 * DATA_DIR becomes the Neo4j home: the store goes to DATA_DIR/data and Neo4j's logs to
 * DATA_DIR/logs. Bolt listens on 127.0.0.1:BOLT_PORT without TLS or authentication;
 * HTTP is off. SIGTERM (or SIGINT) shuts the databases down cleanly through a shutdown
 * hook. "neo4j ready on bolt://127.0.0.1:PORT" is printed once the default database is
 * available; a failed start prints the stack trace and exits with code 1.
 */

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

public final class Launcher {
    private static final String HOST = "127.0.0.1";
    private static final long READY_TIMEOUT_MS = TimeUnit.MINUTES.toMillis(2);

    private Launcher() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: Launcher DATA_DIR BOLT_PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        try {
            run(home, port);
        } catch (Throwable error) {
            // Neo4j may have started non-daemon threads already: leave explicitly.
            error.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(Path home, int port) throws InterruptedException {
        DatabaseManagementService service = build(home, port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("neo4j shutting down");
            service.shutdown();
            System.out.println("neo4j stopped");
            stopped.countDown();
        }, "neo4j-shutdown"));

        String name = GraphDatabaseSettings.DEFAULT_DATABASE_NAME;
        if (!service.database(name).isAvailable(READY_TIMEOUT_MS)) {
            throw new IllegalStateException("database " + name + " did not start");
        }
        System.out.println("neo4j ready on bolt://" + HOST + ":" + port);
        System.out.flush();
        stopped.await();
    }

    private static DatabaseManagementService build(Path home, int port) {
        SocketAddress bolt = new SocketAddress(HOST, port);
        return new DatabaseManagementServiceBuilder(home)
                .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level,
                        BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.filewatcher_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, mebibytes(64))
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size,
                        mebibytes(256))
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size,
                        mebibytes(128))
                // Open transactions are rolled back after 3 s instead of 10 s, well
                // within the time the Python side allows a stop.
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout,
                        Duration.ofSeconds(3))
                // Preallocated 256 MB transaction log files waste disk in throwaway
                // homes such as the test suite's.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // Netty otherwise idles 5 s per event loop group when Bolt stops,
                // after the databases are already closed.
                .setConfig(GraphDatabaseInternalSettings
                        .netty_server_shutdown_quiet_period, 0)
                .build();
    }

    private static long mebibytes(long count) {
        return ByteUnit.mebiBytes(count);
    }
}
