#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace studio::core {

enum class SecurityProtocol { Plaintext, Ssl, SaslPlaintext, SaslSsl };

std::string_view toString(SecurityProtocol protocol);
/// Accepts librdkafka's spellings, case-insensitively ("sasl_ssl", "SASL_SSL", ...).
std::optional<SecurityProtocol> parseSecurityProtocol(std::string_view text);

/// How to reach one Kafka cluster: the embedded broker's bootstrap, or a real cluster with SASL
/// (PLAIN, SCRAM-SHA-256/512) and TLS. Secrets (SASL password, TLS key password) are held only in
/// memory: describe() redacts them and nothing here writes them anywhere.
struct ClusterConfig
{
    std::string name = "embedded";
    std::string bootstrap;
    SecurityProtocol security = SecurityProtocol::Plaintext;
    std::string saslMechanism = "PLAIN";
    std::string saslUsername;
    std::string saslPassword;
    std::string sslCaLocation;
    std::string sslCertificateLocation;
    std::string sslKeyLocation;
    std::string sslKeyPassword;
    bool sslVerifyHostname = true;
    /// Further librdkafka properties (never secrets) for what this struct does not name.
    std::map<std::string, std::string> extra;

    bool usesSasl() const;
    bool usesTls() const;

    /// Empty when the config can be used, else a message naming what is wrong.
    std::string validate() const;

    /// librdkafka client properties, secrets included: hand them to rd_kafka_conf_set only.
    std::vector<std::pair<std::string, std::string>> clientProperties() const;

    /// A one-line description with secrets redacted, for logs and the UI.
    std::string describe() const;
    /// A short form for a status line: the name, the first bootstrap address (and how many more)
    /// and the protocol, "cluster (127.0.0.1:9093 +2, sasl_ssl)". No secret, no CA path.
    std::string brief() const;
};

/// Names of the environment variables a headless run reads secrets from (never from arguments).
inline constexpr const char *kSaslPasswordEnv = "CLICKSTREAM_SASL_PASSWORD";
inline constexpr const char *kSslKeyPasswordEnv = "CLICKSTREAM_SSL_KEY_PASSWORD";

} // namespace studio::core
