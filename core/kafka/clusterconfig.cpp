#include "core/kafka/clusterconfig.h"

#include <algorithm>
#include <cctype>

namespace studio::core {

namespace {

std::string upper(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

bool validBootstrap(std::string_view list)
{
    if (list.empty())
        return false;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string_view entry = list.substr(start, comma - start);
        const std::size_t colon = entry.rfind(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 >= entry.size())
            return false;
        const std::string_view port = entry.substr(colon + 1);
        if (port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        const int p = std::stoi(std::string(port));
        if (p < 1 || p > 65535)
            return false;
        start = comma + 1;
    }
    return true;
}

} // namespace

std::string_view toString(SecurityProtocol protocol)
{
    switch (protocol) {
    case SecurityProtocol::Plaintext:
        return "plaintext";
    case SecurityProtocol::Ssl:
        return "ssl";
    case SecurityProtocol::SaslPlaintext:
        return "sasl_plaintext";
    case SecurityProtocol::SaslSsl:
        return "sasl_ssl";
    }
    return "plaintext";
}

std::optional<SecurityProtocol> parseSecurityProtocol(std::string_view text)
{
    const std::string u = upper(text);
    if (u == "PLAINTEXT")
        return SecurityProtocol::Plaintext;
    if (u == "SSL")
        return SecurityProtocol::Ssl;
    if (u == "SASL_PLAINTEXT")
        return SecurityProtocol::SaslPlaintext;
    if (u == "SASL_SSL")
        return SecurityProtocol::SaslSsl;
    return std::nullopt;
}

bool ClusterConfig::usesSasl() const
{
    return security == SecurityProtocol::SaslPlaintext || security == SecurityProtocol::SaslSsl;
}

bool ClusterConfig::usesTls() const
{
    return security == SecurityProtocol::Ssl || security == SecurityProtocol::SaslSsl;
}

std::string ClusterConfig::validate() const
{
    if (!validBootstrap(bootstrap))
        return "bootstrap servers must be a comma-separated list of HOST:PORT, got '" + bootstrap +
               "'";
    if (usesSasl()) {
        const std::string mech = upper(saslMechanism);
        if (mech != "PLAIN" && mech != "SCRAM-SHA-256" && mech != "SCRAM-SHA-512")
            return "SASL mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got '" +
                   saslMechanism + "'";
        if (saslUsername.empty())
            return "SASL needs a username";
        if (saslPassword.empty())
            return std::string("SASL needs a password (from the keychain, the prompt or ") +
                   kSaslPasswordEnv + ")";
    }
    if (!sslCertificateLocation.empty() != !sslKeyLocation.empty())
        return "a TLS client certificate needs its key, and a key its certificate";
    if (!usesTls() && (!sslCaLocation.empty() || !sslCertificateLocation.empty()))
        return "TLS files were given but the security protocol is " +
               std::string(toString(security)) + " (use ssl or sasl_ssl)";
    for (const auto &[key, value] : extra) {
        if (key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
            key == "sasl.jaas.config")
            return "secrets are not accepted as extra properties ('" + key + "')";
    }
    return {};
}

std::vector<std::pair<std::string, std::string>> ClusterConfig::clientProperties() const
{
    std::vector<std::pair<std::string, std::string>> props;
    props.emplace_back("bootstrap.servers", bootstrap);
    props.emplace_back("security.protocol", std::string(toString(security)));
    if (usesSasl()) {
        props.emplace_back("sasl.mechanisms", upper(saslMechanism));
        props.emplace_back("sasl.username", saslUsername);
        props.emplace_back("sasl.password", saslPassword);
    }
    if (usesTls()) {
        if (!sslCaLocation.empty())
            props.emplace_back("ssl.ca.location", sslCaLocation);
        if (!sslCertificateLocation.empty())
            props.emplace_back("ssl.certificate.location", sslCertificateLocation);
        if (!sslKeyLocation.empty())
            props.emplace_back("ssl.key.location", sslKeyLocation);
        if (!sslKeyPassword.empty())
            props.emplace_back("ssl.key.password", sslKeyPassword);
        props.emplace_back("ssl.endpoint.identification.algorithm",
                           sslVerifyHostname ? "https" : "none");
    }
    for (const auto &kv : extra)
        props.emplace_back(kv);
    return props;
}

std::string ClusterConfig::describe() const
{
    std::string s = (name.empty() || name == bootstrap ? std::string() : name + " ") + "(" +
                    bootstrap + ", " + std::string(toString(security));
    if (usesSasl())
        s += ", " + upper(saslMechanism) + " as " + saslUsername +
             (saslPassword.empty() ? ", no password" : ", password set");
    if (usesTls())
        s += sslCaLocation.empty() ? ", system CAs" : ", CA " + sslCaLocation;
    return s + ")";
}

std::string ClusterConfig::brief() const
{
    std::string first = bootstrap.substr(0, bootstrap.find(','));
    const auto more = static_cast<int>(std::count(bootstrap.begin(), bootstrap.end(), ','));
    if (more > 0)
        first += " +" + std::to_string(more);
    return (name.empty() || name == bootstrap ? std::string() : name + " ") + "(" + first + ", " +
           std::string(toString(security)) + ")";
}

} // namespace studio::core
