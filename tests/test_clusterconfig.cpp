#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace studio::core;

namespace {

std::string property(const ClusterConfig &c, const std::string &key)
{
    for (const auto &[k, v] : c.clientProperties()) {
        if (k == key)
            return v;
    }
    return "<unset>";
}

ClusterConfig saslSsl()
{
    ClusterConfig c;
    c.name = "prod";
    c.bootstrap = "kafka-1.example.com:9093,kafka-2.example.com:9093";
    c.security = SecurityProtocol::SaslSsl;
    c.saslMechanism = "scram-sha-512";
    c.saslUsername = "alice";
    c.saslPassword = "s3cr3t-Pa55";
    c.sslCaLocation = "/etc/ssl/kafka-ca.pem";
    return c;
}

} // namespace

TEST_CASE("a real cluster with SASL/SCRAM over TLS maps to librdkafka properties", "[config]")
{
    const ClusterConfig c = saslSsl();
    REQUIRE(c.validate().empty());
    CHECK(property(c, "bootstrap.servers") == c.bootstrap);
    CHECK(property(c, "security.protocol") == "sasl_ssl");
    CHECK(property(c, "sasl.mechanisms") == "SCRAM-SHA-512");
    CHECK(property(c, "sasl.username") == "alice");
    CHECK(property(c, "sasl.password") == "s3cr3t-Pa55");
    CHECK(property(c, "ssl.ca.location") == "/etc/ssl/kafka-ca.pem");
    CHECK(property(c, "ssl.endpoint.identification.algorithm") == "https");

    // librdkafka accepts every property we produce (it is built with SASL and TLS support).
    std::string error;
    auto conf = makeKafkaConf(c, {}, &error);
    INFO(error);
    CHECK(conf);
}

TEST_CASE("a cluster's brief description fits a status line: first address, how many more, "
          "protocol",
          "[config]")
{
    // The status bar showed describe() whole (CA path included) and squeezed every other field.
    ClusterConfig c = saslSsl();
    CHECK(c.brief() == "prod (kafka-1.example.com:9093 +1, sasl_ssl)");
    CHECK(c.brief().find("s3cr3t") == std::string::npos);
    c.bootstrap = "127.0.0.1:9092";
    c.name = c.bootstrap;
    c.security = SecurityProtocol::Plaintext;
    CHECK(c.brief() == "(127.0.0.1:9092, plaintext)");
}

TEST_CASE("secrets never appear in descriptions or error messages", "[config][secrets]")
{
    ClusterConfig c = saslSsl();
    CHECK(c.describe().find("s3cr3t") == std::string::npos);
    CHECK(c.describe().find("password set") != std::string::npos);
    // A property librdkafka rejects is named, its value is not echoed.
    c.extra["sasl.kerberos.service.name"] = "kafka";
    std::string error;
    auto conf = makeKafkaConf(c, {{"linger.ms", "not-a-number"}}, &error);
    CHECK_FALSE(conf);
    CHECK(error.find("linger.ms") != std::string::npos);
    CHECK(error.find("s3cr3t") == std::string::npos);
}

TEST_CASE("cluster configs that cannot work are refused with a reason", "[config]")
{
    ClusterConfig c = saslSsl();
    c.saslPassword.clear();
    CHECK(c.validate().find("password") != std::string::npos);

    c = saslSsl();
    c.saslUsername.clear();
    CHECK(c.validate().find("username") != std::string::npos);

    c = saslSsl();
    c.saslMechanism = "GSSAPI";
    CHECK(c.validate().find("mechanism") != std::string::npos);

    for (const char *bad :
         {"", "localhost", "host:", ":9092", "host:99999", "host:9092,", "a:1,b"}) {
        c = saslSsl();
        c.bootstrap = bad;
        INFO(bad);
        CHECK(c.validate().find("bootstrap") != std::string::npos);
    }

    c = saslSsl();
    c.security = SecurityProtocol::SaslPlaintext;
    CHECK(c.validate().find("TLS files") != std::string::npos);

    c = saslSsl();
    c.sslCertificateLocation = "client.pem";
    CHECK(c.validate().find("key") != std::string::npos);

    c = saslSsl();
    c.extra["sasl.password"] = "x";
    CHECK(c.validate().find("secrets") != std::string::npos);
}

TEST_CASE("security protocols parse in librdkafka's spellings", "[config]")
{
    CHECK(parseSecurityProtocol("SASL_SSL") == SecurityProtocol::SaslSsl);
    CHECK(parseSecurityProtocol("sasl_plaintext") == SecurityProtocol::SaslPlaintext);
    CHECK(parseSecurityProtocol("ssl") == SecurityProtocol::Ssl);
    CHECK(parseSecurityProtocol("PLAINTEXT") == SecurityProtocol::Plaintext);
    CHECK_FALSE(parseSecurityProtocol("tls"));
    ClusterConfig plain;
    plain.bootstrap = "localhost:9092";
    CHECK(plain.validate().empty());
    CHECK(property(plain, "sasl.password") == "<unset>");
}
