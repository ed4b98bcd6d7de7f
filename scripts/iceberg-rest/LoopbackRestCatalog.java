import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * The Iceberg project's REST catalog servlet (what RESTCatalogServer serves)
 * bound to 127.0.0.1 on an ephemeral port: RESTCatalogServer itself listens on
 * every interface at a fixed port. Catalog properties come from CATALOG_*
 * variables as in RESTCatalogServer (CATALOG_S3_PATH__STYLE__ACCESS ->
 * s3.path-style-access). Prints "listening <port>" once it accepts requests.
 */
public final class LoopbackRestCatalog {
  public static void main(String[] args) throws Exception {
    Map<String, String> props = new HashMap<>();
    System.getenv().forEach((name, value) -> {
      if (name.startsWith("CATALOG_")) {
        String key = name.substring("CATALOG_".length()).replace("__", "-").replace("_", ".").toLowerCase(Locale.ROOT);
        props.put(key, value);
      }
    });
    props.putIfAbsent("catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog");
    props.putIfAbsent("uri", "jdbc:sqlite::memory:");
    props.putIfAbsent("jdbc.schema-version", "V1");
    Catalog catalog = CatalogUtil.buildIcebergCatalog("rest_backend", props, null);

    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(Integer.parseInt(System.getenv().getOrDefault("REST_PORT", "0")));
    server.addConnector(connector);
    server.setHandler(context);
    server.start();
    System.out.println("listening " + connector.getLocalPort());
    System.out.flush();
    server.join();
  }
}
